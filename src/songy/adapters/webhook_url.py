"""Webhook endpoint URLs, parsed as browsers parse them (WHATWG, by pydantic's ``AnyHttpUrl``, whose core is
the Rust ``url`` crate): one parse serves registration and every delivery, so what was accepted is what is sent
to, and an URL stored before these rules is refused at delivery with a reason instead of crashing it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from pydantic import AnyHttpUrl, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from songy.adapters.webhook_address_guard import is_public
from songy.domain.webhooks import URL_MAX_CHARS, url_shape_problem
from songy.ports.events import WebhookUrlRejected

_HTTP_URL = TypeAdapter(AnyHttpUrl)
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WebhookTarget:
    """Where a delivery goes: ``host`` is a name or a bare address (IPv6 without brackets)."""

    url: str
    scheme: str
    host: str
    port: int
    path_and_query: str

    @property
    def authority(self) -> str:
        """The Host header: the host, and the port when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


class WebhookUrlRules:
    """Accepts absolute http(s) URLs with a host, a port in 1-65535 and no credentials; unless
    ``allow_private`` (dev mode), only https and no literal non-public address or ``localhost`` name.
    A name is not resolved here: where it leads is judged at each delivery, by the address guard."""

    def __init__(self, *, allow_http: bool, allow_private: bool) -> None:
        self.allow_http = allow_http
        self.allow_private = allow_private

    def check(self, url: str) -> str:
        """The URL as it will be delivered to (normalized); raises :class:`WebhookUrlRejected`."""
        return self.target(url).url

    def target(self, url: str) -> WebhookTarget:
        """``url`` parsed into where to deliver; raises :class:`WebhookUrlRejected` with the reason."""
        problem = url_shape_problem(url)
        if problem is not None:
            raise WebhookUrlRejected(problem)
        authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]
        if not authority:
            raise WebhookUrlRejected("must name a host")
        try:
            parsed = _HTTP_URL.validate_python(url)
        except PydanticValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Input should be a valid URL, ")
            if "port" in reason:
                raise WebhookUrlRejected("port must be a number between 1 and 65535") from None
            raise WebhookUrlRejected(f"is not a valid URL: {reason}") from None
        if parsed.username is not None or parsed.password is not None or "@" in authority:
            raise WebhookUrlRejected("must not carry credentials")
        if parsed.scheme != "https" and not self.allow_http:
            raise WebhookUrlRejected("must use https")
        if not parsed.host:
            raise WebhookUrlRejected("must name a host")
        port = parsed.port if parsed.port is not None else DEFAULT_PORTS[parsed.scheme]
        if not 1 <= port <= 65535:
            raise WebhookUrlRejected("port must be a number between 1 and 65535")
        host = parsed.host.removeprefix("[").removesuffix("]")
        if not self.allow_private and _is_internal_host(host):
            raise WebhookUrlRejected("must not point to a loopback, private or reserved address")
        path_and_query = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
        normalized = str(parsed).split("#", 1)[0]
        if len(normalized) > URL_MAX_CHARS:
            raise WebhookUrlRejected(f"must be at most {URL_MAX_CHARS} characters once encoded")
        return WebhookTarget(normalized, parsed.scheme, host, port, path_and_query)


def _is_internal_host(host: str) -> bool:
    """A literal address that is not public, or a name RFC 6761 keeps on loopback."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".").lower()
        return name == "localhost" or name.endswith(".localhost")
    return not is_public(host)
