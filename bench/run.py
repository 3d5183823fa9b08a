"""Load benchmark of the invoice API: ``python bench/run.py [--duration 10] [--warmup 3]``.

Starts ``minipos serve`` and a bare baseline app on fresh SQLite files in a temporary
directory, loads them with wrk over loopback (server on CPU 0, wrk on CPU 1), checks that every
acknowledged POST is in the database and nothing else is, prints a table with the targets and
writes ``bench/results/latest.json``. See bench/README.md for how to read the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import cpustat
import invoice_payload
from servers import HOST, Server, free_port, minipos_command, request, run_cli
from wrk_runner import DRAIN_SECONDS, BenchError, WrkResult, ensure_wrk, run_wrk, write_script

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "latest.json"
SERVER_CPU, LOAD_CPU = 0, 1
PEPPER = "bench-pepper"

#: What the figures are held against (printed beside them, recorded in the JSON).
TARGET_POST_RPS = 2000.0
TARGET_POST_P99_MS = 25.0
TARGET_VS_BASELINE = 0.7
TARGET_VALIDATE_RPS = 3000.0
TARGET_GET_RPS = 4000.0
#: CPU 0 time taken by other processes above which a run is reported as disturbed.
NOISE_PCT = 5.0
#: The same for CPU 1 (wrk's); looser, as the kernel's loopback work there is not wrk's time.
NOISE_PCT_LOAD_CPU = 10.0
#: Busy % of CPU 0 or 1 above which the machine is not quiet enough to start.
QUIET_PCT = 10.0


@dataclass
class RowsCheck:
    """Invoices stored vs. POSTs acknowledged (verification request + warm-up + measured)."""

    expected: int
    invoices: int
    invoice_rows: int
    rows_per_invoice: int

    @property
    def ok(self) -> bool:
        return (
            self.invoices == self.expected
            and self.invoice_rows == self.invoices * self.rows_per_invoice
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "expected_invoices": self.expected,
            "invoices": self.invoices,
            "invoice_rows": self.invoice_rows,
            "status": "OK" if self.ok else "MISMATCH",
        }


@dataclass
class Scenario:
    name: str
    warmup: WrkResult
    measured: WrkResult
    #: CPU use during the measured run (see cpustat.py).
    cpu: dict[str, float | None] = field(default_factory=dict)
    rows: RowsCheck | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "warmup": self.warmup.as_json(),
            "measured": self.measured.as_json(),
            "cpu_during_measured": self.cpu,
        }
        if self.rows is not None:
            data["rows_check"] = self.rows.as_json()
        return data


@dataclass
class Bench:
    """Everything one benchmark run shares: options, paths, the wrk binary."""

    wrk: str
    tmp: Path
    duration: float
    warmup: float
    connections: int
    pin: bool
    drain: int = DRAIN_SECONDS
    prefix: str = field(default_factory=lambda: f"b{secrets.token_hex(4)}")

    @property
    def server_cpu(self) -> int | None:
        return SERVER_CPU if self.pin else None

    @property
    def wrk_log(self) -> Path:
        return self.tmp / "wrk.log"

    def load(
        self,
        label: str,
        url: str,
        kind: str,
        headers: dict[str, str],
        script_args: Callable[[str], list[str]],
        server: Server,
    ) -> Scenario:
        """The warm-up run, then the measured run; ``script_args`` gets the phase name."""
        script = write_script(kind, self.tmp)
        results = []
        for phase, seconds in (("warmup", self.warmup), ("measured", self.duration)):
            print(f"  {label}: {phase} {seconds:g} s …", file=sys.stderr, flush=True)
            # CPU use over the active window only (the drain after it is idle by design).
            before = cpustat.sample(server.pid)
            timer, window = cpustat.sample_later(seconds, server.pid)
            results.append(
                run_wrk(
                    self.wrk,
                    url=url,
                    script=script,
                    script_args=script_args(phase),
                    seconds=seconds,
                    drain=self.drain,
                    connections=self.connections,
                    headers=headers,
                    cpu=LOAD_CPU if self.pin else None,
                    log=self.wrk_log,
                )
            )
            timer.cancel()
            cpu = cpustat.usage(before, window[0]) if window else {}
        return Scenario(label, results[0], results[1], cpu=cpu)


# --- the scenarios --------------------------------------------------------------------------


def ours_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of ``minipos serve`` and its CLI: product defaults plus ``settings``."""
    return _clean_env() | {
        "MINIPOS_DATABASE_URL": database_url,
        "MINIPOS_SECRET_KEY": PEPPER,
        "MINIPOS_ACCESS_LOG": "false",
        **settings,
    }


