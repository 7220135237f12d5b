"""https webhooks go to the address that passed the SSRF check, with the name as SNI and Host, and the
certificate is verified against that name: DNS answering differently at connect time changes nothing."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from songy.adapters.webhook_address_guard import AddressGuard
from songy.adapters.webhook_sender import HttpWebhookSender
from songy.adapters.webhook_url import WebhookUrlRules
from songy.ports.events import WebhookSendError

NAME = "hooks.example"  # resolvable nowhere: only the pinned address can reach the server
SECRET = "whsec_" + "A" * 43


def self_signed(name: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TlsReceiver:
    def __init__(self, cert: Path, key: Path) -> None:
        self.received: list[tuple[str, str, bytes]] = []  # (Host header, SNI, body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                sni = getattr(self.connection, "songy_sni", "")
                receiver.received.append((self.headers["host"], sni, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        def remember_sni(sock: ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
            sock.songy_sni = server_name or ""  # type: ignore[attr-defined]

        context.sni_callback = remember_sni
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def certs(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    return {name: self_signed(name, tmp_path) for name in (NAME, "other.example")}


@pytest.fixture
def receiver(certs: dict[str, tuple[Path, Path]]) -> Iterator[TlsReceiver]:
    r = TlsReceiver(*certs[NAME])
    yield r
    r.server.shutdown()


def sender_trusting(cert: Path) -> HttpWebhookSender:
    async def dns(host: str, port: int) -> list[str]:
        assert host == NAME
        return ["127.0.0.1"]  # what DNS answered when the target was checked

    return HttpWebhookSender(
        urls=WebhookUrlRules(allow_http=True, allow_private=True),
        guard=AddressGuard(allow_private=True, resolver=dns),
        verify=ssl.create_default_context(cafile=str(cert)),
    )


async def test_https_goes_to_the_checked_address_with_the_name_as_sni_and_host(
    receiver: TlsReceiver, certs: dict[str, tuple[Path, Path]]
) -> None:
    sender = sender_trusting(certs[NAME][0])
    url = f"https://{NAME}:{receiver.port}/hooks/songy"
    status = await sender.send(url, SECRET, "msg_1", b'{"ok":true}', dt.datetime.now(dt.UTC))
    await sender.aclose()
    assert status == 204
    assert receiver.received == [(f"{NAME}:{receiver.port}", NAME, b'{"ok":true}')]


async def test_a_certificate_for_another_name_is_refused(certs: dict[str, tuple[Path, Path]]) -> None:
    other = TlsReceiver(*certs["other.example"])
    try:
        sender = sender_trusting(certs["other.example"][0])  # trusts that cert, but not for NAME
        with pytest.raises(WebhookSendError, match=r"(?i)certificate|hostname"):
            await sender.send(f"https://{NAME}:{other.port}/x", SECRET, "msg_2", b"{}", dt.datetime.now(dt.UTC))
        await sender.aclose()
        assert other.received == []
    finally:
        other.server.shutdown()
