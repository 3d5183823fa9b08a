"""The ``MiniPOS-Signature`` header: HMAC-SHA256 over the timestamp and the exact body.

``MiniPOS-Signature: t=1764064800,v1=5257a869…`` where ``v1`` is the hex HMAC-SHA256, keyed
with the endpoint's secret, of ``f"{t}.".encode() + body``. Signing the timestamp with the
body lets a receiver refuse replays of an old, captured request (docs/webhooks.md shows the
check in a few lines of Python).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
#: How old a signature a receiver should still accept (our advice in the docs, and the check
#: ``verify`` makes).
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver checks: a ``v1`` that matches, on a timestamp that is recent enough."""
    parts = [item.partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in parts if key.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).partition(",v1=")[2]
    return any(
        hmac.compare_digest(expected, value) for key, _, value in parts if key.strip() == "v1"
    )
