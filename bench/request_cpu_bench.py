"""Request-side CPU of an invoice POST (issue #17), in process: no server, no database.

    taskset -c 1 .venv/bin/python bench/request_cpu_bench.py [--iterations 5000] [--repeat 5]

Times what ``POST /api/invoice/new?validateonly=1`` does between reading the body and writing
the answer, on the benchmark's invoice (bench/invoice_payload.py) and the shop configuration
the app builds from default settings: decode → ``service.prepare`` → ``service.detail`` →
``encode``, whole and stage by stage, and ``validate_invoice`` (the checks and the total, part of
``prepare``) on its own. Each figure is the best of ``--repeat`` runs of
``--iterations`` invoices in CPU time (the least disturbed by other work on the machine), in
µs per invoice.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from invoice_payload import body
from minipos.api.jsonio import decode, encode
from minipos.config import Settings
from minipos.domain.invoice import validate_invoice
from minipos.invoices import service
from minipos.invoices.schemas import InvoiceIn
from minipos.invoices.service import PreparedInvoice, ShopConfig
from minipos.timeutil import now_us


def shop() -> ShopConfig:
    """The ShopConfig ``bootstrap`` builds for default settings."""
    settings = Settings.from_env({})
    return ShopConfig(
        reference=settings.reference(),
        zone=settings.zone(),
        station_group=settings.station_group,
        cash_rounding=settings.cash_rounding_step(),
    )


def best_us(step: Callable[[], object], iterations: int, repeat: int) -> float:
    """µs per call of ``step``: the best of ``repeat`` runs of ``iterations`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(iterations):
            step()
        best = min(best, time.process_time() - start)
    return best / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    ctx = shop()
    raw = body("BENCH-1")
    request = decode(raw, InvoiceIn)
    prepared = service.prepare(request, ctx, now_us(), created_by=1)
    reference = ctx.reference.in_force(now_us(), ctx.zone)

    def prepare() -> PreparedInvoice:
        return service.prepare(request, ctx, now_us(), created_by=1)

    def detail() -> object:
        return service.detail(prepared.header, prepared.rows, prepared.payments, ctx)

    answer = detail()

    def whole() -> bytes:
        invoice = service.prepare(decode(raw, InvoiceIn), ctx, now_us(), created_by=1)
        return encode(service.detail(invoice.header, invoice.rows, invoice.payments, ctx))

    stages: list[tuple[str, Callable[[], object]]] = [
        ("decode", lambda: decode(raw, InvoiceIn)),
        ("validate", lambda: validate_invoice(request, reference)),
        ("prepare", prepare),
        ("detail", detail),
        ("encode", lambda: encode(answer)),
        ("whole request", whole),
    ]
    print(f"invoice of {len(request.rows)} rows, {len(raw)} bytes; best of {args.repeat}")
    for name, step in stages:
        step()  # warm caches, as a running server's are
        print(f"{name:>14}: {best_us(step, args.iterations, args.repeat):8.1f} µs per invoice")


if __name__ == "__main__":
    main()
