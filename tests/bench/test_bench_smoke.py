"""Every benchmark runs for a second or two on tiny sizes, so a change that breaks one fails CI.

The figures of these runs mean nothing (tiny sizes, a busy machine); what is checked is that each
benchmark starts its servers, drives them, prints its report and exits 0 — its own correctness
checks (row counts, double completions) included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
OUT = ["--output", "{out}"]

# (script, tiny arguments, a line its report must print); "{out}" is a temporary results file.
SMOKE = [
    (
        "run.py",
        ["--duration", "1", "--warmup", "1", "--connections", "2", "--drain", "1", *OUT],
        "POST vs baseline",
    ),
    (
        "events_bench.py",
        [
            *("--duration", "1", "--warmup", "1", "--connections", "2", "--drain", "1"),
            *("--rounds", "1", *OUT),
        ],
        "events on / events off",
    ),
    (
        "stations_bench.py",
        ["--duration", "1", "--stations", "2", "--receipts", "20"],
        "shift close with 20 receipts",
    ),
    (
        "latency_bench.py",
        ["--duration", "2", "--warmup", "1", "--rate", "10", "--stations", "2", *OUT],
        "latency target: p99 of all requests",
    ),
    (
        "catalogue_bench.py",
        ["--sizes", "50", "--requests", "20", "--warmup", "5", *OUT],
        "feed poll",
    ),
    ("printing_bench.py", ["--receipts", "10", "--rows", "3", "--cpu", "-1", *OUT], "PNG"),
    ("webhook_bench.py", ["--events", "50"], "webhook delivery:"),
    ("request_cpu_bench.py", ["--iterations", "5", "--repeat", "1"], "whole request:"),
    ("write_cpu_bench.py", ["--iterations", "20", "--repeat", "1"], "ours / baseline inserts"),
    ("cycle_write_bench.py", ["--cycles", "10", "--repeat", "1", "--pages"], "WAL frames a commit"),
    (
        "reports_bench.py",
        ["--receipts", "2000", "--days", "40", "--repeat", "2", *OUT],
        "report by day: p50",
    ),
    (
        "sync_bench.py",
        [
            "--receipts",
            "200",
            "--steady-seconds",
            "2",
            "--rate",
            "20",
            "--fan-in-stores",
            "2",
            "--fan-in-receipts",
            "50",
            *OUT,
        ],
        "catch-up: 200 receipts",
    ),
]


@pytest.mark.parametrize(("script", "args", "expected"), SMOKE, ids=[s[0] for s in SMOKE])
def test_benchmark_runs(script: str, args: list[str], expected: str, tmp_path: Path) -> None:
    args = [arg.replace("{out}", str(tmp_path / "results.json")) for arg in args]
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-3000:]
    assert expected in report, report[-3000:]