def ours_server(
    bench: Bench, env: dict[str, str], name: str = "minipos"
) -> tuple[Server, dict[str, str]]:
    """A ``minipos serve`` (not yet started) on ``env``'s database, and an integrator's headers.

    The key is created (and the database migrated) by the real CLI before the server starts.
    """
    key = run_cli(["key", "create", "--role", "integrator", "--name", "bench"], env, bench.tmp)
    headers = {
        "Authorization": f"Token {key.strip().splitlines()[-1]}",
        "Content-Type": "application/json",
    }
    port = free_port()
    command = [*minipos_command(), "serve", "--host", HOST, "--port", str(port)]
    server = Server(
        name, command, env=env, cwd=bench.tmp, port=port, ready_path="/health", cpu=bench.server_cpu
    )
    return server, headers


def load_post(
    bench: Bench,
    server: Server,
    headers: dict[str, str],
    label: str,
    name: str,
    path: str = "/api/invoice/new",
) -> Scenario:
    """Check that ``server`` takes the benchmark invoice at ``path``, then load it with POSTs.

    ``name`` goes into every ``invoice_no`` (with the run id and the phase), so two scenarios
    of one run never send the same number.
    """
    template = bench.tmp / "invoice_template.json"
    template.write_bytes(invoice_payload.template())
    stores = "validateonly" not in path
    _check_post(server.base_url + path, headers, f"{bench.prefix}-{name}-check", want_id=stores)
    return bench.load(
        label,
        server.base_url + path,
        "post",
        headers,
        lambda phase: [
            path,
            str(template),
            invoice_payload.INVOICE_NO_PLACEHOLDER,
            f"{bench.prefix}-{name}-{phase[0]}",
        ],
        server,
    )


def bench_ours(bench: Bench) -> list[Scenario]:
    """``minipos serve`` with product defaults: POST, POST ?validateonly=1, GET by id."""
    db_path = bench.tmp / "bench.sqlite3"
    server, headers = ours_server(bench, ours_environment(f"sqlite:///{db_path}"))
    with server:
        post = load_post(bench, server, headers, "ours POST", "p")
        validate = load_post(
            bench, server, headers, "ours validateonly", "v", "/api/invoice/new?validateonly=1"
        )
        low, high = _id_range(db_path)
        status, _ = request("GET", f"{server.base_url}/api/invoice/{high}", headers=headers)
        if status != 200:
            raise BenchError(f"GET /api/invoice/{high} answered {status}:\n{server.log_tail()}")
        get = bench.load(
            "ours GET by id",
            f"{server.base_url}/api/invoice/{low}",
            "get",
            headers,
            lambda phase: [str(low), str(high), str(secrets.randbelow(1_000_000))],
            server,
        )
        health = load_health(bench, server, "ours GET /health")
    post.rows = _rows_check(db_path, 1 + post.warmup.ok + post.measured.ok)
    return [post, validate, get, health]


def load_health(bench: Bench, server: Server, label: str) -> Scenario:
    """``GET /health``, which does no application work: the per-request cost of the stack
    (uvicorn, middleware, routing, the answer's write), held against the baseline's."""
    return bench.load(label, server.base_url + "/health", "health", {}, lambda phase: [], server)


