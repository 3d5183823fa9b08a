"""Running wrk: install it if needed, build the Lua script, run it pinned, read its JSON line."""

from __future__ import annotations

import json
import math
import os
import resource
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).with_name("lua")

#: Idle seconds after the active window for the answers still in flight (see lua/common.lua);
#: the default of ``--drain``. A smoke run at two connections needs far less.
DRAIN_SECONDS = 3
#: wrk counts a slower answer as a timeout error and leaves it out of the latency histogram.
#: wrk allocates the histogram up to this bound (8 bytes per µs), so it is not set higher.
TIMEOUT_SECONDS = 5
_MARKER = "BENCH_JSON "


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def ensure_wrk() -> str:
    """The path of ``wrk``, installing the Debian package first when running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(
            "wrk is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y wrk`, "
            "macOS: `brew install wrk`) and run the benchmark again."
        )
    print("wrk not found; installing it with apt-get …", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise BenchError(f"`{' '.join(command)}` failed:\n{done.stderr[-2000:]}")
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get installed wrk but it is not on PATH")
    return found


def write_script(kind: str, directory: Path) -> Path:
    """``common.lua`` + ``<kind>.lua`` in one file: wrk takes a single ``-s`` script."""
    text = (LUA_DIR / "common.lua").read_text() + "\n" + (LUA_DIR / f"{kind}.lua").read_text()
    path = directory / f"wrk_{kind}.lua"
    path.write_text(text)
    return path


@dataclass
class WrkResult:
    """One wrk run. Latencies in milliseconds; ``ok`` is answers below 400 (wrk's count)."""

    requests: int
    ok: int
    non_2xx: int
    socket_errors: dict[str, int]
    active_s: float
    rps: float
    latency_ms: dict[str, float]
    #: wrk's own CPU use over the active window (100 = one core): is the client the limit?
    wrk_cpu_pct: float
    raw: dict[str, Any] = field(repr=False)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("raw")
        return data


def run_wrk(
    wrk: str,
    *,
    url: str,
    script: Path,
    script_args: list[str],
    seconds: float,
    drain: int,
    connections: int,
    headers: dict[str, str],
    cpu: int | None,
    log: Path,
) -> WrkResult:
    """Run wrk for ``seconds`` of load (plus the drain) and return its figures."""
    active_ms = round(seconds * 1000)
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{math.ceil(seconds) + drain}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [url, "--", str(active_ms), *script_args]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    # wrk is our only child while it runs, so the children's rusage delta is its CPU time.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            timeout=seconds + drain + 60,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish in time: {' '.join(command)}") from exc
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with log.open("a") as handle:
        handle.write(f"$ {shlex.join(command)}\n{done.stdout}{done.stderr}\n")
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(_MARKER)), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw: dict[str, Any] = json.loads(line[len(_MARKER) :])
    errors: dict[str, int] = raw["errors"]
    requests = int(raw["requests"])
    active_s = raw["active_us"] / 1e6
    return WrkResult(
        requests=requests,
        ok=requests - errors["status"],
        non_2xx=errors["status"],
        socket_errors={k: v for k, v in errors.items() if k != "status"},
        active_s=round(active_s, 3),
        rps=round(requests / active_s, 1) if active_s > 0 else 0.0,
        latency_ms={k: round(v / 1000, 3) for k, v in raw["latency_us"].items()},
        wrk_cpu_pct=round(100 * cpu_s / active_s, 1) if active_s > 0 else 0.0,
        raw=raw,
    )
