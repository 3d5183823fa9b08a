"""The Docker image builds, starts as a non-root user and becomes healthy (docs/deploy.md).
Only where a Docker daemon answers; elsewhere skipped (tests/unit/test_deploy_files.py checks
the files themselves)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def daemon() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker command")
    if docker("info", timeout=20).returncode != 0:
        pytest.skip("no Docker daemon answers (`docker info` fails)")


def test_image_builds_runs_as_non_root_and_turns_healthy(daemon: None) -> None:
    tag = f"minipos-test:{uuid.uuid4().hex[:8]}"
    built = docker("build", "-t", tag, str(ROOT), timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    name = f"minipos-test-{uuid.uuid4().hex[:8]}"
    try:
        started = docker("run", "-d", "--name", name, tag)
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 120
        state: dict[str, object] = {}
        while time.monotonic() < deadline:
            state = json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)
            health = state.get("Health") or {}
            if isinstance(health, dict) and health.get("Status") == "healthy":
                break
            time.sleep(2)
        assert state.get("Health", {}).get("Status") == "healthy", state  # type: ignore[union-attr]
        assert docker("exec", name, "id", "-u").stdout.strip() == "10001"
        key = docker("exec", name, "minipos", "key", "create", "--role", "admin")
        assert key.returncode == 0, key.stderr
        assert docker("exec", name, "ls", "/data/minipos.secret").returncode == 0
        backup = docker("exec", name, "minipos", "backup", "/data/backup.tar.gz")
        assert backup.returncode == 0, backup.stderr
    finally:
        docker("rm", "-f", name)
        docker("rmi", "-f", tag)
