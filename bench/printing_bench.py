"""Printing benchmark (issue #5): render receipts of 20 rows to ESC/POS and to PNG.

    .venv/bin/python bench/printing_bench.py [--receipts 1000] [--columns 42] [--cpu 1]

Every receipt is different (its number, rows, hash) and has 20 rows with Latvian names and
two VAT rates, a header and a footer block (an EAN-13) and the chain hash's QR code: what the
print worker renders for a sale. In the same run and on the same documents it measures the
baseline, the text preview (the same layout to plain text: what is common to every output),
and reports receipts/s for each output and its ratio to the baseline. One process on one
core (``--cpu``, default 1); nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from minipos.printing import (
    PaymentLine,
    PrintableReceipt,
    PrinterProfile,
    ReceiptLine,
    ShopInfo,
    VatLine,
    to_escpos,
    to_png,
    to_text,
)
from minipos.printing.blocks import BarcodeBlock, TextBlock

D = Decimal
RIGA = timezone(timedelta(hours=2))
NAMES = (
    "Kūka ar ķiršiem",
    "Ūdens gāzēts 0.5 l",
    "Rupjmaize Ģimenes",
    "Šokolāde ar riekstiem un rozīnēm, 200 g",
    "Piens 2,5 % 1 l",
    "Siers Krievijas ņieburi",
)
SHOP = ShopInfo(
    "SIA Ūdensroze",
    ("Ģertrūdes iela 5, Rīga, LV-1010",),
    vat_number="LV40003000000",
    registration_number="40003000000",
)


def receipt(number: int, rows: int = 20) -> PrintableReceipt:
    lines = []
    gross = {D(21): D(0), D(12): D(0)}
    for row in range(rows):
        rate = D(21) if row % 3 else D(12)
        quantity = D(row % 4 + 1)
        price = D(f"{(number + row) % 17 + 1}.{row:02d}")
        amount = quantity * price
        lines.append(
            ReceiptLine(
                NAMES[row % len(NAMES)], quantity, price, amount, rate, "A" if rate == 21 else "B"
            )
        )
        gross[rate] += amount
    vat_lines = []
    for rate, total in gross.items():
        tax = (total * rate / (100 + rate)).quantize(D("0.01"))
        vat_lines.append(VatLine(rate, total - tax, tax, total, "A" if rate == 21 else "B"))
    total = sum(gross.values(), D(0))
    return PrintableReceipt(
        shop=SHOP,
        lines=tuple(lines),
        vat_lines=tuple(vat_lines),
        total=total,
        payments=(PaymentLine("Skaidrā nauda", total + D(5)),),
        change=D(5),
        station_name="Kase 1",
        pos_id="1",
        document_id=str(number),
        z_number=7,
        cashier="Jānis Bērziņš",
        printed_at=datetime(2026, 2, 17, 16, 8, 47, tzinfo=RIGA),
        chain_hash=hashlib.sha256(str(number).encode()).hexdigest(),
        header=(TextBlock("Paldies, ka iepērkaties!"),),
        footer=(BarcodeBlock(f"47500000{number % 10000:04d}1", 2),),
        open_drawer=True,
    )


@dataclass(frozen=True)
class Result:
    name: str
    receipts: int
    seconds: float
    cpu_share: float
    mean_bytes: float

    @property
    def per_second(self) -> float:
        return self.receipts / self.seconds


def measure(
    name: str, render: Callable[[PrintableReceipt], bytes | str], receipts: list[PrintableReceipt]
) -> Result:
    render(receipts[0])  # warm-up: imports, fonts, caches
    size = 0
    started = time.perf_counter()
    cpu = time.process_time()
    for document in receipts:
        size += len(render(document))
    elapsed = time.perf_counter() - started
    cpu_used = time.process_time() - cpu
    return Result(name, len(receipts), elapsed, cpu_used / elapsed, size / len(receipts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--columns", type=int, choices=(32, 42, 48), default=42)
    parser.add_argument("--cpu", type=int, default=1, help="pin to this CPU (-1: do not pin)")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    dots = {32: 384, 42: 512, 48: 576}[args.columns]
    profile = PrinterProfile(columns=args.columns, dots_per_line=dots)
    receipts = [receipt(n, args.rows) for n in range(1, args.receipts + 1)]

    results = [
        measure("text (baseline)", lambda r: to_text(r, profile), receipts),
        measure("ESC/POS", lambda r: to_escpos(r, profile), receipts),
        measure("ESC/POS raster", lambda r: to_escpos(r, _raster(profile)), receipts[:100]),
        measure("PNG", lambda r: to_png(r, profile), receipts),
    ]
    baseline = results[0].per_second
    print(
        f"{args.receipts} receipts of {args.rows} rows, {args.columns} columns, "
        f"Python {platform.python_version()}, pinned to CPU {args.cpu}"
    )
    print(f"{'output':<16} {'receipts/s':>11} {'ms each':>9} {'× baseline':>11} {'bytes':>9}")
    for result in results:
        rate = result.per_second
        print(
            f"{result.name:<16} {rate:>11,.0f} {1000 / rate:>9.2f} "
            f"{rate / baseline:>10.2f}× {result.mean_bytes:>9,.0f}"
        )
    print("(ESC/POS raster: the first 100 receipts, text drawn as images for printers without")
    print(" a Baltic code page)")
    if args.output:
        figures = [asdict(r) | {"per_second": r.per_second} for r in results]
        args.output.write_text(json.dumps(figures, indent=2))
    return 0


def _raster(profile: PrinterProfile) -> PrinterProfile:
    return PrinterProfile(
        columns=profile.columns, dots_per_line=profile.dots_per_line, code_page="raster"
    )


if __name__ == "__main__":
    sys.exit(main())
