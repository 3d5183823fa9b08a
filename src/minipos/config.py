"""Server configuration, read once from ``MINIPOS_*`` environment variables.

One settings object for every process (server, CLI, workers). Reference data (tax groups,
fiscal sections, payment methods) comes from an optional JSON file so that a shop can change
them without a code change; the defaults are docs/decisions.md §2.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from minipos.domain.money import cash_step_error
from minipos.domain.reference import (
    FiscalSection,
    PaymentMethod,
    RateChange,
    ReferenceData,
    TaxGroup,
    changes_problem,
)

ENV_PREFIX = "MINIPOS_"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    #: ``sqlite:///relative/path.sqlite3``, ``sqlite:////absolute/path`` or ``postgresql://…``.
    database_url: str = "sqlite:///minipos.sqlite3"
    #: Shop-local timezone: invoice timestamps are naive local time in it (decisions §1).
    timezone: str = "Europe/Riga"
    #: Requests with a larger body are refused with 413.
    max_body_bytes: int = 1024 * 1024
    #: The station group an invoice belongs to when the request does not name one.
    station_group: str = "1"
    #: Pepper for API key digests. When empty, a random one is kept in ``secret_file``.
    secret_key: str = ""
    secret_file: str = "minipos.secret"  # noqa: S105 - a file name, not a secret
    #: How long idempotency records are kept (decisions §8 asks for at least 24 hours).
    idempotency_ttl_hours: int = 48
    #: PostgreSQL connections per server process.
    pg_pool_size: int = 10
    #: Apply pending migrations when the server starts.
    auto_migrate: bool = True
    #: JSON file with ``taxes``, ``fiscal_sections`` and ``payment_methods`` (see docs/).
    reference_file: str = ""
    #: The cash part of a payment rounded to this step: ``off`` (the default; Latvia does not
    #: round cash) or ``0.05`` as in Estonia and Lithuania (docs/money.md, "Cash rounding").
    cash_rounding: str = "off"
    #: How long a station's claim on an invoice lasts without renewal (decisions §6).
    lease_seconds: int = 120
    #: One log line per request (turn off for benchmarks or behind a logging proxy).
    access_log: bool = True
    #: ``text`` for people, ``json`` (one object a line) for a log collector.
    log_format: Literal["text", "json"] = "text"
    #: Serve ``/metrics`` without a key (for a scraper on a network only it can reach);
    #: otherwise it takes an admin key (docs/operations.md).
    metrics_public: bool = False
    #: A request's line and headers must arrive within this long of the connection opening
    #: (or of the request's first byte on a kept-alive one), else it is closed (security.md).
    header_timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 10.0
    #: A request's whole body must arrive within this long of its headers, however it
    #: trickles in, else it is answered 408 and the connection closed (security.md). 60 s
    #: carries a store's largest sync push (8 MiB) at about 1 Mbit/s.
    body_timeout_seconds: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    #: An idle keep-alive connection is closed after this long.
    keep_alive_seconds: Annotated[int, Meta(ge=1, le=300)] = 5
    #: Open connections per server process; past this, requests are answered 503.
    max_connections: Annotated[int, Meta(ge=1)] = 1000
    #: Seconds an API key lookup is cached in memory (revocation takes effect within this).
    auth_cache_seconds: float = 10.0
    #: Write the event log (``/api/events``, webhooks). Off only to measure what it costs:
    #: changes made while it is off are never announced.
    events: bool = True
    #: Days the event log keeps an event (``GET /api/events`` can replay this far back).
    event_retention_days: int = 30
    #: Threads per process drawing PNG previews and e-receipt images (docs/security.md).
    render_workers: Annotated[int, Meta(ge=1, le=64)] = 2
    #: Renders that may wait for a thread; past that a preview answers 503 with Retry-After.
    render_queue: Annotated[int, Meta(ge=0, le=1000)] = 8
    #: A render gives up after this long: a preview answers 503, an e-receipt retries later.
    render_timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 10.0
    #: Rendered previews kept in memory (least recently used dropped first), and their size.
    render_cache_entries: Annotated[int, Meta(ge=0, le=10_000)] = 64
    render_cache_mb: Annotated[int, Meta(ge=0, le=4096)] = 32
    #: ``reject``: an unknown body field or query parameter is a 400 naming it; ``ignore``:
    #: dropped silently, as DRF does, for old clients (docs/api-conventions.md, "Errors").
    unknown_fields: Annotated[str, Meta(pattern="^(ignore|reject)$")] = "reject"
    #: The server's role in a chain of shops (docs/stores.md): ``standalone`` (one shop, no
    #: centre), ``central`` (the chain's back office), ``store`` (a shop's server that sells
    #: on its own and syncs with the centre).
    mode: Literal["standalone", "central", "store"] = "standalone"
    #: Store mode: the centre's base URL (``https://``, or ``http://`` to a loopback host).
    central_url: str = ""
    #: Store mode: this store's key at the centre (``minipos store add`` printed it), or a
    #: file holding it.
    central_key: str = ""
    central_key_file: str = ""
    #: Store mode: most outbox items one push carries.
    sync_batch: Annotated[int, Meta(ge=1, le=5000)] = 500
    #: Store mode: days an acknowledged outbox item is kept (pending ones are kept for ever).
    sync_retention_days: Annotated[int, Meta(ge=1)] = 7
    #: The language of the back office (/office/) and the cashier screen (/pos/) until a
    #: browser picks one with the language switch (docs/office.md).
    language: Literal["lv", "en"] = "lv"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        settings = load_env(cls, environ)
        settings.zone()  # fail at start-up, not on the first request
        settings.check_mode()
        return settings

    def check_mode(self) -> None:
        """A store needs its centre; the centre owns reference data, so a store has no file."""
        if self.mode != "store":
            return
        if not self.central_url:
            raise ConfigError("MINIPOS_CENTRAL_URL: required when MINIPOS_MODE=store")
        url = urlsplit(self.central_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"MINIPOS_CENTRAL_URL: {self.central_url!r} is not an http(s) URL")
        if url.scheme == "http" and not _loopback(url.hostname):
            raise ConfigError(
                "MINIPOS_CENTRAL_URL: use https:// (plain http only to a loopback address): "
                "the store key and every receipt travel on it"
            )
        if not self.central_key and not self.central_key_file:
            raise ConfigError(
                "MINIPOS_CENTRAL_KEY: required when MINIPOS_MODE=store "
                "(or MINIPOS_CENTRAL_KEY_FILE)"
            )
        if self.reference_file:
            raise ConfigError(
                "MINIPOS_REFERENCE_FILE: not used when MINIPOS_MODE=store; the centre owns "
                "tax groups, fiscal sections and payment methods"
            )

    def store_key(self) -> str:
        """The key this store presents to the centre."""
        if self.central_key:
            return self.central_key
        try:
            return Path(self.central_key_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"MINIPOS_CENTRAL_KEY_FILE: cannot read {self.central_key_file}: {exc.strerror}"
            ) from exc

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"MINIPOS_TIMEZONE: unknown timezone {self.timezone!r}") from exc

    def cash_rounding_step(self) -> Decimal | None:
        """The cash rounding step, or None when cash is not rounded."""
        text = self.cash_rounding.strip().lower()
        if text in ("", "off"):
            return None
        try:
            step = Decimal(text)
        except InvalidOperation:
            step = Decimal("NaN")
        if problem := cash_step_error(step):
            raise ConfigError(f"MINIPOS_CASH_ROUNDING: {text!r}: {problem} (or off)")
        return step

    def reference(self) -> ReferenceData:
        if not self.reference_file:
            return ReferenceData.default()
        try:
            data = msgspec.json.decode(Path(self.reference_file).read_bytes(), type=_ReferenceFile)
        except (OSError, msgspec.DecodeError) as exc:
            raise ConfigError(f"MINIPOS_REFERENCE_FILE: {exc}") from exc
        taxes = {}
        for tax in data.taxes:
            changes = tuple(RateChange(c.valid_from, c.rate) for c in tax.changes)
            if not tax.rate.is_finite() or tax.rate < 0:
                raise ConfigError(f"MINIPOS_REFERENCE_FILE: taxes id {tax.id}: a negative rate")
            if problem := changes_problem(changes):
                raise ConfigError(f"MINIPOS_REFERENCE_FILE: taxes id {tax.id} changes: {problem}")
            taxes[tax.id] = TaxGroup(tax.id, tax.rate, tax.name, changes)
        return ReferenceData(
            taxes=taxes,
            fiscal_sections={s.id: FiscalSection(s.id, s.name) for s in data.fiscal_sections},
            payment_methods={
                m.id: PaymentMethod(m.id, m.code, m.name, m.is_cash) for m in data.payment_methods
            },
        )


S = TypeVar("S", bound=msgspec.Struct)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_env(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Fill a settings struct from the ``MINIPOS_*`` variables named after its fields (each
    settings struct takes its own and ignores the rest); a bad value names its variable."""
    env = os.environ if environ is None else environ
    fields = set(cls.__struct_fields__)
    raw = {
        name[len(ENV_PREFIX) :].lower(): value
        for name, value in env.items()
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].lower() in fields
    }
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_env_message(str(exc))) from exc


class _RateChange(msgspec.Struct):
    #: A local date-time in the shop's zone, without an offset.
    valid_from: Annotated[datetime, Meta(tz=False)]
    rate: Decimal


class _Tax(msgspec.Struct):
    id: int
    #: The rate before the first of ``changes`` (the only one without them).
    rate: Decimal
    name: str
    #: Optional dated rate changes, oldest first (older files have none).
    changes: list[_RateChange] = []


class _Section(msgspec.Struct):
    id: int
    name: str


class _Method(msgspec.Struct):
    id: int
    code: int
    name: str
    is_cash: bool = False


class _ReferenceFile(msgspec.Struct):
    taxes: list[_Tax]
    fiscal_sections: list[_Section]
    payment_methods: list[_Method]


def _env_message(message: str) -> str:
    # msgspec says "… - at `$.max_body_bytes`"; operators think in variable names.
    text, _, where = message.partition(" - at `$.")
    return f"{ENV_PREFIX}{where.rstrip('`').upper()}: {text}" if where else message
