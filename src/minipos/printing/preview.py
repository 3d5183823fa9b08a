"""Previews of the layout: plain text and PNG, from the same operations the printer gets.

The text preview is monospace at the profile's width: what the paper shows, line for line, with
barcodes and QR codes as ``[EAN13 1234567890128]`` / ``[QR …]`` placeholders. The PNG is drawn
at one pixel per printer dot (``dots_per_line`` wide) with DejaVu Sans Mono, real barcodes
(encoded by python-barcode, drawn at the block's module width and height in dots) and real QR
codes (qrcode, at the domain's error-correction level, as the printer is asked for), so both
scan like the paper.

Drawing is bounded: :func:`render_image` first checks the document against :data:`MAX_HEIGHT`
and :data:`MAX_QR_BYTES` (an estimate that costs no drawing) and raises :class:`TooLarge`, and
gives up with :class:`RenderTimeout` at the caller's deadline. Renders may run in several
threads at once: each thread has its own fonts (a FreeType face must not be used by two
threads at a time).
"""

from __future__ import annotations

import functools
import io
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import barcode
import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from minipos.domain import blocks as block_rules
from minipos.printing.model import PrinterProfile
from minipos.printing.ops import (
    NORMAL,
    Align,
    Barcode,
    Cut,
    DrawerKick,
    Feed,
    Op,
    QrCode,
    RawBytes,
    Separator,
    TextLine,
    printed_lines,
)

__all__ = [
    "MAX_HEIGHT",
    "MAX_QR_BYTES",
    "RenderTimeout",
    "TooLarge",
    "render_image",
    "render_png",
    "render_text",
    "text_image",
]

#: Blank margin around the PNG, in dots (the paper's edge beyond the printable width).
MARGIN = 16
#: Quiet zone around a QR code, in modules (the QR standard asks for 4).
QR_QUIET_ZONE = 4
_WHITE, _BLACK, _GREY = 255, 0, 160
#: Most pixels of height one image may have: about 4,600 printed lines (the longest valid
#: receipt, 1,000 rows, plus the most its print blocks may add), 73 MB at 608 pixels wide.
MAX_HEIGHT = 120_000
#: Most QR data one image may draw: QR encoding is the costly part (about 0.2 s for a full
#: 2,331-byte code). Four times what the print budget lets one document hold.
MAX_QR_BYTES = 4 * block_rules.MAX_QR_BYTES_TOTAL
_QR_LEVEL = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}[block_rules.QR_ERROR_CORRECTION]


class TooLarge(ValueError):
    """The document would draw past a render limit; the message names it."""


class RenderTimeout(Exception):
    """The render passed its deadline and was abandoned."""


# --- text ---------------------------------------------------------------------------------------


def render_text(ops: Sequence[Op], profile: PrinterProfile) -> str:
    """The operations as monospace text, ``profile.columns`` wide, one line per printed line."""
    columns = profile.columns
    out: list[str] = []
    for op in ops:
        if isinstance(op, TextLine):
            if op.style is NORMAL and len(op.text) <= columns:  # most lines: placed as they are
                out.append(op.text)
                continue
            for chunk in printed_lines(op, columns):
                out.append(_place(_spaced(chunk, op.style.width), op.style.align, columns))
        elif isinstance(op, Separator):
            out.append(op.char * columns)
        elif isinstance(op, Feed):
            out.extend([""] * op.lines)
        elif isinstance(op, Barcode):
            out.append(_place(_fit(f"[{op.symbology} {op.code}]", columns), op.align, columns))
        elif isinstance(op, QrCode):
            out.append(_place(_fit(f"[QR {op.data}]", columns), op.align, columns))
        elif isinstance(op, Cut):
            out.append(("8<" + " -" * columns)[:columns])
        # RawBytes and DrawerKick print nothing visible.
    return "\n".join([line.rstrip() for line in out]) + "\n" if out else ""


def _spaced(chunk: str, width: int) -> str:
    """A double/triple-width chunk as the columns it covers: each character then spaces."""
    if width == 1:
        return chunk
    return "".join(c + " " * (width - 1) for c in chunk)


