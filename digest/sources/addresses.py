"""Which hosts a feed may be fetched from: public addresses only.

A Source's URL is typed by staff, and every redirect is chosen by whichever
server answers. Either could point Paperboy at itself and its neighbours: Redis
on 127.0.0.1:6379, the database, an admin panel on the private network, the
cloud's metadata service at 169.254.169.254. So every hop of a fetch is
resolved here, each address it resolves to is checked, and the connection goes
to the checked address itself: there is no second DNS lookup that a rebinding
name could answer differently.

Host names in `allowed_hosts` (the FETCH_ALLOWED_HOSTS setting: tests serving
feeds from 127.0.0.1, an intranet mirror) skip the check; they are compared as
written, so "2130706433" is not "127.0.0.1".

Numeric hosts are read the way the C resolver reads them (inet_aton), so
2130706433, 0x7f000001, 017700000001 and 127.1 are all 127.0.0.1, and an IPv6
address that embeds an IPv4 one (::ffff:127.0.0.1, 6to4, NAT64) is judged by it.
"""

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from digest.sources.records import FeedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata and host services of cloud providers, some on addresses that look public.
_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean …
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure's wire server, on a public address
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
# Names that never lead to the public internet: loopback by definition (RFC 6761)
# or reserved for private networks.
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")


class ForbiddenAddress(FeedError):
    """A fetch would go to an address that is not public; never worth retrying."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str:
    """What kind of address `address` is when it is not a public one ("loopback",
    "private", "cloud metadata" …), or "" when a feed may be fetched from it."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # without a %zone
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return why_not_public(embedded)
        if address in _LOCAL_NAT64 or address.is_site_local:
            return "private"
    if address in _METADATA:
        return "cloud metadata"
    checks = [
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        # What is left and still not global: 100.64.0.0/10, carrier-grade NAT.
        ("shared (carrier-grade NAT)", not address.is_global),
    ]
    return next((kind for kind, applies in checks if applies), "")


def _inet_aton_part(part: str) -> int | None:
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a numeric host names, in any form the C resolver accepts; None
    for a host name. "2130706433", "0x7f000001", "0177.1" and "[::1]" are addresses."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.removesuffix(".").split(".")
    numbers = [_inet_aton_part(part) for part in parts]
    if not 1 <= len(parts) <= 4 or any(number is None for number in numbers):
        return None
    # a, a.b, a.b.c, a.b.c.d: the last part fills the bytes the others leave.
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = 0
    for number in leading:
        value = value * 256 + number
    return ipaddress.IPv4Address(value * 256 ** (4 - len(leading)) + last)


def _normal(host: str) -> str:
    return host.strip().lower().removesuffix(".")


def is_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """True when `host` is one of `allowed_hosts`, compared as written (any case)."""
    return _normal(host) in {_normal(allowed) for allowed in allowed_hosts}


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"


def _describe(host: str, literal: IPAddress, kind: str) -> str:
    if host.strip("[]").lower() == str(literal):
        return f"{host} is {_a(kind)}"
    return f"{host} is {literal}, {_a(kind)}"


def why_refused(host: str) -> str:
    """Why a fetch from `host` is refused without asking DNS, or "" when only DNS can tell."""
    literal = ip_literal(host)
    if literal is not None:
        kind = why_not_public(literal)
        return _describe(host, literal, kind) if kind else ""
    name = _normal(host)
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return f"{host} is a local name"
    return ""


def refusal_for_url(url: str, allowed_hosts: Iterable[str] = ()) -> str:
    """Why a feed at `url` would never be fetched ("" when it may be), judged without DNS:
    for the admin's form. A name that resolves to a private address is refused at fetch time."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "only http and https feeds can be fetched"
    if not host:
        return "it names no host"
    if is_allowed(host, allowed_hosts):
        return ""
    reason = why_refused(host)
    return f"{reason}; feeds are fetched from public addresses only" if reason else ""


def _refuse(host: str, reason: str) -> ForbiddenAddress:
    return ForbiddenAddress(
        f"refused to connect to {host}: {reason}; feeds are fetched from public addresses only"
    )


def resolve_checked(
    host: str, port: int, allowed_hosts: Iterable[str] = ()
) -> list[tuple[socket.AddressFamily, socket.SocketKind, int, tuple]]:
    """(family, type, proto, sockaddr) for each address of `host`, all of them public
    unless the host is allowed; ForbiddenAddress when any one of them is not."""
    literal = ip_literal(host)
    allowed = is_allowed(host, allowed_hosts)
    if literal is not None:
        # Connect to the address as we read it, not to what a resolver makes of the text.
        kind = "" if allowed else why_not_public(literal)
        if kind:
            raise _refuse(host, _describe(host, literal, kind))
        if isinstance(literal, ipaddress.IPv6Address):
            return [(socket.AF_INET6, socket.SOCK_STREAM, 0, (str(literal), port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 0, (str(literal), port))]
    if not allowed and (reason := why_refused(host)):
        raise _refuse(host, reason)
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
    if not allowed:
        for *_, sockaddr in addresses:
            kind = why_not_public(ipaddress.ip_address(sockaddr[0]))
            if kind:
                # The address itself is not shown: a name's private address is the
                # network's business, the kind of address is enough to act on.
                raise _refuse(host, f"it resolves to {_a(kind)}")
    return addresses


def connect_checked(
    host: str, port: int, timeout: float | None, allowed_hosts: Iterable[str] = ()
) -> socket.socket:
    """A TCP connection to `host`, made to an address `resolve_checked` accepted."""
    error: OSError | None = None
    for family, kind, proto, sockaddr in resolve_checked(host, port, allowed_hosts):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as failure:
            sock.close()
            error = failure
            continue
        return sock
    raise error or OSError(f"{host} has no address")
