"""Where webhooks may not point (issue #11, hole 6): one address from every entry of the IANA
special-purpose address registries, the IPv6 forms that carry an IPv4 address, and odd IPv4
spellings; each refused when the webhook is saved (POST and PATCH) and when it is delivered.

The table is written out here, independent of the server's own list, so a block dropped there
(or a Python whose ``ipaddress`` tables are older) fails a test.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from minipos.auth.principal import Role
from minipos.config import Settings
from minipos.db import open_database
from minipos.timeutil import now_us
from minipos.webhooks import service
from minipos.webhooks.addresses import AddressRefused, check, parse, parse_networks, resolve
from minipos.webhooks.schemas import WebhookIn
from support import Api, post_invoice

#: The six forms of the issue: IPv4 inside IPv6, which only the ::ffff: form was decoded for.
ISSUE = [
    ("IPv4-compatible loopback", "::127.0.0.1"),
    ("IPv4-compatible loopback, hex", "::7f00:1"),
    ("NAT64 of the cloud metadata address", "64:ff9b::a9fe:a9fe"),
    ("6to4 of loopback", "2002:7f00:1::1"),
    ("IPv4-translated loopback", "::ffff:0:7f00:1"),
    ("site-local (deprecated)", "fec0::1"),
]

#: IANA IPv4 Special-Purpose Address Registry, one address per entry.
IPV4_REGISTRY = [
    ('"This network" 0.0.0.0/8', "0.1.2.3"),
    ('"This host on this network" 0.0.0.0/32', "0.0.0.0"),
    ("Private-Use 10.0.0.0/8", "10.1.2.3"),
    ("Shared Address Space 100.64.0.0/10", "100.64.1.2"),
    ("Loopback 127.0.0.0/8", "127.0.0.1"),
    ("Link Local 169.254.0.0/16 (cloud metadata)", "169.254.169.254"),
    ("Private-Use 172.16.0.0/12", "172.16.5.4"),
    ("IETF Protocol Assignments 192.0.0.0/24", "192.0.0.100"),
    ("IPv4 Service Continuity Prefix 192.0.0.0/29", "192.0.0.2"),
    ("IPv4 dummy address 192.0.0.8/32", "192.0.0.8"),
    ("Port Control Protocol Anycast 192.0.0.9/32", "192.0.0.9"),
    ("Traversal Using Relays around NAT Anycast 192.0.0.10/32", "192.0.0.10"),
    ("NAT64/DNS64 Discovery 192.0.0.170/32", "192.0.0.170"),
    ("NAT64/DNS64 Discovery 192.0.0.171/32", "192.0.0.171"),
    ("Documentation (TEST-NET-1) 192.0.2.0/24", "192.0.2.1"),
    ("AS112-v4 192.31.196.0/24", "192.31.196.1"),
    ("AMT 192.52.193.0/24", "192.52.193.1"),
    ("Deprecated (6to4 Relay Anycast) 192.88.99.0/24", "192.88.99.1"),
    ("Private-Use 192.168.0.0/16", "192.168.1.1"),
    ("Direct Delegation AS112 Service 192.175.48.0/24", "192.175.48.1"),
    ("Benchmarking 198.18.0.0/15", "198.19.0.1"),
    ("Documentation (TEST-NET-2) 198.51.100.0/24", "198.51.100.1"),
    ("Documentation (TEST-NET-3) 203.0.113.0/24", "203.0.113.1"),
    ("Reserved 240.0.0.0/4", "240.0.0.1"),
    ("Limited Broadcast 255.255.255.255/32", "255.255.255.255"),
    ("Multicast 224.0.0.0/4 (IPv4 Multicast Address Space Registry)", "224.0.0.1"),
    ("MCAST-TEST-NET 233.252.0.0/24 (multicast)", "233.252.0.1"),
]

#: IANA IPv6 Special-Purpose Address Registry, one address per entry, and the other forms.
IPV6_REGISTRY = [
    ("Loopback Address ::1/128", "::1"),
    ("Unspecified Address ::/128", "::"),
    ("IPv4-mapped Address ::ffff:0:0/96", "::ffff:127.0.0.1"),
    ("IPv4-mapped Address ::ffff:0:0/96, metadata", "::ffff:a9fe:a9fe"),
    ("IPv4-IPv6 Translat. 64:ff9b::/96, private IPv4", "64:ff9b::a00:1"),
    ("IPv4-IPv6 Translat. 64:ff9b:1::/48 (local use)", "64:ff9b:1::808:808"),
    ("Discard-Only Address Block 100::/64", "100::1"),
    ("Dummy IPv6 Prefix 100:0:0:1::/64", "100:0:0:1::1"),
    ("IETF Protocol Assignments 2001::/23", "2001:1ff::1"),
    ("TEREDO 2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
    ("Port Control Protocol Anycast 2001:1::1/128", "2001:1::1"),
    ("Traversal Using Relays around NAT Anycast 2001:1::2/128", "2001:1::2"),
    ("DNS-SD Service Registration Protocol Anycast 2001:1::3/128", "2001:1::3"),
    ("Benchmarking 2001:2::/48", "2001:2::1"),
    ("AMT 2001:3::/32", "2001:3::1"),
    ("AS112-v6 2001:4:112::/48", "2001:4:112::1"),
    ("Deprecated (previously ORCHID) 2001:10::/28", "2001:10::1"),
    ("ORCHIDv2 2001:20::/28", "2001:20::1"),
    ("Drone Remote ID Protocol Entity Tags (DETs) Prefix 2001:30::/28", "2001:30::1"),
    ("Documentation 2001:db8::/32", "2001:db8::1"),
    ("6to4 2002::/16, private IPv4", "2002:c0a8:101::1"),
    ("Direct Delegation AS112 Service 2620:4f:8000::/48", "2620:4f:8000::1"),
    ("Documentation 3fff::/20", "3fff::1"),
    ("Segment Routing (SRv6) SIDs 5f00::/16", "5f00::1"),
    ("Unique-Local fc00::/7", "fd00::1"),
    ("Link-Local Unicast fe80::/10", "fe80::1"),
    ("Multicast ff00::/8 (link-local scope)", "ff02::1"),
    ("Multicast ff00::/8 (global scope)", "ff0e::1"),
    ("IPv4-compatible ::/96 of a public address (deprecated)", "::808:808"),
]

#: How a URL may spell 127.0.0.1 (inet_aton forms): getaddrinfo reads them all as loopback.
ODD_SPELLINGS = [
    "2130706433",
    "0x7f000001",
    "017700000001",
    "0177.0.0.1",
    "0x7f.1",
    "0x7f.0x0.0x0.0x1",
    "127.1",
    "127.000.000.001",
    "0",
]

PUBLIC = [
    "8.8.8.8",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",  # IPv4-mapped public
    "64:ff9b::808:808",  # NAT64 of a public address, as DNS64 answers on IPv6-only networks
    "2002:808:808::1",  # 6to4 of a public address
]

RIGA = ZoneInfo("Europe/Riga")  # only the stored timestamps' display depends on it


def url_of(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:8080/hooks/minipos"


REFUSED = [
    pytest.param(url_of(address), id=f"{name}: {address}")
    for name, address in ISSUE + IPV4_REGISTRY + IPV6_REGISTRY
] + [pytest.param(f"http://{host}/hook", id=f"odd spelling {host}") for host in ODD_SPELLINGS]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_by_the_delivery_check(url: str) -> None:
    """What the sender runs before each connection (webhooks/worker.py: parse, then resolve)."""
    with pytest.raises(AddressRefused, match="non-public"):
        resolve(parse(url), ())


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert resolve(parse(url_of(address)), ()) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("10.20.0.5", "10.20.0.0/16"),
        ("::ffff:10.20.0.5", "10.20.0.0/16"),  # the IPv4 inside is what the allow list sees
        ("64:ff9b::a14:5", "10.20.0.0/16"),
        ("fd00::5", "fd00::/8"),
    ],
)
def test_the_operator_may_allow_a_network(address: str, network: str) -> None:
    with pytest.raises(AddressRefused):
        check([address], "erp.lan", ())
    assert check([address], "erp.lan", parse_networks(network)) == ipaddress.ip_address(address)


def test_refused_at_save_by_post_and_patch(api: Api) -> None:
    admin = api.as_(Role.ADMIN)
    kept = admin.post("/api/webhooks", json={"url": url_of(PUBLIC[0]), "active": False})
    assert kept.status_code == 201, kept.text
    webhook_id = kept.json()["id"]
    leaks = []
    for param in REFUSED:
        (url,) = param.values
        for method, path in (("POST", "/api/webhooks"), ("PATCH", f"/api/webhooks/{webhook_id}")):
            response = admin.request(method, path, json={"url": url})
            if response.status_code != 400 or "non-public" not in response.json()["url"][0]:
                leaks.append((method, url, response.status_code, response.text))
    assert leaks == []
    assert [w["url"] for w in admin.get("/api/webhooks").json()] == [url_of(PUBLIC[0])]


def test_refused_at_delivery_when_stored_by_other_means(api: Api, settings: Settings) -> None:
    """A URL that got into the database unchecked (an older version, a restore) is still
    never connected to: each try fails with the reason in the delivery log."""
    db = open_database(settings.database_url)
    try:
        ids = [
            db.run(
                lambda conn, address=address: service.create(
                    conn, WebhookIn(url=url_of(address)), RIGA, now_us()
                )
            ).id
            for _, address in ISSUE
        ]
    finally:
        db.close()
    post_invoice(api)
    admin = api.as_(Role.ADMIN)
    deadline = time.monotonic() + 20
    errors: dict[int, Any] = {}
    while time.monotonic() < deadline and len(errors) < len(ids):
        for webhook_id in ids:
            found = admin.get(f"/api/webhooks/{webhook_id}/deliveries").json()
            if found and found[0]["attempts"] >= 1:
                errors[webhook_id] = found[0]["last_error"]
        time.sleep(0.05)
    assert len(errors) == len(ids), errors
    assert all("non-public" in error for error in errors.values()), errors