def _place(text: str, align: Align, columns: int) -> str:
    if align is Align.CENTER:
        return " " * max(0, (columns - len(text)) // 2) + text
    if align is Align.RIGHT:
        return text.rjust(columns)
    return text


def _fit(text: str, columns: int) -> str:
    return text if len(text) <= columns else text[: columns - 2] + "…]"


# --- image --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Metrics:
    """Font and geometry for one (dots, columns) pair."""

    dots: int
    columns: int
    advance: float  # pixels per character
    line_height: int
    text_top: int  # y offset of the glyphs inside a line
    regular: ImageFont.FreeTypeFont
    bold: ImageFont.FreeTypeFont
    fake_bold: bool  # no bold face found: draw the regular one with a stroke

    @property
    def text_width(self) -> int:
        return math.ceil(self.advance * self.columns)

    @property
    def text_left(self) -> int:
        return MARGIN + (self.dots - self.text_width) // 2


_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/Library/Fonts"),
)


def _font_file(name: str) -> Path | None:
    for folder in _FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    if name == "DejaVuSansMono.ttf":  # python-barcode ships this one
        bundled = Path(barcode.__file__).parent / "fonts" / name
        if bundled.is_file():
            return bundled
    return None


_FONTS = threading.local()


def _metrics(dots: int, columns: int) -> _Metrics:
    """The thread's own fonts and geometry: a FreeType face must not serve two threads."""
    cached = getattr(_FONTS, "metrics", None)
    if cached is None:
        cached = _FONTS.metrics = functools.lru_cache(maxsize=16)(_load_metrics)
    result: _Metrics = cached(dots, columns)
    return result


def _load_metrics(dots: int, columns: int) -> _Metrics:
    regular_file = _font_file("DejaVuSansMono.ttf")
    if regular_file is None:  # pragma: no cover - python-barcode always ships it
        raise RuntimeError("no DejaVu Sans Mono font found for the preview")
    bold_file = _font_file("DejaVuSansMono-Bold.ttf")
    size = 40
    while size > 6:
        font = ImageFont.truetype(str(regular_file), size)
        if font.getlength("M") * columns <= dots:
            break
        size -= 1
    regular = ImageFont.truetype(str(regular_file), size)
    bold = ImageFont.truetype(str(bold_file or regular_file), size)
    advance = regular.getlength("M")
    line_height = max(round(advance * 2), size + 4)
    _, top, _, bottom = (round(v) for v in regular.getbbox("ĀÉgjy|"))
    return _Metrics(
        dots=dots,
        columns=columns,
        advance=advance,
        line_height=line_height,
        text_top=(line_height - (bottom - top)) // 2 - top,
        regular=regular,
        bold=bold,
        fake_bold=bold_file is None,
    )


_Drawer = Callable[[Image.Image, ImageDraw.ImageDraw, int], None]


def render_image(
    ops: Sequence[Op], profile: PrinterProfile, deadline: float | None = None
) -> Image.Image:
    """The operations drawn as a greyscale image, one pixel per printer dot.

    Raises :class:`TooLarge` before drawing anything past the render limits, and
    :class:`RenderTimeout` once ``time.monotonic()`` passes ``deadline``.
    """
    metrics = _metrics(profile.dots_per_line, profile.columns)
    check_limits(ops, metrics)
    pieces = [piece for op in ops for piece in _pieces(op, metrics, deadline)]
    height = sum(h for h, _ in pieces) + 2 * MARGIN
    image = Image.new("L", (profile.dots_per_line + 2 * MARGIN, height), _WHITE)
    _draw_pieces(image, pieces, MARGIN, deadline)
    return image


def render_png(ops: Sequence[Op], profile: PrinterProfile, deadline: float | None = None) -> bytes:
    """The operations as a PNG (see :func:`render_image`)."""
    buffer = io.BytesIO()
    render_image(ops, profile, deadline).save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def text_image(lines: Sequence[TextLine | Separator], profile: PrinterProfile) -> Image.Image:
    """Text lines drawn exactly ``dots_per_line`` wide with no margin: raster-printed text."""
    metrics = _metrics(profile.dots_per_line, profile.columns)
    pieces = [piece for line in lines for piece in _pieces(line, metrics, None)]
    width = profile.dots_per_line + 2 * MARGIN
    image = Image.new("L", (width, sum(h for h, _ in pieces)), _WHITE)
    _draw_pieces(image, pieces, 0, None)
    return image.crop((MARGIN, 0, MARGIN + profile.dots_per_line, image.height))


