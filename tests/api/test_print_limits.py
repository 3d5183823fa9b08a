"""Issue #11 holes 1 and 4 through the API: QR capacity at the boundary, the print budget of a
document on every path that stores blocks, and previews from a bounded, non-blocking pool."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from minipos.auth.principal import Role
from minipos.domain.blocks import MAX_CODES, MAX_QR_BYTES_TOTAL, QR_MAX_BYTES
from minipos.printing import pool
from support import Api

QR_LIMIT = f"holds at most {QR_MAX_BYTES} bytes"


def slip(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"mode": 3, "info": {"slip": list(blocks)}}


def test_the_largest_qr_is_stored_and_previewed_one_byte_more_is_refused(api: Api) -> None:
    integrator = api.as_(Role.INTEGRATOR)
    largest = "ā" * (QR_MAX_BYTES // 2) + "a"  # 2,331 bytes of UTF-8
    posted = integrator.post("/api/invoice/new", json=slip({"kind": "qr", "code": largest,
                                                             "size": 2}))  # fmt: skip
    assert posted.status_code == 200, posted.text
    png = integrator.get(f"/api/invoice/{posted.json()['id']}/preview", params={"format": "png"})
    assert png.status_code == 200, png.text
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))}
    assert largest in found

    for block in ({"kind": "qr", "code": largest + "a"},
                  {"kind": "barcode", "type": 101, "code": largest + "a"}):  # fmt: skip
        refused = integrator.post("/api/invoice/new", json=slip({"kind": "text", "content": "x"},
                                                                 block))  # fmt: skip
        assert refused.status_code == 400
        assert QR_LIMIT in refused.json()["info"]["slip"][1]["code"][0]


def test_the_hostile_200_qr_slip_is_refused_at_post(api: Api) -> None:
    hostile = slip(*[{"kind": "qr", "code": "x" * QR_MAX_BYTES, "size": 16}] * 200)
    refused = api.as_(Role.INTEGRATOR).post("/api/invoice/new", json=hostile)
    assert refused.status_code == 400
    errors = refused.json()["info"]["slip"]
    assert errors[1] == [
        f"The QR codes of a document may hold at most {MAX_QR_BYTES_TOTAL} bytes together."
    ]
    assert errors[MAX_CODES] == [f"A document may hold at most {MAX_CODES} barcodes and QR codes."]


def test_the_budget_counts_every_section_and_row_of_an_invoice(api: Api) -> None:
    code = {"kind": "barcode", "type": 2, "code": "4006381333931"}
    half = MAX_CODES // 2
    body = {
        "info": {"header": [code] * half, "footer": [code] * (MAX_CODES - half - 1)},
        "rows": [{"text": "Kafija", "quantity": 1, "price": 1, "info": {"blocks": [code]}}],
    }
    integrator = api.as_(Role.INTEGRATOR)
    assert integrator.post("/api/invoice/new", json=body).status_code == 200
    body["rows"].append({"text": "Tēja", "quantity": 1, "price": 1, "info": {"blocks": [code]}})
    refused = integrator.post("/api/invoice/new", json=body)
    assert refused.status_code == 400
    assert refused.json()["rows"][1]["info"]["blocks"][0] == [
        f"A document may hold at most {MAX_CODES} barcodes and QR codes."
    ]


def test_product_blocks_have_the_same_budget(api: Api) -> None:
    qr = {"kind": "qr", "code": "x" * QR_MAX_BYTES}
    admin = api.as_(Role.ADMIN)
    product = {"name": "Kupons", "price": 1, "info": {"blocks": [qr]}}
    assert admin.post("/api/products", json=product).status_code == 201
    product = {"name": "Kuponi", "price": 1, "info": {"blocks": [qr, qr]}}
    refused = admin.post("/api/products", json=product)
    assert refused.status_code == 400, refused.text
    assert "at most 4096 bytes together" in refused.json()["info"]["blocks"][1][0]


def test_a_busy_renderer_answers_503_with_retry_after(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    integrator = api.as_(Role.INTEGRATOR)
    posted = integrator.post("/api/invoice/new", json=slip({"kind": "text", "content": "KUPONS"}))
    busy = pool.RenderPool(workers=1, queue=0, timeout_seconds=4, cache_entries=4, cache_bytes=1)
    release = threading.Event()
    held = busy.submit("held", lambda deadline: bytes(release.wait(5)))
    monkeypatch.setattr(pool, "shared", lambda: busy)
    try:
        answer = integrator.get(f"/api/invoice/{posted.json()['id']}/preview")
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "2"
    finally:
        release.set()
        held.result(5)
    again = integrator.get(f"/api/invoice/{posted.json()['id']}/preview")
    assert again.status_code == 200
    assert "KUPONS" in again.text
    busy.shutdown()