def bench_baseline(bench: Bench) -> list[Scenario]:
    """``bench/baseline_app.py`` under uvicorn: same schema, durability and group commit."""
    db_path = bench.tmp / "baseline.sqlite3"
    env = _clean_env() | {"MINIPOS_DATABASE_URL": f"sqlite:///{db_path}"}
    run_cli(["db", "upgrade"], env, bench.tmp)
    template = bench.tmp / "invoice_template.json"
    template.write_bytes(invoice_payload.template())
    # Same request bytes as for ours (the baseline ignores the key).
    headers = {"Authorization": "Token baseline", "Content-Type": "application/json"}
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH_DIR),
        "--host", HOST, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip
    server = Server(
        "baseline",
        command,
        env=_clean_env() | {"BASELINE_DB": str(db_path)},
        cwd=bench.tmp,
        port=port,
        ready_path="/health",
        cpu=bench.server_cpu,
    )
    path = "/api/invoice/new"
    with server:
        url = server.base_url + path
        _check_post(url, headers, f"{bench.prefix}-verify", want_id=True)
        post = bench.load(
            "baseline POST",
            url,
            "post",
            headers,
            lambda phase: [
                path,
                str(template),
                invoice_payload.INVOICE_NO_PLACEHOLDER,
                f"{bench.prefix}-b-{phase[0]}",
            ],
            server,
        )
        health = load_health(bench, server, "baseline GET /health")
    post.rows = _rows_check(db_path, 1 + post.warmup.ok + post.measured.ok)
    return [post, health]


def _check_post(url: str, headers: dict[str, str], invoice_no: str, *, want_id: bool) -> None:
    """One request before any load: the payload must be accepted as it is."""
    status, body = request("POST", url, body=invoice_payload.body(invoice_no), headers=headers)
    if status != 200:
        raise BenchError(f"POST {url} answered {status} to the benchmark invoice:\n{body[:2000]!r}")
    answer = json.loads(body)
    if want_id and not isinstance(answer.get("id"), int):
        raise BenchError(f"POST {url} answered without an id: {body[:500]!r}")
    if not want_id and answer.get("id") is not None:
        raise BenchError(f"validateonly stored the invoice: {body[:500]!r}")


def _id_range(db_path: Path) -> tuple[int, int]:
    with _connect(db_path) as conn:
        query = "SELECT min(id), max(id), count(*) FROM invoices"
        low, high, count = conn.execute(query).fetchone()
    if not count:
        raise BenchError("no invoices stored: nothing to GET")
    if high - low + 1 != count:
        print(f"  note: invoice ids {low}-{high} have gaps; some GETs will 404", file=sys.stderr)
    return int(low), int(high)


def _rows_check(db_path: Path, expected: int) -> RowsCheck:
    """Count after the server stopped, so every commit it made is in the file."""
    with _connect(db_path) as conn:
        (invoices,) = conn.execute("SELECT count(*) FROM invoices").fetchone()
        (rows,) = conn.execute("SELECT count(*) FROM invoice_rows").fetchone()
    per_invoice = len(invoice_payload.invoice("x")["rows"])
    return RowsCheck(expected, int(invoices), int(rows), per_invoice)