def check_limits(ops: Sequence[Op], m: _Metrics) -> None:
    """Raise :class:`TooLarge` if drawing ``ops`` would pass a render limit.

    Heights are upper bounds worked out without drawing: a QR code's side is taken from the
    version its bytes need in byte mode, which qrcode never exceeds.
    """
    height = 2 * MARGIN
    qr_bytes = 0
    for op in ops:
        if isinstance(op, TextLine):
            height += len(printed_lines(op, m.columns)) * m.line_height * op.style.height
        elif isinstance(op, Separator | Cut):
            height += m.line_height
        elif isinstance(op, Feed):
            height += m.line_height * op.lines
        elif isinstance(op, Barcode):
            height += op.height + 2 * m.line_height
        elif isinstance(op, QrCode):
            size = len(op.data.encode("utf-8", "surrogatepass"))
            qr_bytes += size
            height += (block_rules.qr_side(size) + 2 * QR_QUIET_ZONE) * op.size
    if height > MAX_HEIGHT:
        raise TooLarge(f"The document is too long to draw: at most {MAX_HEIGHT} pixels high.")
    if qr_bytes > MAX_QR_BYTES:
        raise TooLarge(f"The document has too many QR codes to draw: at most {MAX_QR_BYTES} bytes.")


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise RenderTimeout("The preview took too long to draw.")


def _draw_pieces(
    image: Image.Image, pieces: list[tuple[int, _Drawer]], top: int, deadline: float | None
) -> None:
    draw = ImageDraw.Draw(image)
    for piece_height, drawer in pieces:
        _check_deadline(deadline)
        drawer(image, draw, top)
        top += piece_height


def _pieces(op: Op, m: _Metrics, deadline: float | None) -> list[tuple[int, _Drawer]]:
    """Each operation as (height, drawer) pairs; a drawer paints at a given top y."""
    _check_deadline(deadline)  # between operations: one costs 0.2 s at most (a full QR code)
    if isinstance(op, TextLine):
        return [_text_piece(chunk, op, m) for chunk in printed_lines(op, m.columns)]
    if isinstance(op, Separator):
        return [_text_piece(op.char * m.columns, TextLine(""), m)]
    if isinstance(op, Feed):
        return [(m.line_height * op.lines, _nothing)]
    if isinstance(op, Barcode):
        return [_image_piece(_barcode_image(op, m), op.align, m)]
    if isinstance(op, QrCode):
        return [_image_piece(qr_image(op.data, op.size), op.align, m)]
    if isinstance(op, Cut):
        return [(m.line_height, functools.partial(_draw_cut, m))]
    if isinstance(op, RawBytes | DrawerKick):
        return []
    raise TypeError(f"unknown operation {op!r}")  # pragma: no cover


def _nothing(image: Image.Image, draw: ImageDraw.ImageDraw, y: int) -> None:
    return None


def _text_piece(chunk: str, line: TextLine, m: _Metrics) -> tuple[int, _Drawer]:
    style = line.style
    height = m.line_height * style.height

    def drawer(image: Image.Image, draw: ImageDraw.ImageDraw, y: int) -> None:
        if not chunk.strip() and not style.invert:
            return
        font = m.bold if style.bold else m.regular
        stroke = 1 if style.bold and m.fake_bold else 0
        if style.width == 1 and style.height == 1 and not style.invert:
            x = m.text_left + _offset(len(chunk), style.align, m) * m.advance
            draw.text((x, y + m.text_top), chunk, font=font, fill=_BLACK, stroke_width=stroke)
            return
        # Scaled or reversed: draw at 1x, then stretch the pixels as the printer does.
        small = Image.new("L", (max(1, math.ceil(len(chunk) * m.advance)), m.line_height), _WHITE)
        ink = _WHITE if style.invert else _BLACK
        if style.invert:
            small.paste(_BLACK, (0, 0, small.width, small.height))
        ImageDraw.Draw(small).text(
            (0, m.text_top), chunk, font=font, fill=ink, stroke_width=stroke, stroke_fill=ink
        )
        big = small.resize((small.width * style.width, height), Image.Resampling.NEAREST)
        free = m.text_width - big.width
        x = m.text_left + _aligned(free, style.align)
        image.paste(big, (x, y))

    return height, drawer


def _offset(length: int, align: Align, m: _Metrics) -> int:
    """Start column of a ``length``-character line."""
    return _aligned(m.columns - length, align)


def _aligned(free: int, align: Align) -> int:
    if free <= 0 or align is Align.LEFT:
        return 0
    return free if align is Align.RIGHT else free // 2


