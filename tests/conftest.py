"""Fixtures shared by the API and end-to-end tests.

Every test that takes ``database_url`` runs twice: on a fresh SQLite file and on a real
PostgreSQL database (``MINIPOS_TEST_PG``, default the local server). Without PostgreSQL the
PostgreSQL half is skipped locally but fails under CI (``CI=true``), so it is never lost silently.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import psycopg
import pytest
from starlette.testclient import TestClient

from minipos.auth.principal import Role
from minipos.auth.service import create_key
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import migrate, open_database
from support import Api, StatementLog

# No property test fails for being slow: speed is measured in bench/, and a loaded CI machine
# (or a second pytest worker beside it) would turn Hypothesis's 200 ms deadline into flakes.
hypothesis.settings.register_profile("minipos", deadline=None)
hypothesis.settings.load_profile("minipos")

# The README's first command exports the seller's identity for `scripts/serve`, and a user then
# runs `scripts/test` in the same shell. Every test sets the settings it needs itself, so none
# may inherit the caller's: MINIPOS_* go, except MINIPOS_TEST_*, the suite's own (and imported
# before any test, so pytest-xdist's workers start without them too).
for _name in [
    n for n in os.environ if n.startswith("MINIPOS_") and not n.startswith("MINIPOS_TEST_")
]:
    del os.environ[_name]

PG_ADMIN_URL = os.environ.get("MINIPOS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = (
    # Not catalogue_revision: its one row must stay (revisions only ever grow).
    "product_addons", "product_barcodes", "products", "categories",
    "journal", "printers", "print_jobs", "receipt_payments", "receipt_rows", "receipts",
    "cash_movements", "training_receipts", "shifts", "stations",
    "invoice_payments", "invoice_rows", "invoices", "idempotency_keys", "api_keys",
    "events", "webhook_attempts", "webhook_deliveries", "webhooks", "messages",
    # A chain's tables: the database's remembered mode must not outlive its test.
    "sync_identity", "sync_outbox", "sync_state", "sync_ingest", "sync_conflicts", "stores",
    "sales_hourly", "sales_hourly_payment", "sales_hourly_tax",
    "office_login_failures", "office_sessions", "office_users", "employees",
)  # fmt: skip


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"minipos_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "minipos.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    return url


#: A clearly fictitious seller for the Latvian fiscal profile, which will not start without one.
DEMO_SHOP = {
    "MINIPOS_SHOP_NAME": "DEMO SIA (test)",
    "MINIPOS_SHOP_REGISTRATION_NUMBER": "40000000000",
    "MINIPOS_SHOP_VAT_NUMBER": "LV40000000000",
    "MINIPOS_SHOP_ADDRESS": "Demo iela 1, Rīga, LV-1000",
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in DEMO_SHOP.items():
        if name not in os.environ:  # a test that sets its own seller keeps it
            monkeypatch.setenv(name, value)
    return Settings(
        database_url=database_url,
        secret_key="test-pepper",
        secret_file=str(tmp_path / "minipos.secret"),
        auth_cache_seconds=0.0,
        access_log=False,
    )


@pytest.fixture
def keys(settings: Settings) -> dict[Role, str]:
    """One API key per role (the station key bound to station 1)."""
    db = open_database(settings.database_url)
    try:
        return {
            role: db.run(
                lambda conn, role=role: create_key(
                    conn,
                    settings.secret_key.encode(),
                    role,
                    station_id=1 if role is Role.STATION else None,
                    now_us=0,
                )
            ).key
            for role in Role
        }
    finally:
        db.close()


@pytest.fixture
def statements() -> StatementLog:
    """Counts the SQL statements of the requests ``api`` sends inside ``recording()``."""
    return StatementLog()


@pytest.fixture
def api(settings: Settings, keys: dict[Role, str], statements: StatementLog) -> Iterator[Api]:
    app = create_app(settings)
    app.add_middleware(statements.middleware)
    with TestClient(app) as client:
        yield Api(client, keys)
