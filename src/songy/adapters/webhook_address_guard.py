"""Which network addresses webhooks may go to: only globally routable ones, judged after unwrapping IPv4.

An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated
``::ffff:0:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo
``2001::/32`` with its server and client) reaches that IPv4 address, so the IPv4 address is what is judged.
An address is public when ``ipaddress`` calls it global and it is not multicast, reserved or site-local, and it
is not in :data:`NEVER_PUBLIC` (ranges newer Python releases also refuse, listed here so the verdict does not
depend on the patch release). Names are resolved once; every address they resolve to must be public, and the
caller connects to the address that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

from songy.ports.events import WebhookSendError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
NEVER_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # shared address space (carrier-grade NAT; some clouds' metadata service)
        "192.0.0.0/24",  # IETF protocol assignments
        "64:ff9b:1::/48",  # local-use NAT64: where the IPv4 address sits depends on the network
        "2001::/23",  # IETF protocol assignments (Teredo is unwrapped before this applies)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing (SRv6) identifiers
    )
)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses ``ip`` leads to, or ``[]`` when it is a plain IPv6 address."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [server, client]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip in NAT64 or ip in IPV4_TRANSLATED or ip in IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def is_public(address: str | IpAddress) -> bool:
    """Whether a webhook may be sent to ``address`` (any text that is not an address is not public)."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        carried = embedded_ipv4(ip)
        if carried:
            return all(is_public(v4) for v4 in carried)
        if ip.is_site_local:
            return False
    if any(ip.version == net.version and ip in net for net in NEVER_PUBLIC):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AddressGuard:
    """Resolves a webhook's host and checks every address it resolves to (unless ``allow_private``)."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self._resolver = resolver

    async def resolve(self, host: str, port: int) -> str:
        """The address to connect to; raises :class:`WebhookSendError` for a refused or unresolvable target."""
        literal = host.removeprefix("[").removesuffix("]")
        try:
            addresses = [str(ipaddress.ip_address(literal))]
        except ValueError:
            try:
                addresses = await self._resolver(host, port)
            except OSError as exc:
                raise WebhookSendError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise WebhookSendError(f"cannot resolve {host}")
        if not self.allow_private and not all(is_public(a) for a in addresses):
            raise WebhookSendError(f"refusing to deliver to {host}: it resolves to a non-public address")
        return addresses[0]