def _image_piece(picture: Image.Image, align: Align, m: _Metrics) -> tuple[int, _Drawer]:
    if picture.width > m.dots:  # wider than the paper: the printer would not print it either
        picture = picture.resize((m.dots, picture.height), Image.Resampling.NEAREST)

    def drawer(image: Image.Image, draw: ImageDraw.ImageDraw, y: int) -> None:
        image.paste(picture, (MARGIN + _aligned(m.dots - picture.width, align), y))

    return picture.height, drawer


def _draw_cut(m: _Metrics, image: Image.Image, draw: ImageDraw.ImageDraw, y: int) -> None:
    middle = y + m.line_height // 2
    for x in range(0, image.width, 12):
        draw.line((x, middle, x + 6, middle), fill=_GREY, width=1)


# --- barcodes and QR codes ----------------------------------------------------------------------

#: Our symbology names to python-barcode's. Those it lacks (UPC-E, CODE93) are drawn as
#: CODE128 of the same data: the preview then scans to the same text.
_PYTHON_BARCODE = {
    "EAN13": "ean13",
    "EAN8": "ean8",
    "UPC-A": "upca",
    "CODE39": "code39",
    "ITF": "itf",
    "CODABAR": "codabar",
    "CODE128": "code128",
}


def barcode_modules(symbology: str, code: str) -> str:
    """The bar pattern ("1" = bar, "0" = space) python-barcode encodes for ``code``."""
    name = _PYTHON_BARCODE.get(symbology, "code128")
    data = code
    options: dict[str, object] = {}
    if name == "code39":
        data = code.strip("*")
        options["add_checksum"] = False
    elif name == "codabar":  # printers take start/stop a-d too; python-barcode only A-D
        data = code.upper()
    cls = barcode.get_barcode_class(name)
    return "".join(cls(data, **options).build())


def _barcode_image(op: Barcode, m: _Metrics) -> Image.Image:
    try:
        modules = barcode_modules(op.symbology, op.code)
    except Exception:
        modules = ""
    module = op.width
    while module > 1 and (len(modules) + 20) * module > m.dots:
        module -= 1
    quiet = 10 * module
    bars = Image.new("L", (len(modules) * module + 2 * quiet, op.height), _WHITE)
    draw = ImageDraw.Draw(bars)
    for index, bit in enumerate(modules):
        if bit == "1":
            x = quiet + index * module
            draw.rectangle((x, 0, x + module - 1, op.height - 1), fill=_BLACK)
    above, below = op.text_position in (1, 3), op.text_position in (2, 3)
    if not (above or below) and modules:
        return bars
    # Control characters (CODE93/CODE128 take them) are in the bars, not in the HRI text:
    # the font cannot lay them out.
    shown = "".join(c for c in op.code if c.isprintable())
    label = shown if modules else f"[{op.symbology} {shown}]"
    text_width = math.ceil(m.regular.getlength(label))
    width = max(bars.width, text_width)
    height = bars.height + m.line_height * (above + below) if modules else m.line_height
    out = Image.new("L", (width, height), _WHITE)
    top = m.line_height if above else 0
    if modules:
        out.paste(bars, ((width - bars.width) // 2, top))
    label_draw = ImageDraw.Draw(out)
    x = (width - text_width) // 2
    label_ys = [0] if above else []
    if below or not modules:
        label_ys.append(top + (bars.height if modules else 0))
    for label_y in label_ys:
        label_draw.text((x, label_y + m.text_top), label, font=m.regular, fill=_BLACK)
    return out


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR modules for ``data`` at the printer's error correction, without the quiet zone."""
    qr = qrcode.QRCode(border=0, error_correction=_QR_LEVEL)
    qr.add_data(data.encode("utf-8"))
    qr.make(fit=True)
    return qr.get_matrix()


def qr_image(data: str, size: int) -> Image.Image:
    """A QR code with ``size``-dot modules and the standard 4-module quiet zone."""
    matrix = qr_matrix(data)
    count = len(matrix) + 2 * QR_QUIET_ZONE
    small = Image.new("L", (count, count), _WHITE)
    small.putdata(
        [
            _BLACK
            if QR_QUIET_ZONE <= y < count - QR_QUIET_ZONE
            and QR_QUIET_ZONE <= x < count - QR_QUIET_ZONE
            and matrix[y - QR_QUIET_ZONE][x - QR_QUIET_ZONE]
            else _WHITE
            for y in range(count)
            for x in range(count)
        ]
    )
    return small.resize((count * size, count * size), Image.Resampling.NEAREST)