class _connect:  # noqa: N801 - used like the function it wraps
    """``sqlite3.connect`` that also closes (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self._conn

    def __exit__(self, *exc: object) -> None:
        self._conn.close()


def _clean_env() -> dict[str, str]:
    # The user's own MINIPOS_* settings must not leak in: the product defaults are measured.
    return {k: v for k, v in os.environ.items() if not k.startswith("MINIPOS_")}


# --- report ---------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def summarize(scenarios: dict[str, Scenario]) -> dict[str, Any]:
    post = scenarios["ours POST"].measured
    validate = scenarios["ours validateonly"].measured
    get = scenarios["ours GET by id"].measured
    baseline = scenarios["baseline POST"].measured
    vs_baseline = _ratio(post.rps, baseline.rps)
    vo_vs_post = _ratio(validate.rps, post.rps)
    health = _ratio(
        scenarios["ours GET /health"].measured.rps, scenarios["baseline GET /health"].measured.rps
    )
    return {
        "ratios": {
            "ours_post_vs_baseline_post": vs_baseline,
            "ours_validateonly_vs_ours_post": vo_vs_post,
            "ours_health_vs_baseline_health": health,
        },
        "targets": {
            "post_rps": {"target": TARGET_POST_RPS, "value": post.rps,
                         "met": post.rps >= TARGET_POST_RPS},
            "post_p99_ms": {"target": TARGET_POST_P99_MS, "value": post.latency_ms["p99"],
                            "met": post.latency_ms["p99"] <= TARGET_POST_P99_MS},
            "post_vs_baseline": {"target": TARGET_VS_BASELINE, "value": vs_baseline,
                                 "met": (vs_baseline or 0) >= TARGET_VS_BASELINE},
            "validateonly_rps": {"target": TARGET_VALIDATE_RPS, "value": validate.rps,
                                 "met": validate.rps >= TARGET_VALIDATE_RPS},
            "get_rps": {"target": TARGET_GET_RPS, "value": get.rps,
                        "met": get.rps >= TARGET_GET_RPS},
        },
    }  # fmt: skip


def print_report(scenarios: dict[str, Scenario], summary: dict[str, Any]) -> None:
    print_table(scenarios.values())
    ratios, targets = summary["ratios"], summary["targets"]
    print()
    print(f"ours POST / baseline POST       = {_fmt(ratios['ours_post_vs_baseline_post'])}")
    print(f"ours validateonly / ours POST   = {_fmt(ratios['ours_validateonly_vs_ours_post'])}")
    print(f"ours /health / baseline /health = {_fmt(ratios['ours_health_vs_baseline_health'])}")
    print()
    print("targets:")
    lines = (
        ("POST req/s", "post_rps", ">=", ""),
        ("POST p99", "post_p99_ms", "<=", " ms"),
        ("POST vs baseline", "post_vs_baseline", ">=", "x"),
        ("validateonly req/s", "validateonly_rps", ">=", ""),
        ("GET by id req/s", "get_rps", ">=", ""),
    )
    for label, name, op, unit in lines:
        t = targets[name]
        mark = "met" if t["met"] else "NOT MET"
        value = f"{_fmt(t['value'])}{unit}"
        target = f"target {op} {t['target']:g}{unit}"
        print(f"  {label:<22}{value:>12}   {target:<18}{mark}")


def print_table(scenarios: Iterable[Scenario], *, flag_noise: bool = True) -> list[str]:
    """One line per scenario, and a warning naming the runs other processes disturbed.

    ``flag_noise=False`` when a database server shares the cores: its work is not noise.
    Gives the disturbed scenarios' names.
    """
    head = (
        f"{'scenario':<19}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'requests':>9}"
        f"{'non-2xx':>8}{'sockerr':>8}{'srv CPU':>8}{'wrk CPU':>8}{'CPU0':>6}{'CPU1':>6}"
        "  rows in DB"
    )
    print()
    print(head)
    print("-" * len(head))
    disturbed = []
    for scenario in scenarios:
        m, cpu = scenario.measured, scenario.cpu
        check = "-"
        if scenario.rows is not None:
            r = scenario.rows
            verdict = "OK" if r.ok else "MISMATCH"
            check = f"{verdict} ({r.invoices} stored, {r.expected} acknowledged)"
        print(
            f"{scenario.name:<19}{m.rps:>8.0f}{m.latency_ms['p50']:>8.2f}"
            f"{m.latency_ms['p99']:>8.2f}{m.latency_ms['max']:>8.1f}{m.requests:>9}"
            f"{m.non_2xx:>8}{sum(m.socket_errors.values()):>8}"
            f"{_pct(cpu.get('server_pct')):>8}{_pct(m.wrk_cpu_pct):>8}"
            f"{_pct(cpu.get('cpu0_busy_pct')):>6}"
            f"{_pct(cpu.get('cpu1_busy_pct')):>6}  {check}"
        )
        other = _other_load(scenario)
        if flag_noise and (other[0] > NOISE_PCT or other[1] > NOISE_PCT_LOAD_CPU):
            disturbed.append(f"{scenario.name} (CPU0 +{other[0]:.0f}%, CPU1 +{other[1]:.0f}%)")
    if disturbed:
        print(
            "\nwarning: other processes used the benchmark's CPUs during: "
            f"{'; '.join(disturbed)}. Those figures are low; rerun on a quiet machine."
        )
    return disturbed


def _other_load(scenario: Scenario) -> dict[int, float]:
    """Percent of CPU 0 and CPU 1 used by anything but the server and wrk (0 if unknown)."""
    cpu = scenario.cpu
    other = {}
    for core, own in ((0, cpu.get("server_pct")), (1, scenario.measured.wrk_cpu_pct)):
        busy = cpu.get(f"cpu{core}_busy_pct")
        other[core] = busy - own if busy is not None and own is not None else 0.0
    return other


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def machine_info(wrk: str, tmp_root: Path) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run(
        [wrk, "-v"], check=False, capture_output=True, text=True, timeout=10
    )
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk_version.stdout.splitlines() or ["?"])[0],
        "tmp_dir": str(tmp_root),
        "tmp_fs": _fs_type(tmp_root),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "git": _git_state(),
    }


def _git_state() -> dict[str, Any] | None:
    """The commit measured and whether src/ had uncommitted changes (read-only git calls)."""
    # No optional locks: never take index.lock from under someone else's git command.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=BENCH_DIR,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=BENCH_DIR.parent,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "src_dirty": bool(changed)}


def _fs_type(path: Path) -> str:
    """The file system holding ``path`` (on tmpfs an fsync costs nothing: durable ≠ measured)."""
    best, kind = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, fs, *_ = line.split()
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fs
    except OSError:
        pass
    return kind


# --- main -----------------------------------------------------------------------------------


def add_drain_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--drain",
        type=int,
        default=DRAIN_SECONDS,
        metavar="SECONDS",
        help="idle seconds after each run for the answers in flight (the smoke test uses 1)",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds before each")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    add_drain_argument(parser)
    parser.add_argument(
        "--tmp-dir", type=Path, default=None, help="where the temporary databases go"
    )
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temporary directory (logs, databases)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for CPUs 0 and 1 to be idle before starting",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 1 or args.connections < 1:
        parser.error("--duration and --warmup must be >= 1 s, --connections >= 1")
    return args


def _wait_quiet(patience: float) -> dict[int, float]:
    """Per-CPU busy % just before the start; waits (up to ``patience`` s) for a quiet machine."""
    deadline = time.monotonic() + patience
    while True:
        busy = cpustat.busy_now(1.0)
        loaded = {cpu: pct for cpu, pct in busy.items() if cpu in (0, 1) and pct > QUIET_PCT}
        if not loaded:
            return busy
        if time.monotonic() >= deadline:
            shown = ", ".join(f"CPU{cpu} {pct:.0f}%" for cpu, pct in sorted(loaded.items()))
            print(
                f"warning: the machine is busy ({shown} before the start); "
                "the figures will be low (see --wait-quiet)",
                file=sys.stderr,
            )
            return busy


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same path as Ctrl-C, so the servers are stopped by the `with` blocks.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        wrk = ensure_wrk()
        pin = {SERVER_CPU, LOAD_CPU} <= os.sched_getaffinity(0) and bool(shutil.which("taskset"))
        if not pin:
            print(
                "warning: taskset or CPUs 0 and 1 are not available; running unpinned",
                file=sys.stderr,
            )
        tmp_root = Path(args.tmp_dir or tempfile.gettempdir())
        machine = machine_info(wrk, tmp_root)
        if machine["tmp_fs"] == "tmpfs":
            print("warning: the temp dir is on tmpfs, where fsync is free; "
                  "use --tmp-dir on a disk to measure durable writes", file=sys.stderr)  # fmt: skip
        machine["cpu_busy_before_pct"] = _wait_quiet(args.wait_quiet)
        tmp = Path(tempfile.mkdtemp(prefix="minipos-bench-", dir=tmp_root))
        bench = Bench(wrk, tmp, args.duration, args.warmup, args.connections, pin, args.drain)
        print(f"benchmark in {tmp} (run id {bench.prefix})", file=sys.stderr)
        try:
            scenarios = {s.name: s for s in [*bench_ours(bench), *bench_baseline(bench)]}
        finally:
            if args.keep_tmp:
                print(f"kept {tmp}", file=sys.stderr)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130

    summary = summarize(scenarios)
    print_report(scenarios, summary)
    result = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "wrk_threads": 1,
            "pinned": {"server_cpu": SERVER_CPU, "wrk_cpu": LOAD_CPU} if pin else None,
            "body_bytes": len(invoice_payload.body(f"{bench.prefix}-p-m-1-100000")),
            "run_id": bench.prefix,
        },
        "machine": machine,
        "scenarios": {name: s.as_json() for name, s in scenarios.items()},
        **summary,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults written to {args.output}")
    checks = [s.rows.ok for s in scenarios.values() if s.rows is not None]
    return 0 if all(checks) else 2


if __name__ == "__main__":
    sys.exit(main())
