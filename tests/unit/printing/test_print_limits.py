"""Issue #11 holes 1 and 4: what a block may hold is what the printer and the preview can draw;
one document's blocks have a print budget; drawing is bounded and not serialised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import qrcode
import qrcode.constants
import qrcode.exceptions
from escpos.constants import QR_ECLEVEL_M

from minipos.domain import blocks
from minipos.domain.blocks import (
    BARCODE_TYPES,
    MAX_BLOCK_HEIGHT_DOTS,
    MAX_CODES,
    MAX_QR_BYTES_TOTAL,
    QR_ERROR_CORRECTION,
    QR_MAX_BYTES,
    QR_TYPE,
    barcode_error,
    budget_problems,
)
from minipos.printing import PrintableSlip, PrinterProfile, pool, to_escpos, to_png
from minipos.printing import preview as preview_module
from minipos.printing.blocks import BarcodeBlock, Block, EscposBlock, QrBlock, TextBlock
from minipos.printing.layout import layout_slip
from minipos.printing.ops import QrCode, TextLine
from minipos.printing.preview import (
    MAX_HEIGHT,
    MAX_QR_BYTES,
    RenderTimeout,
    TooLarge,
    barcode_modules,
    qr_matrix,
    render_image,
)

PROFILE = PrinterProfile(columns=42, dots_per_line=512)
#: qrcode's "does not fit in version 40" (the preview's 500 of the issue: "Invalid version").
_OVERFLOW = (ValueError, qrcode.exceptions.DataOverflowError)
_QRCODE_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


# --- hole 1: one QR level and capacity for validator, printer and preview ----------------------


def _fitted_version(size: int, level: str) -> int:
    qr = qrcode.QRCode(error_correction=_QRCODE_LEVELS[level])
    qr.add_data(b"a" * size, optimize=0)  # byte mode, as the capacity table counts
    return int(qr.best_fit())


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_capacity_table_is_qrcodes_for_every_version(level: str) -> None:
    capacities = blocks._QR_CAPACITY[level]
    assert len(capacities) == 40
    for version, capacity in enumerate(capacities, 1):
        assert _fitted_version(capacity, level) == version
        if version < 40:
            assert _fitted_version(capacity + 1, level) == version + 1
    with pytest.raises(_OVERFLOW):
        _fitted_version(capacities[-1] + 1, level)


def test_the_validator_takes_exactly_what_the_preview_draws() -> None:
    assert QR_MAX_BYTES == blocks._QR_CAPACITY[QR_ERROR_CORRECTION][-1] == 2331
    largest = "ā" * (QR_MAX_BYTES // 2) + "a" * (QR_MAX_BYTES % 2)  # multibyte UTF-8 counts
    assert len(largest.encode()) == QR_MAX_BYTES
    assert barcode_error(largest, QR_TYPE) is None
    assert len(qr_matrix(largest)) == 177  # version 40: the preview draws the largest
    too_big = largest + "a"
    assert barcode_error(too_big, QR_TYPE) is not None
    with pytest.raises(_OVERFLOW):
        qr_matrix(too_big)


def test_the_printer_is_asked_for_the_same_level_and_gets_the_largest_code() -> None:
    largest = "a" * QR_MAX_BYTES
    job = to_escpos(PrintableSlip((QrBlock(code=largest),)), PROFILE)
    level = b"\x1d(k\x03\x001E" + bytes([48 + QR_ECLEVEL_M])
    assert QR_ERROR_CORRECTION == "M"
    assert level in job
    store = b"\x1d(k" + (QR_MAX_BYTES + 3).to_bytes(2, "little") + b"1P0" + largest.encode()
    assert store in job


@pytest.mark.parametrize("block", [QrBlock(code="a" * QR_MAX_BYTES, size=2),
                                   BarcodeBlock(code="a" * QR_MAX_BYTES, type=QR_TYPE)],
                         ids=["qr", "barcode-101"])  # fmt: skip
def test_the_largest_qr_block_draws_in_png(block: Block) -> None:
    assert list(block.problems()) == []
    png = to_png(PrintableSlip((block,)), PROFILE)
    assert png.startswith(b"\x89PNG")


#: Every symbology the validator accepts, with its largest accepted value (and the widest
#: character set), and that value plus one character (refused).
LARGEST = {
    "UPC-A": "0" * 12,
    "UPC-E": "0" * 12,
    "EAN13": "0" * 13,
    "EAN8": "0" * 8,
    "CODE39": "*" + "$%+-./ 0Z" * 28 + "A*",
    "ITF": "9" * 254,
    "CODABAR": "a" + "-$:/.+09" * 31 + "01d",
    "CODE93": "".join(chr(i % 128) for i in range(255)),
    "CODE128": "".join(chr(i % 128) for i in range(253)),
}


@pytest.mark.parametrize(
    ("type_", "symbology"),
    [(t, s) for t, s in BARCODE_TYPES.items() if t != QR_TYPE],
    ids=[f"{t}-{s}" for t, s in BARCODE_TYPES.items() if t != QR_TYPE],
)
def test_every_accepted_barcode_type_draws_its_largest_value(type_: int, symbology: str) -> None:
    code = LARGEST[symbology]
    assert barcode_error(code, type_) is None
    assert barcode_error(code + "0", type_) is not None  # it is the largest
    checked = blocks.with_check_digit(code, type_)
    assert "1" in barcode_modules(symbology, checked)  # encoded, not the text fallback
    png = to_png(PrintableSlip((BarcodeBlock(code=code, type=type_),)), PROFILE)
    assert png.startswith(b"\x89PNG")


# --- hole 4a: the print budget of one document --------------------------------------------------


def _paths(found: list[Block]) -> Iterator[tuple[tuple[str | int, ...], Block]]:
    for index, block in enumerate(found):
        yield ("info", "slip", index), block


def test_the_hostile_slip_is_over_budget_and_named_where_it_crosses() -> None:
    hostile: list[Block] = [QrBlock(code="x" * QR_MAX_BYTES, size=16) for _ in range(200)]
    problems = {p.message: p.path for p in budget_problems(_paths(hostile))}
    assert problems == {
        f"A document may hold at most {MAX_CODES} barcodes and QR codes.": (
            "info", "slip", MAX_CODES,
        ),
        f"The QR codes of a document may hold at most {MAX_QR_BYTES_TOTAL} bytes together.": (
            "info", "slip", 1,
        ),
        f"The print blocks of a document may be at most {MAX_BLOCK_HEIGHT_DOTS} dots (2 m of "
        "receipt paper) high; this block goes past that.": ("info", "slip", 5),
    }  # fmt: skip


def test_text_after_an_enlarging_escpos_block_costs_its_size() -> None:
    text = TextBlock(content="x" * 2048)
    plain = budget_problems(_paths([text] * 7))
    assert plain == []
    enlarged = budget_problems(_paths([EscposBlock(content=["1D2177"]), text]))
    assert [p.path for p in enlarged] == [("info", "slip", 1)]
    assert blocks.text_cost("x" * 32, enlarged=False).height_dots == 24
    assert blocks.text_cost("x" * 32, enlarged=True).height_dots == 8 * 8 * 24


def largest_valid_slip() -> list[Block]:
    """Blocks at every budget limit at once (the full QR data, codes, and height)."""
    first = QR_MAX_BYTES
    rest = MAX_QR_BYTES_TOTAL - first
    found: list[Block] = [QrBlock(code="q" * first), QrBlock(code="r" * rest)]
    found += [BarcodeBlock(code="4006381333931", type=2)] * (MAX_CODES - 2)
    used = sum(b.cost(False).height_dots for b in found)
    lines = (MAX_BLOCK_HEIGHT_DOTS - used) // 24
    found += [TextBlock(content="x" * 32)] * lines
    return found


def test_the_largest_valid_document_is_within_the_render_limits() -> None:
    found = largest_valid_slip()
    assert budget_problems(_paths(found)) == []
    assert budget_problems(_paths([*found, TextBlock(content="x")])) != []
    narrow = PrinterProfile(columns=32, dots_per_line=384)
    # raises TooLarge if the render limits refused a valid document
    image = render_image(layout_slip(PrintableSlip(tuple(found)), narrow), narrow)
    assert image.height < MAX_HEIGHT


# --- hole 4a: render limits -------------------------------------------------------------------


def test_a_document_past_the_render_limits_is_refused_before_drawing() -> None:
    tall = [TextLine("x" * 42)] * (MAX_HEIGHT // 20)
    with pytest.raises(TooLarge, match=f"at most {MAX_HEIGHT} pixels"):
        render_image(tall, PROFILE)
    codes = [QrCode("a" * 2000, 1)] * (MAX_QR_BYTES // 2000 + 1)
    with pytest.raises(TooLarge, match=f"at most {MAX_QR_BYTES} bytes"):
        render_image(codes, PROFILE)


def test_a_render_gives_up_at_its_deadline() -> None:
    with pytest.raises(RenderTimeout):
        render_image([TextLine("x")], PROFILE, deadline=time.monotonic() - 1)


# --- hole 4b: renders run side by side, bounded ------------------------------------------------


def _pool(workers: int = 2, queue: int = 0) -> pool.RenderPool:
    return pool.RenderPool(
        workers=workers, queue=queue, timeout_seconds=5, cache_entries=8, cache_bytes=1 << 20
    )


def test_a_slow_render_does_not_block_another() -> None:
    renders = _pool(workers=2)
    release = threading.Event()

    def slow(deadline: float) -> bytes:
        assert release.wait(5)
        return b"slow"

    blocked = renders.submit("slow", slow)
    assert renders.render("quick", lambda deadline: b"quick") == b"quick"
    assert not blocked.done()  # the quick one finished while the slow one was still drawing
    release.set()
    assert blocked.result(5) == b"slow"
    renders.shutdown()


def test_a_saturated_pool_refuses_at_once() -> None:
    renders = _pool(workers=1, queue=1)
    release = threading.Event()
    held = [renders.submit(f"slow{i}", lambda d: bytes(release.wait(5))) for i in range(2)]
    with pytest.raises(pool.Busy):
        renders.submit("third", lambda d: b"")
    release.set()
    for future in held:
        future.result(5)
    assert renders.render("fourth", lambda d: b"ok") == b"ok"  # places are given back
    renders.shutdown()


def test_the_render_gets_a_deadline_from_the_pool_timeout() -> None:
    renders = _pool()
    before = time.monotonic()
    seen: list[float] = []
    renders.render("k", lambda deadline: seen.append(deadline) or b"")
    assert before + 5 <= seen[0] <= time.monotonic() + 5
    renders.shutdown()


def test_each_render_thread_has_its_own_fonts() -> None:
    """What the old process-wide lock protected: a FreeType face used by one thread at a time."""
    found: list[Any] = []

    def load() -> None:
        found.append(preview_module._metrics(512, 42).regular)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found[0] is not found[1]
    assert preview_module._metrics(512, 42) is preview_module._metrics(512, 42)  # per thread


def test_two_real_renders_overlap_in_time() -> None:
    """Not one lock: while one thread is inside render_image, another gets through it."""
    renders = _pool(workers=2)
    inside = threading.Event()
    release = threading.Event()
    original = preview_module._draw_pieces

    def draw_then_wait(*args: Any) -> None:
        original(*args)
        if threading.current_thread().name.startswith("render") and not inside.is_set():
            inside.set()
            assert release.wait(5)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(preview_module, "_draw_pieces", draw_then_wait)
        first = renders.submit("a", lambda d: to_png(PrintableSlip((TextBlock("a"),)), PROFILE))
        assert inside.wait(5)
        second = renders.render("b", lambda d: to_png(PrintableSlip((TextBlock("b"),)), PROFILE))
        assert second.startswith(b"\x89PNG")
        assert not first.done()
        release.set()
        assert first.result(5).startswith(b"\x89PNG")
    renders.shutdown()


# --- hole 4c: the cache -------------------------------------------------------------------------


def test_a_repeated_render_comes_from_the_cache() -> None:
    renders = _pool()
    calls: list[str] = []

    def job(deadline: float) -> bytes:
        calls.append("drawn")
        return b"png"

    key = pool.content_key("png", PrintableSlip((TextBlock("a"),)), PROFILE)
    assert renders.render(key, job) == renders.render(key, job) == b"png"
    assert calls == ["drawn"]
    other = pool.content_key("png", PrintableSlip((TextBlock("b"),)), PROFILE)
    assert other != key
    renders.render(other, job)
    assert calls == ["drawn", "drawn"]
    renders.shutdown()


def test_the_cache_is_bounded() -> None:
    renders = pool.RenderPool(
        workers=1, queue=0, timeout_seconds=5, cache_entries=2, cache_bytes=1 << 20
    )
    calls: list[str] = []
    for key in ("a", "b", "c", "a"):
        renders.render(key, lambda d, key=key: calls.append(key) or b"x")
    assert calls == ["a", "b", "c", "a"]  # "a" was dropped when "c" came
    renders.shutdown()
