"""The address guard: which resolved addresses a fetch may reach (connectors.addresses)."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from connectors.addresses import AddressPolicy, refusal
from connectors.errors import FetchError

ADDRESSES = [
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
    ("93.184.216.34", None),
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "private"),  # reserved, and Python counts 240/4 as private
    ("255.255.255.255", "private"),
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ("192.0.2.1", "private"),  # TEST-NET-1
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "private"),  # documentation
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:8.8.8.8", None),
    ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
    ("2002:0808:0808::", None),  # 6to4 wrapping 8.8.8.8
    ("64:ff9b::7f00:1", "reserved"),  # NAT64 prefix
]


@pytest.mark.parametrize(("address", "reason"), ADDRESSES, ids=[a for a, _ in ADDRESSES])
def test_refusal(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


def check(policy: AddressPolicy, url: str) -> str | None:
    try:
        asyncio.run(policy.check_url(httpx.URL(url)))
    except FetchError as error:
        assert error.kind == "blocked"
        return error.message
    return None


@pytest.mark.parametrize(
    ("policy", "url", "message"),
    [
        (AddressPolicy(), "http://127.0.0.1:8080/feed",
         "fetch: blocked 127.0.0.1: it resolves to loopback address 127.0.0.1 "
         "(set fetch.allow_private_networks to allow)"),
        (AddressPolicy(), "http://localhost/feed", "fetch: blocked localhost: it resolves to loopback"),
        (AddressPolicy(), "http://[::1]/feed", "fetch: blocked ::1: it resolves to loopback address ::1"),
        (AddressPolicy(), "http://[::ffff:169.254.169.254]/latest/meta-data",
         "fetch: blocked ::ffff:169.254.169.254: it resolves to link-local address ::ffff:a9fe:a9fe "
         "(169.254.169.254)"),
        (AddressPolicy(), "http://10.0.0.5/", "fetch: blocked 10.0.0.5: it resolves to private address"),
        (AddressPolicy(), "http://0.0.0.0/", "fetch: blocked 0.0.0.0: it resolves to unspecified"),
        (AddressPolicy(), "file:///etc/passwd", "fetch: refusing file URL file:/etc/passwd"),
        (AddressPolicy(), "gopher://127.0.0.1/", "fetch: refusing gopher URL"),
        (AddressPolicy(), "http://8.8.8.8/feed", None),
        (AddressPolicy(allow_private=True), "http://127.0.0.1/feed", None),
        (AddressPolicy(allow_private=True), "ftp://127.0.0.1/feed", "fetch: refusing ftp URL"),
        (AddressPolicy(trusted_hosts={"LocalHost"}), "http://localhost/feed", None),
        (AddressPolicy(trusted_hosts={"localhost"}), "http://127.0.0.1/feed", "fetch: blocked 127.0.0.1"),
    ],
    ids=["v4-loopback", "localhost", "v6-loopback", "mapped-metadata", "rfc1918", "unspecified", "file",
         "gopher", "public", "allowed", "allowed-but-ftp", "trusted-by-name", "trust-is-by-name"],
)
def test_check_url(policy: AddressPolicy, url: str, message: str | None) -> None:
    result = check(policy, url)
    if message is None:
        assert result is None
    else:
        assert result is not None and result.startswith(message)


class _Stream:
    def __init__(self, peer: tuple[str, int]) -> None:
        self.peer = peer

    def get_extra_info(self, name: str) -> object:
        return self.peer if name == "server_addr" else None


@pytest.mark.parametrize(
    ("peer", "blocked"),
    [(("93.184.216.34", 443), False), (("127.0.0.1", 443), True), (("fe80::1%eth0", 443), True)],
    ids=["public", "rebound-to-loopback", "scoped-link-local"],
)
def test_check_peer_catches_dns_rebinding(peer: tuple[str, int], blocked: bool) -> None:
    request = httpx.Request("GET", "https://news.example/feed")
    response = httpx.Response(200, request=request, extensions={"network_stream": _Stream(peer)})
    if blocked:
        with pytest.raises(FetchError, match="^fetch: blocked news.example: it resolves to"):
            AddressPolicy().check_peer(response)
    else:
        AddressPolicy().check_peer(response)
