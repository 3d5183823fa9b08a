"""ESC/POS bytes from the layout's operations, built on python-escpos.

python-escpos's ``Dummy`` printer collects the bytes. Its commands are used where they say
exactly what we mean: text style (``ESC a``, ``ESC E``, ``GS !``, ``GS B`` through ``set``),
QR codes (``GS ( k`` through ``qr(native=True)``), the cut (``ESC d`` + ``GS V``), the drawer
pulse (``ESC p`` through ``cashdraw``), raster conversion (``EscposImage``) and its printer
database, which gives each model's ``ESC t`` number for a code page. Three things are written
here instead, for reasons:

- **Barcodes** (``GS k``): the block's ``type`` *is* the ``GS k`` number, and function A
  (``m`` 0-6, NUL-terminated) and B (``m`` 65-73, length-prefixed) must follow it exactly;
  python-escpos picks the function from a symbology name, refuses a module width of 1 and
  prints to stdout.
- **Code page and text encoding** (``ESC t n`` + Python's ``cp1257``/``cp775`` codecs):
  python-escpos's automatic encoder remembers the code page it last selected, but an
  ``escpos`` block may contain ``ESC @``, which silently resets the printer to its default
  page; the renderer re-selects the page after such a block.
- **Returning to our own state after raw bytes**: an ``escpos`` block leaves the printer in a
  state we cannot know, so the next line of ours first resets the print modes
  (``ESC !``, ``GS !``, ``GS B``, ``ESC 2``) and then sets its style.

The job is framed as ``ESC @`` and ``ESC t n`` at the start and a cut at the end (when the
profile cuts). With ``code_page="raster"`` every text line is sent as a ``GS v 0`` raster image
drawn by the preview renderer instead, for printers without a Baltic code page.
"""

from __future__ import annotations

import codecs
import functools
import unicodedata
from collections.abc import Iterator, Sequence

from escpos.capabilities import get_profile
from escpos.constants import QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.image import EscposImage
from escpos.printer import Dummy

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
    Style,
    TextLine,
)
from minipos.printing.preview import text_image

__all__ = ["code_page_number", "encode_text", "render_escpos"]

ESC, GS, LF, NUL = b"\x1b", b"\x1d", b"\n", b"\x00"
INIT = ESC + b"@"
#: After raw bytes: print modes off, character size 1×1, reverse off, default line spacing.
RESET_MODES = ESC + b"!\x00" + GS + b"!\x00" + GS + b"B\x00" + ESC + b"2"
_ALIGN_NAMES = {Align.LEFT: "left", Align.CENTER: "center", Align.RIGHT: "right"}
_CODE128 = "CODE128"
_GS_K_MAX = 255
_ERRORS = "minipos.printer"
#: ``GS ( k`` function 169's level: the domain's, whose capacity the validator enforces.
_QR_LEVEL = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}[
    block_rules.QR_ERROR_CORRECTION
]

#: Characters a Baltic code page lacks, spelt with ones it has.
_FALLBACK = {
    "€": "EUR",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "…": "...",
    "×": "x",
    "•": "*",
    "\u00a0": " ",
}


def _printer_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a look-alike, the letter without its accent, or "?"."""
    if not isinstance(error, UnicodeEncodeError):  # pragma: no cover - only used to encode
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        plain = _FALLBACK.get(char)
        if plain is None:
            decomposed = unicodedata.normalize("NFKD", char)
            plain = decomposed.encode("ascii", "ignore").decode("ascii") or "?"
        out.append(plain)
    return "".join(out), error.end


codecs.register_error(_ERRORS, _printer_fallback)


def encode_text(text: str, code_page: str) -> bytes:
    """``text`` in the printer's code page; what the page lacks degrades readably, never fails."""
    return text.encode(code_page, _ERRORS)


@functools.lru_cache(maxsize=64)
def code_page_number(profile: PrinterProfile) -> int:
    """The ``n`` of ``ESC t n`` for the profile's code page.

    ``profile.code_page_number`` when set; else python-escpos's printer database for
    ``profile.model``. Raises ``ValueError`` if the model does not list the page (set the number
    by hand then) or the profile prints text as raster.
    """
    if profile.code_page == "raster":
        raise ValueError("a raster profile selects no code page")
    if profile.code_page_number is not None:
        return profile.code_page_number
    try:
        pages = get_profile(profile.model).get_code_pages()
    except KeyError:
        raise ValueError(f"unknown printer model {profile.model!r}") from None
    number = pages.get(profile.code_page.upper())
    if number is None:
        raise ValueError(
            f"printer model {profile.model!r} has no {profile.code_page.upper()} in "
            "python-escpos's database; set code_page_number"
        )
    return int(number)


def render_escpos(ops: Sequence[Op], profile: PrinterProfile) -> bytes:
    """The complete print job: ``ESC @``, the code page, every operation, in order."""
    return _Renderer(profile).render(ops)


