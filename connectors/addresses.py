"""Which hosts the fetcher may connect to: a guard against server-side request forgery.

A feed or a redirect can point anywhere, including the machine's own services or the cloud
metadata endpoint (169.254.169.254). Rules, applied on every redirect hop:

1. Only http and https URLs.
2. The host is resolved with the event loop's getaddrinfo, and EVERY address it resolves to must
   be public: loopback, private, link-local, multicast, reserved, unspecified and shared
   (100.64/10) addresses are refused, for IPv4 and IPv6, including IPv4 embedded in IPv6
   (IPv4-mapped ::ffff:a.b.c.d, 6to4 2002::/16, Teredo).
3. After connecting, the peer address of the actual connection is checked again (`check_peer`),
   so a DNS answer that changes between our lookup and httpx's (DNS rebinding) is still refused
   before the body is read.

`settings.allow_private_networks` turns rules 2-3 off. `trusted_hosts` exempts exact host names
from them (an intranet feed server you trust; tests serving on 127.0.0.1): the exemption is by
name, so a redirect from a trusted host to another private host is still refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass

import httpx

from connectors.errors import FetchError

__all__ = ["AddressPolicy", "refusal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES = ("http", "https")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598): not global


def refusal(address: IPAddress) -> str | None:
    """Why `address` must not be fetched from ("loopback", "private", …), or None if it is public."""
    if (embedded := _embedded(address)) is not None:
        return refusal(embedded)
    for label, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return label
    if address in _SHARED or not address.is_global:
        return "non-public"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """The guard for one fetch batch: built from settings, plus hosts exempt by name."""

    allow_private: bool = False
    trusted_hosts: Collection[str] = frozenset()

    def exempt(self, host: str) -> bool:
        """Whether `host` skips the address check."""
        return self.allow_private or host.lower() in {h.lower() for h in self.trusted_hosts}

    async def check_url(self, url: httpx.URL) -> None:
        """Raise FetchError("blocked") unless `url` is http(s) and every address of its host is public."""
        if url.scheme not in _SCHEMES:
            raise FetchError("blocked", f"fetch: refusing {url.scheme or 'a relative'} URL {url}")
        host = url.host
        if self.exempt(host):
            return
        port = url.port or (443 if url.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for info in infos:
            _refuse(host, ipaddress.ip_address(info[4][0].split("%")[0]))

    def check_peer(self, response: httpx.Response) -> None:
        """Raise FetchError("blocked") if the connection behind `response` reached a non-public peer."""
        host = response.url.host
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if self.exempt(host) or not peer:
            return
        _refuse(host, ipaddress.ip_address(str(peer[0]).split("%")[0]))


def _embedded(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or Teredo IPv6 address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    return address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]


def _refuse(host: str, address: IPAddress) -> None:
    reason = refusal(address)
    if reason is not None:
        shown = f"{address} ({embedded})" if (embedded := _embedded(address)) else str(address)
        raise FetchError(
            "blocked",
            f"fetch: blocked {host}: it resolves to {reason} address {shown} "
            "(set fetch.allow_private_networks to allow)",
        )
