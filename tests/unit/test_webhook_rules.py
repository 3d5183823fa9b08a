"""Webhook signing, the address policy and the retry schedule: pure rules, no I/O."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from minipos.domain.errors import ValidationFailed
from minipos.domain.events import ALL, EventType, select_types, type_names
from minipos.webhooks.addresses import AddressRefused, check, parse, parse_networks
from minipos.webhooks.settings import WebhookSettings
from minipos.webhooks.signing import signature, verify

SECRET = "whsec_test"
BODY = '{"id":1,"type":"invoice.created","data":{"text":"Tēja"}}'.encode()


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1764064800." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1764064800, BODY) == f"t=1764064800,v1={expected}"


@pytest.mark.parametrize(
    ("secret", "body", "now", "ok"),
    [
        (SECRET, BODY, 1764064800, True),
        (SECRET, BODY, 1764064800 + 300, True),
        (SECRET, BODY, 1764064800 + 301, False),  # a replayed old request
        ("whsec_other", BODY, 1764064800, False),
        (SECRET, BODY + b" ", 1764064800, False),  # the body changed on the way
    ],
)
def test_verify(secret: str, body: bytes, now: int, ok: bool) -> None:
    assert verify(secret, signature(SECRET, 1764064800, BODY), body, now) is ok


def test_verify_accepts_any_of_several_v1_and_refuses_garbage() -> None:
    header = signature(SECRET, 1764064800, BODY) + ",v1=00ff"  # e.g. during a secret change
    assert verify(SECRET, header, BODY, 1764064800)
    assert not verify(SECRET, "v1=abc", BODY, 1764064800)
    assert not verify(SECRET, "t=soon,v1=abc", BODY, 1764064800)


@pytest.mark.parametrize(
    ("address", "allowed_networks", "ok"),
    [
        ("93.184.216.34", "", True),
        ("2606:2800:220:1:248:1893:25c8:1946", "", True),
        ("127.0.0.1", "", False),
        ("10.0.0.5", "", False),
        ("192.168.1.20", "", False),
        ("172.16.0.1", "", False),
        ("169.254.169.254", "", False),  # cloud metadata
        ("100.64.0.1", "", False),  # carrier-grade NAT
        ("0.0.0.0", "", False),
        ("224.0.0.1", "", False),
        ("::1", "", False),
        ("fd00::1", "", False),
        ("::ffff:127.0.0.1", "", False),  # IPv4-mapped loopback
        ("10.0.0.5", "10.0.0.0/8", True),
        ("127.0.0.1", "127.0.0.1", True),
        ("192.168.1.20", "10.0.0.0/8", False),
    ],
)
def test_address_policy(address: str, allowed_networks: str, ok: bool) -> None:
    networks = parse_networks(allowed_networks)
    if ok:
        assert check([address], "host", networks) == ipaddress.ip_address(address)
    else:
        with pytest.raises(AddressRefused, match="non-public"):
            check([address], "host", networks)


def test_one_bad_answer_among_good_ones_refuses_the_host() -> None:
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.1"):
        check(["93.184.216.34", "10.0.0.1"], "rebind.example", ())


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "target"),
    [
        ("https://erp.example.com/hooks?a=1", "https", "erp.example.com", 443, "/hooks?a=1"),
        ("http://erp.example.com:8080", "http", "erp.example.com", 8080, "/"),
        ("http://[2001:db8::1]:81/x", "http", "2001:db8::1", 81, "/x"),
    ],
)
def test_parse(url: str, scheme: str, host: str, port: int, target: str) -> None:
    parsed = parse(url)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.target) == (scheme, host, port, target)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x/",
        "http://",
        "http://u:p@x/",
        "http://x:99999/",
        "https://x:0/",
        "http://x/#frag",
        "x",
    ],
)
def test_parse_refuses(url: str) -> None:
    with pytest.raises(AddressRefused):
        parse(url)


def test_backoff_doubles_up_to_the_cap() -> None:
    settings = WebhookSettings(webhook_backoff_seconds=5, webhook_backoff_cap_seconds=3600)
    waits = [settings.backoff_us(n) / 1_000_000 for n in range(1, 12)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    # Default schedule: retries keep going well past the 24 hours the issue asks for.
    default = WebhookSettings()
    assert default.webhook_give_up_hours >= 24


def test_event_type_selection() -> None:
    assert select_types(["*"], ("events",)) == ALL
    assert select_types(["invoice.*", "receipt.created"], ("events",)) == {
        EventType.INVOICE_CREATED,
        EventType.INVOICE_OPENED,
        EventType.INVOICE_RELEASED,
        EventType.INVOICE_DONE,
        EventType.INVOICE_CANCELLED,
        EventType.RECEIPT_CREATED,
    }
    assert type_names(ALL) == ["*"]
    assert type_names(frozenset({EventType.SHIFT_CLOSED})) == ["shift.closed"]
    for bad in (["invoice.paid"], ["nothing.*"], []):
        with pytest.raises(ValidationFailed):
            select_types(bad, ("events",))
