"""Server subprocesses for the benchmark: start pinned, wait until they answer, always stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from wrk_runner import BenchError

HOST = "127.0.0.1"  # loopback only: the benchmark never listens on or talks to anything else
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
#: A clearly fictitious seller: the Latvian fiscal profile (the default) will not start without
#: the seller's identity (docs/fiscal.md). A benchmark's own MINIPOS_SHOP_* values win.
DEMO_SHOP = {
    "MINIPOS_SHOP_NAME": "DEMO SIA (bench)",
    "MINIPOS_SHOP_REGISTRATION_NUMBER": "40000000000",
    "MINIPOS_SHOP_VAT_NUMBER": "LV40000000000",
    "MINIPOS_SHOP_ADDRESS": "Demo iela 1, Rīga, LV-1000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def minipos_command() -> list[str]:
    """The ``minipos`` script of the interpreter running us (the venv's), else ``-m minipos``."""
    script = Path(sys.executable).with_name("minipos")
    return [str(script)] if script.exists() else [sys.executable, "-m", "minipos"]


def run_cli(args: list[str], env: Mapping[str, str], cwd: Path) -> str:
    """Run a ``minipos`` command to completion and return its stdout."""
    done = subprocess.run(
        [*minipos_command(), *args],
        check=False,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise BenchError(f"`minipos {' '.join(args)}` failed:\n{done.stderr[-3000:]}")
    return done.stdout


class Server:
    """A server process; use as a context manager so it is stopped on any exit path."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        port: int,
        ready_path: str,
        cpu: int | None,
    ) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self._command = ["taskset", "-c", str(cpu), *command] if cpu is not None else command
        self._env = {**DEMO_SHOP, **env}
        self._cwd = cwd
        self._ready_path = ready_path
        self.log_path = cwd / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            # Own session: a Ctrl-C in the terminal reaches us, and we stop the server cleanly
            # (letting the SQLite writer finish) instead of it dying mid-request.
            self._process = subprocess.Popen(
                self._command,
                env=self._env,
                cwd=self._cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BenchError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            url = self.base_url + self._ready_path
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """SIGINT (graceful: in-flight requests and the last commit finish), then SIGKILL."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            raise BenchError(f"{self.name} did not stop within {STOP_TIMEOUT_S:.0f} s") from None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BenchError(f"{self.name} is not running")
        return self._process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """One HTTP request (to check a payload before load); any status comes back, no raise."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
