"""A minimal webhook receiver for the delivery benchmark: answers 200 at once, counts requests.

    python bench/webhook_receiver.py PORT

``GET /stats`` → per POSTed path ``{"count": n, "first": t, "last": t, "delivery_ids": k}``
(monotonic seconds of the first and last request; distinct ``MiniPOS-Delivery`` values).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

Scope = dict[str, Any]
Message = dict[str, Any]

state: dict[str, dict[str, Any]] = {}


async def app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "GET":
        body = json.dumps(
            {
                path: {
                    "count": s["count"],
                    "first": s["first"],
                    "last": s["last"],
                    "delivery_ids": len(s["ids"]),
                }
                for path, s in state.items()
            }
        ).encode()
    else:
        now = time.monotonic()
        seen = state.setdefault(scope["path"], {"count": 0, "first": now, "ids": set()})
        seen["count"] += 1
        seen["last"] = now
        for name, value in scope["headers"]:
            if name == b"minipos-delivery":
                seen["ids"].add(value)
        body = b"ok"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
