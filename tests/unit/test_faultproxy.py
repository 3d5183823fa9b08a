"""The fault proxy of the chain tests (tests/faultproxy.py) against a tiny real HTTP server,
with an ``httpx`` keep-alive client as the store's sync worker uses."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from faultproxy import Fault, FaultProxy
from support import Receiver


@pytest.fixture
def upstream() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def proxy(upstream: Receiver) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.port, seed=7, delay=0.3) as proxy:
        yield proxy


@pytest.fixture
def client(proxy: FaultProxy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.url, timeout=5) as client:
        yield client


def bodies(upstream: Receiver) -> list[dict[str, int]]:
    return upstream.events()


def test_pass_forwards_every_request_of_a_keep_alive_client(
    upstream: Receiver, client: httpx.Client
) -> None:
    for n in range(5):
        answer = client.post("/api/sync/push", json={"n": n})
        assert answer.status_code == 200
        assert answer.text == "ok"
        assert answer.headers["connection"] == "close"
    assert bodies(upstream) == [{"n": n} for n in range(5)]
    # Each request reached the upstream on its own connection, told to close.
    assert all(headers["Connection"] == "close" for headers, _ in upstream.requests)


def test_a_chunked_request_body_is_forwarded_whole(
    upstream: Receiver, client: httpx.Client
) -> None:
    parts = [b'{"n": ', b"41", b"}"]
    answer = client.post("/x", content=iter(parts))  # an iterator is sent chunked
    assert answer.status_code == 200
    assert bodies(upstream) == [{"n": 41}]


def test_drop_answer_reaches_the_upstream_but_the_client_hears_nothing(
    upstream: Receiver, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.inject(Fault.DROP_ANSWER, path_prefix="/api/sync/push")
    client.post("/api/sync/pull", json={"n": 0})  # another path: not affected
    with pytest.raises(httpx.TransportError):
        client.post("/api/sync/push", json={"n": 1})
    assert bodies(upstream) == [{"n": 0}, {"n": 1}]
    # The retry passes (the injection was for one request).
    assert client.post("/api/sync/push", json={"n": 1}).status_code == 200
    assert bodies(upstream) == [{"n": 0}, {"n": 1}, {"n": 1}]
    assert proxy.count(Fault.DROP_ANSWER) == 1


def test_reset_forwards_nothing(
    upstream: Receiver, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.inject(Fault.RESET, times=2)
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            client.post("/p", json={"n": 1})
    assert client.post("/p", json={"n": 2}).status_code == 200
    assert bodies(upstream) == [{"n": 2}]


def test_duplicate_sends_the_request_upstream_twice(
    upstream: Receiver, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.inject(Fault.DUPLICATE)
    assert client.post("/p", json={"n": 1}).status_code == 200
    assert bodies(upstream) == [{"n": 1}, {"n": 1}]
    assert proxy.forwarded["/p"] == 2


def test_reorder_delivers_an_old_copy_after_the_next_request(
    upstream: Receiver, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.inject(Fault.REORDER)
    assert client.post("/p", json={"n": 1}).status_code == 200
    assert client.post("/p", json={"n": 2}).status_code == 200
    assert bodies(upstream) == [{"n": 1}, {"n": 2}, {"n": 1}]


def test_delay_holds_the_request(
    upstream: Receiver, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.set_mode(Fault.DELAY)
    started = time.monotonic()
    assert client.post("/p", json={"n": 1}).status_code == 200
    assert time.monotonic() - started >= 0.3
    proxy.set_mode(Fault.PASS)
    assert bodies(upstream) == [{"n": 1}]


def test_cut_refuses_until_healed_or_over(
    upstream: Receiver, proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.cut()
    for _ in range(3):
        with pytest.raises(httpx.TransportError):
            client.post("/p", json={"n": 1})
    proxy.heal()
    assert client.post("/p", json={"n": 2}).status_code == 200
    proxy.cut(0.3)
    with pytest.raises(httpx.TransportError):
        client.post("/p", json={"n": 3})
    time.sleep(0.35)
    assert client.post("/p", json={"n": 4}).status_code == 200
    assert bodies(upstream) == [{"n": 2}, {"n": 4}]


def test_upstream_down_is_a_broken_connection(upstream: Receiver, client: httpx.Client) -> None:
    upstream.close()
    with pytest.raises(httpx.TransportError):
        client.post("/p", json={"n": 1})


def random_run(upstream_port: int, seed: int) -> list[Fault]:
    with (
        FaultProxy(upstream_port, seed=seed, delay=0.01, cut_seconds=0.0) as proxy,
        httpx.Client(base_url=proxy.url, timeout=5) as client,
    ):
        proxy.set_mode("random")
        for n in range(40):
            with contextlib.suppress(httpx.TransportError):
                client.post("/p", content=json.dumps({"n": n}))
        return [fault for _, fault, _, _ in proxy.log]


def test_random_mode_is_reproducible_from_its_seed(upstream: Receiver) -> None:
    first = random_run(upstream.port, 13)
    assert first == random_run(upstream.port, 13)
    assert first != random_run(upstream.port, 14)
    assert len(set(first)) >= 4  # a mix, not one fault
