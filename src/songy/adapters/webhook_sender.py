"""Outbound webhooks over httpx, signed per the Standard Webhooks spec, refusing internal targets.

SSRF guard: the host is resolved and every address must be public (no loopback, private, link-local,
multicast, reserved or unspecified ranges) unless ``allow_private`` (dev mode); the request then goes to the
address that was checked, with the original Host header (and, for https, the name as TLS SNI, against which the
certificate is verified), so DNS cannot change between check and use. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks.webhooks import Webhook

from songy.ports.events import WebhookSendError

USER_AGENT = "Songy-Webhooks/1"


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


class HttpWebhookSender:
    def __init__(self, *, allow_private: bool, timeout_s: float = 10.0, verify: ssl.SSLContext | bool = True) -> None:
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, verify=verify)

    async def resolve(self, host: str, port: int) -> str:
        """The address to connect to; raises :class:`WebhookSendError` for a refused target."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise WebhookSendError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise WebhookSendError(f"cannot resolve {host}")
        if not self._allow_private and not all(is_public(a) for a in addresses):
            raise WebhookSendError(f"refusing to deliver to {host}: it resolves to a non-public address")
        return addresses[0]

    async def send(self, url: str, secret: str, message_id: str, body: bytes, timestamp: datetime) -> int:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookSendError(f"not a deliverable URL: {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self.resolve(parts.hostname, port)
        signature = Webhook(secret).sign(message_id, timestamp, body.decode())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
        }
        # connect to the address that was checked; the name travels as Host and, for https, as SNI, so the
        # certificate is still verified against it
        host = f"[{address}]" if ":" in address else address
        target = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
        headers["host"] = parts.netloc
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        try:
            response = await self._client.post(target, content=body, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            raise WebhookSendError(f"{exc.__class__.__name__}: {exc}") from exc
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()