class _Renderer:
    """Tracks what the printer's text state is, to send only the commands that change it."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self.raster = profile.code_page == "raster"
        self.page = "" if self.raster else profile.code_page
        self.select_page = b"" if self.raster else ESC + b"t" + bytes([code_page_number(profile)])
        self.printer = Dummy(profile=profile.model)
        #: The printer's text style, or None after raw bytes (then it is unknown).
        self.state: Style | None = NORMAL
        self.page_selected = True

    def raw(self, data: bytes) -> None:
        self.printer._raw(data)

    def render(self, ops: Sequence[Op]) -> bytes:
        self.raw(INIT + self.select_page)
        pending: list[TextLine | Separator] = []
        for op in ops:
            if self.raster and isinstance(op, TextLine | Separator):
                pending.append(op)
                continue
            if pending:
                self.raster_text(pending)
                pending = []
            self.op(op)
        if pending:
            self.raster_text(pending)
        return bytes(self.printer.output)

    def op(self, op: Op) -> None:
        if isinstance(op, TextLine):
            self.text(op)
        elif isinstance(op, Separator):
            self.text(TextLine(op.char * self.profile.columns))
        elif isinstance(op, Feed):
            self.raw(ESC + b"d" + bytes([min(op.lines, 255)]))
        elif isinstance(op, Barcode):
            self.barcode(op)
        elif isinstance(op, QrCode):
            self.align(op.align)
            self.printer.qr(op.data, ec=_QR_LEVEL, size=op.size, native=True)
        elif isinstance(op, RawBytes):
            self.raw(op.data)
            self.state = None
            if INIT in op.data or ESC + b"t" in op.data:
                self.page_selected = False
        elif isinstance(op, Cut):
            self.printer.cut(mode="PART" if op.partial else "FULL")
        elif isinstance(op, DrawerKick):
            m = 0 if op.pin == 2 else 1
            self.printer.cashdraw([27, 112, m, op.on_ms // 2, op.off_ms // 2])
        else:  # pragma: no cover
            raise TypeError(f"unknown operation {op!r}")

    # --- text ---

    def text(self, line: TextLine) -> None:
        if line.raw:
            # A text block prints in the printer's current state: ours if we know it (then
            # plain), or whatever the block's escpos bytes set.
            if self.state is not None:
                self.style(NORMAL)
        else:
            self.style(line.style)
        if not self.page_selected:
            self.raw(self.select_page)
            self.page_selected = True
        self.raw(encode_text(line.text, self.page) + LF)

    def style(self, wanted: Style) -> None:
        current = self.state
        if current is None:  # after raw bytes: reset what they may have set, then align
            self.raw(RESET_MODES)
            self.printer.set(align=_ALIGN_NAMES[wanted.align])
            current = Style(align=wanted.align)
        if wanted.align != current.align:
            self.printer.set(align=_ALIGN_NAMES[wanted.align])
        if wanted.bold != current.bold:
            self.printer.set(bold=wanted.bold)
        if (wanted.width, wanted.height) != (current.width, current.height):
            self.printer.set(custom_size=True, width=wanted.width, height=wanted.height)
        if wanted.invert != current.invert:
            self.printer.set(invert=wanted.invert)
        self.state = wanted

    def align(self, align: Align) -> None:
        self.printer.set(align=_ALIGN_NAMES[align])
        if self.state is not None:
            self.state = Style(
                align, self.state.bold, self.state.width, self.state.height, self.state.invert
            )

    def raster_text(self, lines: list[TextLine | Separator]) -> None:
        image = EscposImage(text_image(lines, self.profile))
        for fragment in _fragments(image):
            self.raw(
                GS
                + b"v0\x00"
                + fragment.width_bytes.to_bytes(2, "little")
                + fragment.height.to_bytes(2, "little")
                + fragment.to_raster_format()
            )

    # --- barcodes ---

    def barcode(self, op: Barcode) -> None:
        data = gs_k_data(op)
        if data is None:  # a CODE128 too long for GS k once "{" is escaped: print the text
            self.text(TextLine(op.code, Style(op.align)))
            return
        self.align(op.align)
        self.raw(
            GS + b"h" + bytes([op.height]) + GS + b"w" + bytes([op.width]) + GS + b"H"
            + bytes([op.text_position])
        )  # fmt: skip
        if op.type < 65:  # function A: NUL-terminated
            self.raw(GS + b"k" + bytes([op.type]) + data + NUL)
        else:  # function B: length first
            self.raw(GS + b"k" + bytes([op.type, len(data)]) + data)


def gs_k_data(op: Barcode) -> bytes | None:
    """The data bytes of ``GS k`` for a barcode; ``None`` if they would not fit 255 bytes.

    CODE128 data starts with a code-set selector; ``{B`` is added unless the code brings its own
    (``{A``, ``{B``, ``{C``), and a literal ``{`` is sent as ``{{``.
    """
    data = op.code.encode("ascii")
    if op.symbology == _CODE128 and data[:2] not in (b"{A", b"{B", b"{C"):
        data = b"{B" + data.replace(b"{", b"{{")
    if op.type >= 65 and len(data) > _GS_K_MAX:
        return None
    return data


def _fragments(image: EscposImage, height: int = 960) -> Iterator[EscposImage]:
    """A tall image in strips: printers limit one ``GS v 0`` image's height."""
    if image.height <= height:
        yield image
        return
    yield from (EscposImage(part) for part in image.split(height))
