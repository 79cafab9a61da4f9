"""Which URLs the fetcher will even try: a hostile link is refused where it enters, as its error.

A feed's item link or a redirect's Location can be anything. Before this module, some raised far
from where they entered and failed the whole batch: a port over 65535 (OverflowError from
`sock.connect`), `http://xn--a.invalid/` (idna's InvalidCodepoint when httpx shows the host), a
DNS label over 63 characters or a name over 253 (UnicodeError from getaddrinfo). Rules, checked
on every hop BEFORE any DNS query or connection (`check_target`):

1. At most 8,000 characters (RFC 9110 4.1 asks no more of anyone).
2. No credentials in the URL (`http://user:pw@host/`): a feed has no business sending ours or
   anyone's, and they would end up in logs and in the store.
3. A host, and a port in 1..65535.
4. An IP literal is a valid address, without an IPv6 zone (`fe80::1%eth0` picks a local
   interface: never what a public link means).
5. A host name is at most 253 characters of labels of 1..63 letters, digits, hyphens (and
   underscores, which real hosts use), and its punycode labels (`xn--…`) decode.
6. `.invalid` names never resolve (RFC 6761 6.4): refused without asking DNS, as unresolvable.

The scheme is the address guard's rule (connectors.addresses: "blocked"), checked after these.
A refusal is FetchError kind "http", `fetch: invalid URL (why: url)`, kind "network" for rule 6.
"""

from __future__ import annotations

import ipaddress
import re

import httpx
import idna  # httpx's own dependency for international names

from connectors.errors import FetchError

__all__ = ["check_target"]

MAX_URL_CHARS = 8000
_LABEL = re.compile(rb"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z")
_SHOWN = 200  # characters of a refused URL quoted in its message


def check_target(url: httpx.URL | str) -> httpx.URL:
    """`url` as an httpx.URL if it is a URL worth connecting to, else FetchError saying why."""
    text = str(url)
    if len(text) > MAX_URL_CHARS:
        raise _invalid(f"{len(text):,} characters, over {MAX_URL_CHARS:,}", text)
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError (idna) is a ValueError
        raise _invalid(str(exc) or type(exc).__name__, text) from None
    if parsed.scheme not in ("http", "https"):
        return parsed  # the address guard refuses it, with its own message ("blocked")
    if parsed.userinfo:
        raise _invalid("credentials in the URL", f"{parsed.scheme}://…@{parsed.raw_host.decode('ascii', 'replace')}")
    why = _port_problem(parsed.port) or _host_problem(parsed.raw_host)
    if why:
        raise _invalid(why, text)
    if parsed.raw_host.rstrip(b".").lower().endswith(b".invalid") or parsed.raw_host.lower() == b"invalid":
        raise FetchError("network", "fetch: cannot resolve host (.invalid names never resolve, RFC 6761)")
    return parsed


def _port_problem(port: int | None) -> str | None:
    if port is not None and not 0 < port < 65536:
        return f"port {port} is not in 1..65535"
    return None


def _host_problem(host: bytes) -> str | None:
    """Why `host` (httpx's raw_host: IDNA-encoded, IP literals unbracketed) is no host, or None."""
    if not host:
        return "no host"
    if b":" in host:  # only an IPv6 literal has a colon
        return _ipv6_problem(host.decode("ascii", "replace"))
    name = host[:-1] if host.endswith(b".") else host  # a fully qualified name's root dot
    if len(name) > 253:
        return f"host name of {len(name)} characters, over 253"
    for label in name.split(b"."):
        if not _LABEL.match(label):
            return f"host label {label[:70].decode('ascii', 'replace')!r} is not 1-63 letters, digits or hyphens"
        if label[:4].lower() == b"xn--" and not _punycode_decodes(label):
            return f"host label {label.decode('ascii')!r} is not valid punycode"
    return None


def _ipv6_problem(literal: str) -> str | None:
    if "%" in literal:
        return "IPv6 zone identifiers name a local interface"
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return f"invalid IPv6 address {literal[:60]!r}"
    return None


def _punycode_decodes(label: bytes) -> bool:
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


def _invalid(why: str, url: str) -> FetchError:
    shown = url if len(url) <= _SHOWN else url[:_SHOWN] + "…"
    return FetchError("http", f"fetch: invalid URL ({why}: {shown})")
