"""The event log against the real server process (issue 7): the SSE stream over a real socket
with a real HTTP client, resuming with ``Last-Event-ID``, the type filter, kill -9 between
commits, and ``minipos events tail`` reading the database beside the running server."""

from __future__ import annotations

import http.client
import json
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import httpx
import pytest
from serverproc import MINIPOS, Server

pytestmark = pytest.mark.e2e

#: Longest wait for any one thing the server should do at once (an event, a CLI line).
PATIENCE_S = 15.0
SALE = ["invoice.created", "invoice.opened", "invoice.done", "receipt.created"]


class Shop:
    """Keys, one registered station with an open shift, and an HTTP client on the server."""

    def __init__(self, server: Server) -> None:
        admin = server.cli("key", "create", "--role", "admin")
        integrator = server.cli("key", "create", "--role", "integrator")
        assert admin.returncode == 0, admin.stderr
        assert integrator.returncode == 0, integrator.stderr
        self.server = server
        server.start()
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}", timeout=httpx.Timeout(PATIENCE_S)
        )
        self.admin = {"Authorization": f"Token {admin.stdout.strip()}"}
        self.integrator = {"Authorization": f"Token {integrator.stdout.strip()}"}
        station = self.call(
            "POST",
            "/api/stations",
            self.admin,
            {"name": "POS1", "pos_id": "01", "chassis_id": "99888888"},
            status=201,
        )
        self.station_id: int = station["id"]
        self.pos = {"Authorization": f"Token {station['key']}"}
        self.call("POST", f"/api/stations/{self.station_id}/shift/open", self.pos, {})

    def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        *,
        status: int = 200,
    ) -> Any:
        response = self.http.request(method, path, headers=headers, json=body)
        assert response.status_code == status, response.text
        return response.json()

    def post_invoice(self, text: str = "Rīga kafija") -> int:
        body = {"rows": [{"text": text, "quantity": 2, "price": "3.50"}]}
        invoice_id: int = self.call("POST", "/api/invoice/new", self.integrator, body)["id"]
        return invoice_id

    def claim(self, invoice_id: int) -> None:
        self.call("POST", f"/api/invoice/{invoice_id}/claim", self.pos)

    def sell(self, text: str = "Rīga kafija") -> int:
        """Post an invoice and take it through claim and complete: the four SALE events."""
        invoice_id = self.post_invoice(text)
        self.claim(invoice_id)
        done = self.call(
            "POST",
            f"/api/invoice/{invoice_id}/complete",
            self.pos,
            {"request_id": f"pos1-{invoice_id}", "payments": [{"method_id": 1, "amount": 7}]},
        )
        assert done["status"] == 30
        return invoice_id

    def events(self, after: int = 0, types: str | None = None) -> list[dict[str, Any]]:
        """Every event after ``after`` from ``GET /api/events``, following its pages."""
        found: list[dict[str, Any]] = []
        while True:
            params: dict[str, str | int] = {"after": after, "limit": 1000}
            if types is not None:
                params["type"] = types
            response = self.http.get("/api/events", params=params, headers=self.integrator)
            assert response.status_code == 200, response.text
            page = response.json()
            found += page
            if len(page) < 1000:
                return found
            after = page[-1]["id"]

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def shop(server: Server) -> Iterator[Shop]:
    shop = Shop(server)
    yield shop
    shop.close()


