"""The outbound address guard, judged by its own resolve-and-check function with name resolution faked:
nothing here opens a connection or asks a real resolver."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songy.adapters.webhook_address_guard import AddressGuard, embedded_ipv4, is_public
from songy.ports.events import WebhookSendError

# names a fake resolver answers for, each standing for a DNS answer an attacker could arrange
DNS = {
    "public.example": ["93.184.216.34"],
    "public6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "both-public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "loopback.example": ["127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "shared-metadata.example": ["100.100.100.200"],
    "one-private-of-two.example": ["93.184.216.34", "10.0.0.7"],
    "private-second-v6.example": ["2606:2800:220:1:248:1893:25c8:1946", "fd00::1"],
    "sixtofour-private.example": ["2002:a9fe:a9fe::1"],
    "nat64-loopback.example": ["64:ff9b::7f00:1"],
    "mapped-private.example": ["::ffff:192.168.1.1"],
    "scoped-link-local.example": ["fe80::1%eth0"],
    "nothing.example": [],
}

REFUSED = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "0.0.0.0",  # unspecified
    "0.1.2.3",  # "this network"
    "10.1.2.3",  # private
    "172.16.5.4",
    "192.168.0.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "100.100.100.200",  # shared address space: a cloud's metadata service
    "100.127.255.254",
    "192.0.0.9",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.251",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "::",  # unspecified
    "::1",  # loopback
    "fe80::1",  # link-local
    "fe80::1%eth0",  # link-local with a zone
    "fc00::1",  # unique local
    "fd12:3456:789a::1",
    "fec0::1",  # site-local (deprecated, still routed by some stacks)
    "ff02::1",  # multicast
    "ff0e::1",  # global-scope multicast
    "2001:db8::1",  # documentation
    "3fff::1",  # documentation (RFC 9637)
    "100::1",  # discard-only
    "5f00::1",  # SRv6 segment identifiers
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",  # IPv4-mapped metadata
    "::ffff:0:10.0.0.1",  # IPv4-translated private
    "::127.0.0.1",  # IPv4-compatible loopback
    "::10.0.0.1",  # IPv4-compatible private
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:6440:1::",  # 6to4 of 100.64.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
    "64:ff9b:1::5db8:d822",  # local-use NAT64 (even of a public address)
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "2001:0:a00:1:8000:63bf:3fff:fdd2",  # Teredo, server 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]
ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:2800:220:1:248:1893:25c8:1946",
    "2a00:1450:4001:80b::200e",
    "::ffff:93.184.216.34",  # IPv4-mapped public
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34 (how an IPv6-only host reaches it)
    "2001:0:4136:e378:8000:63bf:a247:2bdd",  # Teredo, server 65.54.227.120, client 93.184.212.34
]
NAMES_REFUSED = sorted(n for n, a in DNS.items() if not n.startswith(("public", "both")))
NAMES_ALLOWED = ["public.example", "public6.example", "both-public.example"]


class FakeDns:
    """Answers from :data:`DNS`, remembering what it was asked; an unknown name fails as a resolver would."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in DNS:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return DNS[host]


def guard(*, allow_private: bool = False) -> tuple[AddressGuard, FakeDns]:
    dns = FakeDns()
    return AddressGuard(allow_private=allow_private, resolver=dns), dns


def test_the_table_is_big_enough() -> None:
    assert len(REFUSED) + len(NAMES_REFUSED) >= 25 and len(ALLOWED) >= 5


@pytest.mark.parametrize("address", REFUSED)
async def test_a_non_public_address_is_refused(address: str) -> None:
    checked, dns = guard()
    with pytest.raises(WebhookSendError, match="non-public"):
        await checked.resolve(address, 443)
    with pytest.raises(WebhookSendError, match="non-public"):
        await checked.resolve(f"[{address}]", 443)  # as a URL carries an IPv6 host
    assert dns.asked == []  # a literal address is judged as it is, never looked up


@pytest.mark.parametrize("address", ALLOWED)
async def test_a_public_address_is_used_as_it_is(address: str) -> None:
    checked, _ = guard()
    assert await checked.resolve(address, 443) == str(ipaddress.ip_address(address))


@pytest.mark.parametrize("name", NAMES_REFUSED)
async def test_a_name_resolving_to_any_non_public_address_is_refused(name: str) -> None:
    checked, dns = guard()
    with pytest.raises(WebhookSendError, match=r"non-public|cannot resolve"):
        await checked.resolve(name, 443)
    assert dns.asked == [name]


@pytest.mark.parametrize("name", NAMES_ALLOWED)
async def test_a_name_resolving_only_to_public_addresses_gives_the_checked_address(name: str) -> None:
    checked, _ = guard()
    assert await checked.resolve(name, 443) == DNS[name][0]


async def test_an_unknown_name_is_a_send_error_with_the_reason() -> None:
    checked, _ = guard()
    with pytest.raises(WebhookSendError, match=r"cannot resolve nowhere\.example"):
        await checked.resolve("nowhere.example", 443)


async def test_dev_mode_lets_private_targets_through() -> None:
    checked, _ = guard(allow_private=True)
    assert await checked.resolve("loopback.example", 80) == "127.0.0.1"
    assert await checked.resolve("::1", 80) == "::1"


def embeddings(v4: ipaddress.IPv4Address) -> dict[str, ipaddress.IPv6Address]:
    """Every IPv6 form that carries ``v4`` (Teredo once as server, once as (obfuscated) client)."""
    n = int(v4)
    public_v4 = int(ipaddress.IPv4Address("93.184.216.34"))
    return {
        "mapped": ipaddress.IPv6Address(0xFFFF << 32 | n),
        "translated": ipaddress.IPv6Address(0xFFFF << 48 | n),
        "compatible": ipaddress.IPv6Address(n),
        "6to4": ipaddress.IPv6Address(0x2002 << 112 | n << 80 | 1),
        "nat64": ipaddress.IPv6Address(0x64FF9B << 96 | n),
        "teredo server": ipaddress.IPv6Address(0x20010000 << 96 | n << 64 | (~public_v4 & 0xFFFFFFFF)),
        "teredo client": ipaddress.IPv6Address(0x20010000 << 96 | public_v4 << 64 | (~n & 0xFFFFFFFF)),
    }


@given(st.ip_addresses(v=4))
def test_an_ipv6_address_carrying_ipv4_is_judged_as_that_ipv4(v4: ipaddress.IPv4Address) -> None:
    for form, v6 in embeddings(v4).items():
        assert is_public(v6) is is_public(v4), (form, str(v6), str(v4))


@given(st.ip_addresses())
def test_only_global_unicast_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    carries_ipv4 = isinstance(ip, ipaddress.IPv6Address) and embedded_ipv4(ip)  # judged by the property above
    if is_public(ip) and not carries_ipv4:
        assert ip.is_global
        assert not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved)
