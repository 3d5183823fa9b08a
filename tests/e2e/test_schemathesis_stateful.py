"""Schemathesis's stateful phase (issue #11): sequences of calls that follow the OpenAPI links
(a new invoice → its claim → its completion; a new station → its shift → a walk-in sale → its
reprint; a new product → its update and deletion), on SQLite and PostgreSQL. Never a 5xx,
every answer as documented, and no traceback in the server's log.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serverproc import Server, schemathesis

pytestmark = pytest.mark.e2e


def test_stateful_sequences_find_no_server_error(server: Server, tmp_path: Path) -> None:
    server.env["MINIPOS_WEBHOOK_WORKER"] = "false"
    key = server.cli("key", "create", "--role", "admin").stdout.strip()
    server.start()
    status, _, raw = server.request("GET", "/openapi.json")
    assert status == 200
    linked = [
        op["operationId"]
        for methods in json.loads(raw)["paths"].values()
        for op in methods.values()
        if any("links" in response for response in op["responses"].values())
    ]
    assert {"create_invoice", "claim_invoice", "register_station", "sell"} <= set(linked)

    result = schemathesis(
        server,
        key,
        tmp_path,
        "--phases",
        "stateful",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        # A webhook's host is resolved when it is saved: made-up names would go to DNS.
        "--exclude-operation-id",
        "create_webhook",
        "--exclude-operation-id",
        "patch_webhook",
        "--max-examples",
        "30",
        "--seed",
        "20261130",
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert "Stateful" in result.stdout, result.stdout[-3000:]  # the phase ran, not skipped
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "Traceback" not in log
