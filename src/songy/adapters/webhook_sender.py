"""Outbound webhooks over httpx, signed per the Standard Webhooks spec, refusing internal targets.

The URL is parsed by :class:`WebhookUrlRules` (the same rules as at registration), its host resolved and
judged by :class:`AddressGuard`; the request then goes to the address that was checked, with the original Host
header (and, for https, the name as TLS SNI, against which the certificate is verified), so DNS cannot change
between check and use. Redirects are not followed, proxies from the environment are not used, the answer's body
is never read, and the whole attempt (resolution included) has one deadline. Every failure is a
:class:`WebhookSendError` with the reason.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook

from songy.adapters.webhook_address_guard import AddressGuard
from songy.adapters.webhook_url import WebhookUrlRules
from songy.ports.events import WebhookSendError, WebhookUrlRejected

USER_AGENT = "Songy-Webhooks/1"


class HttpWebhookSender:
    def __init__(
        self,
        *,
        urls: WebhookUrlRules,
        guard: AddressGuard,
        timeout_s: float = 10.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.urls = urls
        self.guard = guard
        self._timeout_s = timeout_s
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, verify=verify, trust_env=False)

    async def resolve(self, host: str, port: int) -> str:
        """The checked address to connect to; raises :class:`WebhookSendError` for a refused target."""
        return await self.guard.resolve(host, port)

    async def send(self, url: str, secret: str, message_id: str, body: bytes, timestamp: datetime) -> int:
        try:
            target = self.urls.target(url)
        except WebhookUrlRejected as exc:
            raise WebhookSendError(f"not a deliverable URL: it {exc}") from exc
        signature = Webhook(secret).sign(message_id, timestamp, body.decode())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
            "host": target.authority,
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            async with asyncio.timeout(self._timeout_s):
                address = await self.resolve(target.host, target.port)
                # connect to the address that was checked; the name travels as Host and, for https, as SNI, so
                # the certificate is still verified against it
                host = f"[{address}]" if ":" in address else address
                request_url = f"{target.scheme}://{host}:{target.port}{target.path_and_query}"
                request = self._client.build_request(
                    "POST", request_url, content=body, headers=headers, extensions=extensions
                )
                response = await self._client.send(request, stream=True)
                await response.aclose()  # the status is the answer; the body is never read
        except TimeoutError as exc:
            raise WebhookSendError(f"no answer within {self._timeout_s:g} s") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise WebhookSendError(f"{exc.__class__.__name__}: {exc}") from exc
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()
