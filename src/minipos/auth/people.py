"""Back-office people: users who sign in with a name and a password, and their sessions
(docs/office.md).

- Passwords are hashed with scrypt (standard library), a random salt each.
- A session is a random token in an HttpOnly cookie; the server keeps only its SHA-256
  digest, with an expiry and a per-session CSRF token that the pages send back in the
  ``X-CSRF-Token`` header on every change.
- Failed sign-ins are counted per user name and per client address: past the allowance each
  further attempt must wait, twice as long each time (a 429 with ``Retry-After``).
- An attempt is counted as a failure before its secret is checked (``reserve_attempt``), in
  the write transaction that finds it may go ahead, and taken back if the secret was right:
  attempts sent side by side cannot all find "no wait" and pass the allowance together.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from minipos.auth import peoplestore
from minipos.auth.principal import Principal, Role
from minipos.db import Connection, Database, UniqueViolation
from minipos.domain.errors import NotFound

SESSION_COOKIE = "minipos_office"
CSRF_HEADER = "x-csrf-token"
#: A session ends this long after sign-in (sign in again the next working day).
SESSION_US = 12 * 3600 * 1_000_000
#: Failures counted over this window.
FAILURE_WINDOW_US = 15 * 60 * 1_000_000
#: Failures allowed before waiting starts: per user name, and per client address.
USER_ALLOWANCE = 5
CLIENT_ALLOWANCE = 20
#: The first wait, doubled with each further failure, up to the cap.
FIRST_WAIT_US = 30 * 1_000_000
MAX_WAIT_US = FAILURE_WINDOW_US

#: One failed sign-in in this many also removes the failures past the window.
PURGE_ONE_IN = 50
#: The first of the two int4 keys of the advisory locks on throttled subjects (PostgreSQL),
#: apart from the invoice numbers' (``minipos.invoices.repository``).
_SUBJECT_LOCKS = 0x4D504F54  # "MPOT"

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8


class OfficeRole(StrEnum):
    MANAGER = "manager"  # reports, catalogue, shifts, receipts; no keys, no stations
    ADMIN = "admin"  # everything


class UserError(ValueError):
    """A user cannot be created or changed as asked (the message says why); ``field`` names
    the request field at fault, where one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(expected)),
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown: a wrong name costs as long as a wrong
    password."""
    return hash_password(secrets.token_hex(8))


def dummy_hash() -> str:
    """A hash no secret matches, for an unknown name or employee (see ``_dummy_hash``)."""
    return _dummy_hash()


def _check_new(name: str, password: str) -> None:
    if not name.strip() or len(name) > 64:
        raise UserError("a user name is 1 to 64 characters", "name")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password is at least {MIN_PASSWORD} characters", "password")


def add_user(
    conn: Connection,
    name: str,
    role: OfficeRole,
    password: str,
    now_us: int,
    *,
    password_hash: str | None = None,
) -> int:
    """A new user; ``password_hash``: the password's hash made beforehand (off the writer)."""
    _check_new(name, password)
    try:
        return peoplestore.insert_user(
            conn, name=name, role=role.value,
            password_hash=password_hash or hash_password(password), created_at=now_us,
        )  # fmt: skip
    except UniqueViolation:
        raise UserError(f"a user named {name!r} exists already", "name") from None