class Stream:
    """One open ``GET /api/events/stream``, parsed into events as the lines arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def wait_ready(self) -> None:
        """Until the ``retry:`` preamble: the server has fixed the stream's starting point."""
        assert next(self._lines).startswith("retry: ")
        assert next(self._lines) == ""

    def next_event(self) -> dict[str, Any]:
        """The next event; the client's read timeout (PATIENCE_S) is the deadline."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if fields:
                    data = json.loads(fields["data"])
                    # The id and event lines say the same as the JSON they frame.
                    assert int(fields["id"]) == data["id"]
                    assert fields["event"] == data["type"]
                    return {"id": int(fields["id"]), "event": fields["event"], "data": data}
                continue
            if line.startswith(":"):
                continue  # a keep-alive comment
            name, _, value = line.partition(": ")
            assert name not in fields, f"field {name} twice in one event"
            fields[name] = value
        raise AssertionError("the stream ended")

    def take(self, count: int) -> list[dict[str, Any]]:
        return [self.next_event() for _ in range(count)]


@contextmanager
def stream(shop: Shop, query: str = "", last_event_id: int | None = None) -> Iterator[Stream]:
    """Open the stream and wait until it is live; it is closed on the way out, before the
    server is stopped."""
    headers = dict(shop.integrator)
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    with shop.http.stream("GET", f"/api/events/stream{query}", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        opened = Stream(response)
        opened.wait_ready()
        yield opened


def test_stream_tells_a_sale_in_order_then_resumes_exactly_after_last_event_id(
    shop: Shop,
) -> None:
    with stream(shop) as live:
        # Without Last-Event-ID the stream starts at the newest: shift.opened is not replayed.
        before = shop.events()[-1]["id"]
        invoice_id = shop.sell()
        first = live.take(4)
    assert [e["event"] for e in first] == SALE
    ids = [e["id"] for e in first]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert ids[0] > before
    # `data:` is the event exactly as GET /api/events lists it.
    assert [e["data"] for e in first] == shop.events(after=before)
    assert [e["data"]["resource_id"] for e in first[:3]] == [invoice_id] * 3
    assert first[3]["data"]["data"]["id"] == first[3]["data"]["resource_id"]

    # Disconnected: a second sale and an invoice a station takes and gives back.
    shop.sell("Tēja")
    given_back = shop.post_invoice("Maize")
    shop.claim(given_back)
    shop.call("POST", f"/api/invoice/{given_back}/release", shop.pos)
    missed = shop.events(after=ids[-1])
    assert [e["type"] for e in missed] == [
        *SALE,
        *("invoice.created", "invoice.opened", "invoice.released"),
    ]

    with stream(shop, last_event_id=ids[-1]) as resumed:
        assert [e["data"] for e in resumed.take(len(missed))] == missed  # nothing lost
        # Nothing repeated or left over: what comes next is the next change.
        latest = shop.post_invoice("Piens")
        following = resumed.next_event()
    assert following["event"] == "invoice.created"
    assert following["data"]["resource_id"] == latest
    assert following["id"] > missed[-1]["id"]


def test_stream_type_filter_skips_other_events(shop: Shop) -> None:
    start = shop.events()[-1]["id"]  # shift.opened
    shop.sell()
    shop.sell("Tēja")
    wanted = shop.events(after=start, types="invoice.*")
    assert [e["type"] for e in wanted] == SALE[:3] * 2

    with stream(shop, "?type=invoice.*", last_event_id=start) as only_invoices:
        assert [e["data"] for e in only_invoices.take(len(wanted))] == wanted
        # A receipt is written with the next sale, but only the invoice's events come.
        shop.sell("Maize")
        later = only_invoices.take(3)
    assert [e["event"] for e in later] == SALE[:3]
    assert later[0]["id"] > wanted[-1]["id"]
    # The receipt was there all along, skipped by the filter and not by chance.
    [receipt] = shop.events(after=later[-1]["id"])
    assert receipt["type"] == "receipt.created"

    with stream(shop, "?type=receipt.created,shift.*", last_event_id=0) as others:
        got = others.take(4)
    assert [e["event"] for e in got] == ["shift.opened", *["receipt.created"] * 3]


def test_every_committed_change_has_its_event_after_kill_9(shop: Shop) -> None:
    """Writers keep posting while the server is killed: whatever committed, acknowledged or
    not, has its event after the restart, and nothing that did not commit has one."""
    shop.sell()
    acknowledged: list[int] = []
    refused: list[bytes] = []
    stop = threading.Event()

    def post_until_killed(worker: int) -> None:
        body = {"rows": [{"text": f"Prece {worker}", "quantity": 1, "price": "1.00"}]}
        while not stop.is_set():
            try:
                status, _, raw = shop.server.request(
                    "POST", "/api/invoice/new", body, shop.integrator
                )
            except (OSError, http.client.HTTPException):
                return  # the server is gone, maybe in the middle of this answer
            if status != 200:
                refused.append(raw)  # asserted in the test's thread, where it fails the test
                return
            acknowledged.append(json.loads(raw)["id"])

    writers = [threading.Thread(target=post_until_killed, args=(n,)) for n in range(4)]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + PATIENCE_S
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the writers' progress, with a deadline
    shop.server.kill()
    stop.set()
    for writer in writers:
        writer.join(timeout=PATIENCE_S)
    assert not refused
    assert len(acknowledged) >= 40

    shop.server.start()
    stored = {row["id"] for row in shop.call("GET", "/api/invoices?limit=1000", shop.integrator)}
    assert set(acknowledged) <= stored  # every answered POST survived
    log = shop.events()
    ids = [e["id"] for e in log]
    assert ids == sorted(set(ids))
    created = [e["resource_id"] for e in log if e["type"] == "invoice.created"]
    assert sorted(created) == sorted(stored)  # each stored invoice told exactly once
    # Ids are not handed out again after the crash.
    after_restart = shop.post_invoice()
    [event] = shop.events(after=ids[-1])
    assert (event["type"], event["resource_id"]) == ("invoice.created", after_restart)


# --- minipos events tail -------------------------------------------------------------------


def tail(shop: Shop, *args: str) -> subprocess.CompletedProcess[str]:
    return shop.server.cli("events", "tail", *args)


LINE = re.compile(r"^ *(\d+)  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  ([a-z_.]+) +  ([a-z_]+)/(\d+)$")


def test_tail_prints_the_log_from_the_database(shop: Shop) -> None:
    shop.sell()
    log = shop.events()

    as_json = tail(shop, "--from-start", "--no-follow", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == log

    readable = tail(shop, "--from-start", "--no-follow")
    assert readable.returncode == 0, readable.stderr
    rows = [LINE.match(line) for line in readable.stdout.splitlines()]
    assert all(rows), readable.stdout
    assert [(int(m[1]), m[3], m[4], int(m[5])) for m in rows if m] == [
        (e["id"], e["type"], e["resource"], e["resource_id"]) for e in log
    ]
    # The shop's local time, to the second, as the API shows created_at.
    assert [m[2] for m in rows if m] == [e["created_at"][:19].replace("T", " ") for e in log]

    after = log[0]["id"]
    filtered = tail(shop, "--after", str(after), "--type", "invoice.*,receipt.created",
                    "--no-follow", "--json")  # fmt: skip
    assert filtered.returncode == 0, filtered.stderr
    assert [json.loads(line)["type"] for line in filtered.stdout.splitlines()] == SALE

    # Without --after or --from-start only events to come are shown.
    newest = tail(shop, "--no-follow")
    assert (newest.returncode, newest.stdout) == (0, "")


def test_tail_refuses_bad_options(shop: Shop) -> None:
    unknown = tail(shop, "--type", "invoice.made", "--no-follow")
    assert unknown.returncode == 2
    assert "Unknown event type 'invoice.made'" in unknown.stderr
    both = tail(shop, "--after", "3", "--from-start", "--no-follow")
    assert both.returncode == 2
    assert "exclude each other" in both.stderr


def _read_lines(pipe: IO[str], into: queue.Queue[str]) -> None:
    for line in pipe:
        into.put(line)


def test_tail_follows_new_events_until_terminated(shop: Shop) -> None:
    old = shop.events()[-1]["id"]
    process = subprocess.Popen(
        [MINIPOS, "events", "tail", "--json", "--type", "invoice.*"],
        env=shop.server.env,
        cwd=shop.server.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    # Lines are read on a thread so that the test can wait for one with a deadline.
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines))
    reader.start()

    def next_line() -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = json.loads(lines.get(timeout=0.5))
        except queue.Empty:
            return None
        return found

    try:
        # It starts at the newest event at some moment after launch; post until it prints,
        # so the test does not guess how long the command takes to start.
        posted: list[int] = []
        deadline = time.monotonic() + PATIENCE_S * 2
        first: dict[str, Any] | None = None
        while first is None and time.monotonic() < deadline:
            posted.append(shop.post_invoice())
            first = next_line()
        assert first is not None, "no line from `minipos events tail`"
        assert first["id"] > old  # the old log is not replayed
        assert first["type"] == "invoice.created"
        assert first["resource_id"] in posted
        # Then every later change, in order, and only the invoices' (no receipt).
        shop.sell()
        want = shop.events(after=first["id"] - 1, types="invoice.*")
        seen = [first]
        deadline = time.monotonic() + PATIENCE_S
        while len(seen) < len(want) and time.monotonic() < deadline:
            line = next_line()
            if line is not None:
                seen.append(line)
        assert seen == want
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=PATIENCE_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=PATIENCE_S)  # the pipe has ended: the process is gone
            stderr = process.stderr.read()
            process.stdout.close()
            process.stderr.close()
    assert process.returncode == 0, stderr  # SIGTERM is the normal end of a follow
    assert stderr == ""
    assert lines.empty()  # nothing printed that the log does not hold
