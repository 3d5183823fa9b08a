"""CPU use during a run, from /proc: how busy the server was, and whether anything else was.

On a 2-core machine the figures only mean something if the server had CPU 0 to itself; the
difference between CPU 0's busy time and the server's own CPU time is the time other processes
took from it, so a run that was disturbed can be told from one that was not.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float
    process_ticks: int | None
    #: (busy, total) jiffies per CPU, from /proc/stat.
    cpus: dict[int, tuple[int, int]]


def sample(pid: int | None) -> Sample:
    return Sample(time.monotonic(), _process_ticks(pid), _cpu_ticks())


def sample_later(seconds: float, pid: int | None) -> tuple[threading.Timer, list[Sample]]:
    """Take a sample in ``seconds`` from now (into the list); cancel the timer when done."""
    taken: list[Sample] = []
    timer = threading.Timer(seconds, lambda: taken.append(sample(pid)))
    timer.daemon = True
    timer.start()
    return timer, taken


def busy_now(seconds: float = 1.0) -> dict[int, float]:
    """Per-CPU busy percent over the next ``seconds`` (is the machine quiet enough?)."""
    before = sample(None)
    time.sleep(seconds)
    after = usage(before, sample(None))
    return {
        int(k[3:].removesuffix("_busy_pct")): v
        for k, v in after.items()
        if k.startswith("cpu") and v is not None
    }


def usage(before: Sample, after: Sample) -> dict[str, float | None]:
    """``server_pct`` of one CPU, and ``cpuN_busy_pct`` for each CPU (all in %)."""
    elapsed = after.at - before.at
    result: dict[str, float | None] = {"server_pct": None}
    if before.process_ticks is not None and after.process_ticks is not None and elapsed > 0:
        ticks = after.process_ticks - before.process_ticks
        result["server_pct"] = round(100 * ticks / _TICK / elapsed, 1)
    for cpu, (busy0, total0) in before.cpus.items():
        busy1, total1 = after.cpus.get(cpu, (busy0, total0))
        if total1 > total0:
            result[f"cpu{cpu}_busy_pct"] = round(100 * (busy1 - busy0) / (total1 - total0), 1)
    return result


def _process_ticks(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _cpu_ticks() -> dict[int, tuple[int, int]]:
    cpus: dict[int, tuple[int, int]] = {}
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return cpus
    for line in lines:
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        ticks = [int(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal
        idle = ticks[3] + ticks[4]
        cpus[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return cpus
