"""The deployment files (Dockerfile, .dockerignore, deploy/, docs/deploy.md) keep their
promises. No hadolint or container runtime is available where these tests run, so the files are
parsed and their invariants checked here; the systemd unit goes through `systemd-analyze verify`
and `systemd-analyze security` when systemd is installed. The image itself is built and started
by tests/e2e/test_container.py when a Docker daemon answers."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|PEPPER", re.IGNORECASE)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def test_dockerfile_is_slim_non_root_with_a_healthcheck_and_serves_on_all_addresses() -> None:
    steps = dockerfile()
    words = [word for word, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert words.count("FROM") == 1

    users = [args for word, args in steps if word == "USER"]
    assert users == ["minipos"]
    assert words.index("USER") < words.index("CMD")  # the server never runs as root
    assert any(word == "RUN" and "useradd --system" in args for word, args in steps)

    (health,) = [args for word, args in steps if word == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/health" in health
    assert "CMD" in health

    (cmd,) = [args for word, args in steps if word == "CMD"]
    assert cmd == '["minipos", "serve", "--host", "0.0.0.0", "--port", "8000"]'
    assert any(word == "RUN" and "pip install --no-cache-dir ." in args for word, args in steps)
    assert ("VOLUME", '["/data"]') in steps
    env = " ".join(args for word, args in steps if word == "ENV")
    assert "MINIPOS_DATABASE_URL=sqlite:////data/minipos.sqlite3" in env
    assert "MINIPOS_SECRET_FILE=/data/minipos.secret" in env


def test_no_secret_is_baked_into_the_image() -> None:
    for word, args in dockerfile():
        if word in ("ENV", "ARG"):
            for name, _, value in (part.partition("=") for part in args.split()):
                # A path to where a secret will live is fine; a secret's value is not.
                if SECRET_WORDS.search(name):
                    assert value.startswith("/data/"), f"{word} {name}={value}"
        if word in ("COPY", "ADD"):
            assert not SECRET_WORDS.search(args), args


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        bare = pattern.removeprefix("!").removeprefix("**/")
        inside = path.startswith(bare + "/")  # a file inside a named directory
        if inside or fnmatch.fnmatch(path, bare) or fnmatch.fnmatch(path.rsplit("/", 1)[-1], bare):
            result = not negate
    return result


def test_dockerignore_sends_the_sources_and_never_data_or_secrets() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in ("pyproject.toml", "README.md", "src/minipos/cli.py"):
        assert not ignored(needed, patterns), needed
    for private in (
        "minipos.sqlite3",
        "src/minipos.sqlite3-wal",
        "minipos.secret",
        "deploy/minipos.env",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        "src/minipos/__pycache__/cli.cpython-311.pyc",
    ):
        assert ignored(private, patterns), private
    # Everything the Dockerfile copies is in the context.
    for word, args in dockerfile():
        if word == "COPY":
            for source in args.split()[:-1]:
                assert not ignored(source.rstrip("/"), patterns), source


def test_compose_runs_on_postgresql_with_the_pepper_from_an_env_file() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    db, server = compose["services"]["db"], compose["services"]["minipos"]
    assert db["image"].startswith("postgres:")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in compose["volumes"]  # a named volume, not a path on the host
    assert db["healthcheck"]["test"][0] == "CMD-SHELL"

    assert server["environment"]["MINIPOS_DATABASE_URL"] == "postgresql://minipos@db:5432/minipos"
    assert server["env_file"] == ["minipos.env"]
    assert server["depends_on"]["db"]["condition"] == "service_healthy"
    assert server["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert (DEPLOY / server["build"]["context"] / "Dockerfile").is_file()
    # No secret value in the compose file itself: they come from the git-ignored env files.
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            assert not SECRET_WORDS.search(name), f"{name}={value}"
    example = (DEPLOY / "minipos.env.example").read_text()
    assert re.search(r"^MINIPOS_SECRET_KEY=$", example, re.MULTILINE)
    assert "*.env" in (DEPLOY / ".gitignore").read_text().split()


def unit() -> configparser.RawConfigParser:
    # systemd repeats keys (SystemCallFilter=); keep every value, joined by newlines.
    parser = configparser.RawConfigParser(strict=False, dict_type=_MultiDict)  # type: ignore[arg-type]
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "minipos.service")
    return parser


class _MultiDict(dict[str, list[str]]):
    def __setitem__(self, key: str, value: list[str]) -> None:
        if isinstance(value, list) and key in self:
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


def test_systemd_unit_runs_the_venv_entry_point_hardened() -> None:
    service = unit()["Service"]
    assert service["ExecStart"].startswith("/opt/minipos/venv/bin/minipos serve")
    assert service["User"] == "minipos"
    assert service["WorkingDirectory"] == "/var/lib/minipos"
    assert service["ReadWritePaths"] == "/var/lib/minipos"
    assert "sqlite:////var/lib/minipos/minipos.sqlite3" in service["Environment"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
        "KillSignal": "SIGTERM",
        "UMask": "0077",
    }.items():
        assert service[key] == value, key


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_accepts_the_unit_and_rates_it_well(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's entry point.
    here = str(Path(sys.executable).with_name("minipos"))
    text = (DEPLOY / "minipos.service").read_text().replace("/opt/minipos/venv/bin/minipos", here)
    copy = tmp_path / "minipos.service"
    copy.write_text(text)
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    # Unknown or malformed keys are only warnings (status 0), so the output must be empty.
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr.strip() == "", verify.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for minipos.service: (\d+\.\d+)", security.stdout)
    assert found, security.stdout + security.stderr
    assert float(found.group(1)) <= 2.0  # systemd's scale: 0 safest … 10 exposed; ≤ 2 is "OK"


def test_reverse_proxy_examples_pass_long_polls_and_the_event_stream() -> None:
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "reverse_proxy 127.0.0.1:8000" in caddy
    assert "flush_interval -1" in caddy
    assert "read_timeout 90s" in caddy
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_pass http://minipos;" in nginx
    assert "proxy_buffering off;" in nginx
    assert "proxy_read_timeout 90s;" in nginx
    assert "X-Forwarded-Proto $scheme" in nginx
    assert caddy.count("{") == caddy.count("}")
    assert nginx.count("{") == nginx.count("}")


def test_deploy_doc_names_every_file_and_the_pepper() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for name in (
        "Dockerfile",
        "deploy/compose.yaml",
        "deploy/minipos.service",
        "deploy/Caddyfile",
        "deploy/nginx.conf",
        "minipos backup",
        "minipos restore",
        "pg_dump",
        "MINIPOS_SECRET_KEY",
        "MINIPOS_SECRET_FILE",
        "MINIPOS_TIMEZONE",
        "hadolint",
    ):
        assert name in doc, name
