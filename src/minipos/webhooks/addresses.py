"""Where a webhook may point: the server-side request forgery (SSRF) stance.

A webhook makes this server send requests on an admin's say-so, from inside the shop's
network. So a URL must be ``http(s)`` and every address its host resolves to must be a public
one, unless the operator allowed that network (``MINIPOS_WEBHOOK_ALLOW_NETWORKS``, e.g.
``10.0.0.0/8,127.0.0.1/32`` for an ERP on the LAN). Loopback, private, link-local (cloud
metadata at 169.254.169.254), multicast and reserved ranges are refused by default: every
block of the IANA special-purpose address registries. An IPv6 address that carries an IPv4
one to the network (IPv4-mapped, NAT64, 6to4) is judged by that IPv4 address.

Hosts are looked up with ``getaddrinfo``, so odd IPv4 spellings (``2130706433``, ``0x7f.1``,
``0177.0.0.1``, ``127.1``) become the address they mean (127.0.0.1) before the check, and the
delivery connects to that checked address, not to the host name.

The check runs when the webhook is saved and again at every delivery, and the delivery
connects to the very address that was checked (the URL's host stays in ``Host`` and TLS SNI),
so a DNS answer that changes between check and use (DNS rebinding) cannot redirect it.
Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(Exception):
    """The URL is malformed, or points where webhooks may not go; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    #: Path and query, as sent in the request line.
    target: str


def parse_networks(text: str) -> tuple[Network, ...]:
    """``10.0.0.0/8, 127.0.0.1`` → networks; raises ValueError naming a bad entry."""
    networks = []
    for item in text.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"{item.strip()!r} is not an IP network") from exc
    return tuple(networks)


def parse(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"Not a valid URL: {exc}.") from exc
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("Must be an http:// or https:// URL.")
    if not parts.hostname:
        raise AddressRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("Put credentials in the receiver, not the URL; use the signature.")
    if parts.fragment:
        raise AddressRefused("A URL with a #fragment cannot be requested.")
    if port == 0:  # no receiver listens there (it was taken as "no port": the default)
        raise AddressRefused("Port 0 cannot be connected to.")
    path = parts.path or "/"
    return Target(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port if port is not None else (443 if parts.scheme == "https" else 80),
        target=path + (f"?{parts.query}" if parts.query else ""),
    )


#: The IANA special-purpose address registries (IPv4 and IPv6, as of 2025), beside
#: ``is_global``: Python's copy of them depends on its release (3.11.7 takes 3fff::/20,
#: 5f00::/16, 64:ff9b:1::/48 and site-local fec0::/10 for global). No webhook receiver lives
#: in these blocks, so the few IANA calls globally reachable (anycast PCP and TURN, AS112, AMT,
#: ORCHIDv2) are refused as well. NAT64 64:ff9b::/96 and 6to4 2002::/16 are not here: they
#: are judged by the IPv4 address inside (see _embedded_ipv4).
SPECIAL_PURPOSE: tuple[Network, ...] = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
        # ::/96 holds :: and ::1 and the deprecated IPv4-compatible form; ::ffff:0:0:0/96 is
        # the IPv4-translated one of the obsolete SIIT (RFC 2765): neither reaches a network.
        "::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64",
        "2001::/23", "2001:db8::/32", "2620:4f:8000::/48", "3fff::/20", "5f00::/16",
        "fc00::/7", "fe80::/10", "fec0::/10",
    )
)  # fmt: skip
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a packet to ``address`` ends up at, for the forms that carry one."""
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.ipv4_mapped or address.sixtofour


def allowed(address: IPAddress, networks: Iterable[Network]) -> bool:
    chosen = tuple(networks)
    if any(address in network for network in chosen):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return allowed(embedded, chosen)
    return (
        address.is_global
        and not address.is_multicast
        and not any(address in block for block in SPECIAL_PURPOSE)
    )


def check(addresses: Iterable[str], host: str, networks: Iterable[Network]) -> IPAddress:
    """The first resolved address, if every one of them is allowed (one bad answer is enough
    to refuse: which one a client would pick is not ours to predict)."""
    resolved = [ipaddress.ip_address(a.partition("%")[0]) for a in addresses]
    if not resolved:
        raise AddressRefused(f"{host} does not resolve to any address.")
    chosen = tuple(networks)
    for address in resolved:
        if not allowed(address, chosen):
            raise AddressRefused(
                f"{host} resolves to {address}, a non-public address; webhooks may go there "
                "only if MINIPOS_WEBHOOK_ALLOW_NETWORKS includes it."
            )
    return resolved[0]


def resolve(target: Target, networks: Iterable[Network]) -> IPAddress:
    """Resolve the host (blocking: call it in a thread) and apply :func:`check`."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"Cannot resolve {target.host}: {exc}.") from exc
    return check((str(info[4][0]) for info in infos), target.host, networks)