def change_user(
    conn: Connection,
    name: str,
    *,
    password: str | None = None,
    role: OfficeRole | None = None,
    disabled: bool | None = None,
    now_us: int,
    password_hash: str | None = None,
) -> None:
    """A new password, role or disabled state; every session of the user ends."""
    user = peoplestore.user_by_name(conn, name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    if password is not None:
        _check_new(name, password)
    peoplestore.update_user(
        conn,
        user["id"],
        password_hash=None if password is None else password_hash or hash_password(password),
        role=None if role is None else role.value,
        disabled_at=now_us if disabled else None,
        enable=disabled is False,
    )
    peoplestore.delete_user_sessions(conn, user["id"])


def list_users(conn: Connection) -> list[peoplestore.UserRow]:
    return peoplestore.list_users(conn)


def name_of(conn: Connection, user_id: int) -> str:
    user = peoplestore.user_by_id(conn, user_id)
    if user is None:
        raise NotFound()  # an unknown id in a path, as everywhere (404)
    return user["name"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user as the pages see it."""

    user_id: int
    name: str
    role: OfficeRole
    csrf_token: str
    expires_at: int
    language: str | None = None

    def principal(self) -> Principal:
        """Who the session acts as on ``/api/*``: an admin as an admin key; a manager as an
        admin limited by :mod:`minipos.auth.officeroles`. Negative ids keep a user's
        idempotency slots apart from every key's."""
        manager = self.role is OfficeRole.MANAGER
        return Principal(-self.user_id, f"user:{self.name}", Role.ADMIN, None, manager=manager)


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    session: Session


@dataclass(frozen=True, slots=True)
class Refused:
    """A wrong name or password (``retry_after_s`` 0), or too many attempts: wait."""

    retry_after_s: int


def _wait_us(failures: int, last: int | None, allowance: int, now_us: int) -> int:
    if failures < allowance or last is None:
        return 0
    wait: int = min(FIRST_WAIT_US << (failures - allowance), MAX_WAIT_US)
    # Never longer than the step: an attempt begun just before one counted side by side.
    return max(0, min(wait, last + wait - now_us))


def _subjects(name: str, client: str | None) -> list[tuple[str, int]]:
    subjects = [(f"user:{name.strip().lower()[:100]}", USER_ALLOWANCE)]
    if client:
        subjects.append((f"addr:{client[:100]}", CLIENT_ALLOWANCE))
    return subjects


def subject_wait_us(conn: Connection, subject: str, allowance: int, now_us: int) -> int:
    """Microseconds ``subject`` must still wait before its next try (0: it may try). Also
    used for station PINs (``minipos.employees``), so both throttles stay one code."""
    failures, last = peoplestore.failures_since(conn, subject, now_us - FAILURE_WINDOW_US)
    return _wait_us(failures, last, allowance, now_us)


def record_failure(conn: Connection, subject: str, now_us: int) -> int:
    """A failure of ``subject`` now; its id."""
    failure_id = peoplestore.add_failure(conn, subject, now_us)
    # Now and then, old failures and sessions go (a flood of bad tries grows the table).
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        peoplestore.purge_expired(conn, now_us, now_us - FAILURE_WINDOW_US)
    return failure_id


def clear_failures(conn: Connection, subject: str) -> None:
    peoplestore.clear_failures(conn, subject)


def _lock_subjects(conn: Connection, subjects: Sequence[str]) -> None:
    """Hold each subject's lock to the end of the transaction (PostgreSQL runs writers side by
    side; SQLite's one writer runs each job alone and needs none). Taken in the order of their
    keys, so two attempts sharing two subjects cannot wait on each other."""
    if conn.dialect != "postgresql":
        return
    keys = {
        int.from_bytes(hashlib.sha256(subject.encode()).digest()[:4], "big", signed=True)
        for subject in subjects
    }
    for key in sorted(keys):
        conn.fetchone(
            "SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer)) AS ok",
            {"space": _SUBJECT_LOCKS, "key": key},
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """``reserve_attempt``'s answer: the wait still due (the attempt was not counted), or 0
    and the failures recorded for it, to take back if the secret proves right."""

    wait_us: int
    failure_ids: tuple[int, ...] = ()


def reserve_attempt(conn: Connection, subjects: Sequence[tuple[str, int]], now_us: int) -> Attempt:
    """Count an attempt at ``subjects`` (name and allowance each) before its secret is checked,
    in one write job: the wait due from the failures so far; when none is, a failure for each
    subject at once. Run it in ``Database.write``: with each subject locked (PostgreSQL) or the
    one writer (SQLite), attempts side by side see each other's failures, so no more of them
    are checked than the allowance lets through one after another. Shared by the back office's
    sign-in and the station PINs (``minipos.employees``)."""
    _lock_subjects(conn, [subject for subject, _ in subjects])
    wait = max(
        (subject_wait_us(conn, subject, allowance, now_us) for subject, allowance in subjects),
        default=0,
    )
    if wait:
        return Attempt(wait)
    return Attempt(0, tuple(record_failure(conn, subject, now_us) for subject, _ in subjects))


def withdraw_attempt(conn: Connection, attempt: Attempt) -> None:
    """Take back the failures ``reserve_attempt`` counted for an attempt that succeeded."""
    peoplestore.delete_failures(conn, attempt.failure_ids)


def throttled(conn: Connection, name: str, client: str | None, now_us: int) -> int:
    """Microseconds this sign-in must still wait (0: it may be tried)."""
    waits = [0]
    for subject, allowance in _subjects(name, client):
        waits.append(subject_wait_us(conn, subject, allowance, now_us))
    return max(waits)


def _retry_after_s(wait_us: int) -> int:
    return -(-wait_us // 1_000_000)


async def sign_in(
    db: Database, name: str, password: str, client: str | None, now_us: int
) -> SignedIn | Refused:
    """Check the throttle, count the attempt as a failure, then check the password (off the
    event loop); a right one takes the failure back and opens a session."""
    subjects = _subjects(name, client)

    def look(conn: Connection) -> tuple[int, peoplestore.UserRow | None]:
        return throttled(conn, name, client, now_us), peoplestore.user_by_name(conn, name)

    # A first look on a reader spares the writer the attempts that must wait anyway; the
    # reservation looks again, where attempts side by side cannot miss each other.
    wait, user = await db.read(look)
    if wait:
        return Refused(retry_after_s=_retry_after_s(wait))
    attempt = await db.write(lambda conn: reserve_attempt(conn, subjects, now_us))
    if attempt.wait_us:
        return Refused(retry_after_s=_retry_after_s(attempt.wait_us))
    stored = user["password_hash"] if user is not None else _dummy_hash()
    ok = await asyncio.to_thread(check_password, stored, password)
    ok = ok and user is not None and user["disabled_at"] is None
    if not ok or user is None:
        return Refused(retry_after_s=0)  # counted already
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session = Session(
        user["id"], user["name"], OfficeRole(user["role"]), csrf, now_us + SESSION_US,
        user["language"],
    )  # fmt: skip

    def open_session(conn: Connection) -> None:
        peoplestore.purge_expired(conn, now_us, now_us - FAILURE_WINDOW_US)
        peoplestore.clear_failures(conn, subjects[0][0])
        withdraw_attempt(conn, attempt)  # this attempt's failure for the client address
        peoplestore.insert_session(
            conn, digest=_digest(token), user_id=user["id"], csrf_token=csrf,
            client=client[:64] if client else None, created_at=now_us,
            expires_at=session.expires_at,
        )  # fmt: skip

    await db.write(open_session)
    return SignedIn(token, session)


def find_session(conn: Connection, token: str, now_us: int) -> Session | None:
    if not token or len(token) > 200:
        return None
    row = peoplestore.session_by_digest(conn, _digest(token), now_us)
    if row is None:
        return None
    return Session(
        row["user_id"], row["name"], OfficeRole(row["role"]), row["csrf_token"],
        row["expires_at"], row["language"],
    )  # fmt: skip


def sign_out(conn: Connection, token: str) -> bool:
    return peoplestore.delete_session(conn, _digest(token)) > 0


def csrf_ok(session: Session, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(
        session.csrf_token.encode(), presented.encode()
    )
