"""Seed one station's open shift with N completed sales through the service layer, in-process
and in large transactions (the set-up of the shift-close benchmark, not itself measured)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from minipos.checkout import service as checkout
from minipos.checkout.schemas import CompleteIn
from minipos.config import Settings
from minipos.db import Connection, migrate, open_database
from minipos.invoices import lifecycle
from minipos.invoices import service as invoices
from minipos.invoices.schemas import InvoiceIn, PaymentIn, RowIn
from minipos.invoices.service import ShopConfig
from minipos.print_jobs.service import enqueue_z_report
from minipos.stations import service as stations
from minipos.stations.schemas import CashierIn, StationIn
from minipos.stations.service import StationContext
from minipos.timeutil import now_us

BATCH = 1000


class Created(msgspec.Struct):
    id: int


def seed_shift(receipts: int) -> int:
    settings = Settings.from_env()
    migrate.upgrade(settings.database_url)
    invoice_ctx = ShopConfig(settings.reference(), settings.zone(), settings.station_group)
    lease_us = 3_600_000_000
    ctx = StationContext(invoice_ctx, settings.secret_key.encode(), lease_us, enqueue_z_report)
    db = open_database(settings.database_url)
    try:
        station = db.run(
            lambda conn: stations.register(
                conn, StationIn(name="Seed", pos_id="77", chassis_id="S"), ctx, now_us()
            )
        )
        db.run(lambda conn: stations.open_shift(conn, station.id, CashierIn(), ctx, now_us()))
        request = InvoiceIn(
            rows=[
                RowIn(text="Prece", quantity=Decimal(2), price=Decimal("1.15"), tax=n)
                for n in range(3)
            ],
            payments=[PaymentIn(method_id=1)],
        )
        for start in range(0, receipts, BATCH):

            def batch(conn: Connection, start: int = start) -> None:
                for n in range(start, min(start + BATCH, receipts)):
                    prepared = invoices.prepare(request, invoice_ctx, now_us(), created_by=None)
                    # create() answers the encoded invoice (the HTTP body); take its id.
                    created = invoices.create(conn, prepared, invoice_ctx)
                    invoice_id: int = msgspec.json.decode(created, type=Created).id
                    lifecycle.claim(
                        conn, station.id, invoice_id, invoice_ctx, now_us(), lease_us=lease_us
                    )
                    checkout.complete(
                        conn,
                        station_id=station.id,
                        invoice_id=invoice_id,
                        request=CompleteIn(request_id=f"seed-{n}"),
                        ctx=invoice_ctx,
                        now_us=now_us(),
                    )

            db.run(batch)
        return station.id
    finally:
        db.close()
