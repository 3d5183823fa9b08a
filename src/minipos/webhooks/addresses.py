"""Where a webhook may point: the server-side request forgery (SSRF) stance.

A webhook makes this server send requests on an admin's say-so, from inside the shop's
network. So a URL must be ``http(s)`` and every address its host resolves to must be a public
one, unless the operator allowed that network (``MINIPOS_WEBHOOK_ALLOW_NETWORKS``, e.g.
``10.0.0.0/8,127.0.0.1/32`` for an ERP on the LAN). Loopback, private, link-local (cloud
metadata at 169.254.169.254), multicast and reserved ranges are refused by default.

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
    path = parts.path or "/"
    return Target(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        target=path + (f"?{parts.query}" if parts.query else ""),
    )


def allowed(address: IPAddress, networks: Iterable[Network]) -> bool:
    if any(address in network for network in networks):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


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
