"""Read ESC/POS bytes back: commands and decoded text lines.

For tests and for looking at a stored print job ("what did the printer get?"). It understands
the commands this package sends and the common ones a block may carry; any other byte after
``ESC``/``GS``/``DLE`` is reported as an unknown two-byte command. Text is decoded with the code
page most recently selected with ``ESC t n`` (CP437, the printers' default, before any).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["EPSON_CODE_PAGES", "Command", "parse_escpos", "text_lines"]

#: ``ESC t n`` numbers of the Epson table (python-escpos's "default" printer) we may meet.
EPSON_CODE_PAGES: Mapping[int, str] = {
    0: "cp437",
    2: "cp850",
    16: "cp1252",
    33: "cp775",
    51: "cp1257",
}

_ESC, _GS, _DLE, _FS = 0x1B, 0x1D, 0x10, 0x1C
#: Commands with a fixed number of argument bytes after the two command bytes.
_FIXED: Mapping[tuple[int, int], tuple[str, int]] = {
    (_ESC, 0x40): ("ESC @", 0),
    (_ESC, 0x32): ("ESC 2", 0),
    (_ESC, 0x74): ("ESC t", 1),
    (_ESC, 0x61): ("ESC a", 1),
    (_ESC, 0x45): ("ESC E", 1),
    (_ESC, 0x21): ("ESC !", 1),
    (_ESC, 0x2D): ("ESC -", 1),
    (_ESC, 0x33): ("ESC 3", 1),
    (_ESC, 0x64): ("ESC d", 1),
    (_ESC, 0x4A): ("ESC J", 1),
    (_ESC, 0x4D): ("ESC M", 1),
    (_ESC, 0x7B): ("ESC {", 1),
    (_ESC, 0x70): ("ESC p", 3),
    (_GS, 0x21): ("GS !", 1),
    (_GS, 0x42): ("GS B", 1),
    (_GS, 0x68): ("GS h", 1),
    (_GS, 0x77): ("GS w", 1),
    (_GS, 0x48): ("GS H", 1),
    (_GS, 0x66): ("GS f", 1),
    (_DLE, 0x04): ("DLE EOT", 1),
}


@dataclass(frozen=True, slots=True)
class Command:
    """One command (``name`` like ``"GS k"``, ``args`` its bytes) or a line of ``text``.

    ``name`` is ``"TEXT"`` for a line of text (``args`` are its raw bytes, without the LF).
    """

    name: str
    args: bytes = b""
    text: str = ""


def parse_escpos(data: bytes, code_pages: Mapping[int, str] = EPSON_CODE_PAGES) -> list[Command]:
    """The commands and text lines in ``data``, in order."""
    out: list[Command] = []
    page = "cp437"
    text = bytearray()
    i, size = 0, len(data)

    def flush() -> None:
        if text:
            out.append(Command("TEXT", bytes(text), bytes(text).decode(page, "replace")))
            text.clear()

    while i < size:
        byte = data[i]
        if byte == 0x0A:
            out.append(Command("TEXT", bytes(text), bytes(text).decode(page, "replace")))
            text.clear()
            i += 1
            continue
        if byte not in (_ESC, _GS, _DLE, _FS) or i + 1 >= size:
            if byte != 0x0D:
                text.append(byte)
            i += 1
            continue
        flush()
        key = (byte, data[i + 1])
        if key in _FIXED:
            name, count = _FIXED[key]
            args = data[i + 2 : i + 2 + count]
            if name == "ESC t" and args:
                page = code_pages.get(args[0], page)
            out.append(Command(name, args))
            i += 2 + count
        else:
            found = _variable(data, i)
            if found is None:
                out.append(Command("?", data[i : i + 2]))
                i += 2
            else:
                out.append(found[0])
                i = found[1]
    flush()
    return out


def _variable(data: bytes, i: int) -> tuple[Command, int] | None:
    """A variable-length ``GS`` command at ``i`` and where the next one starts, if known."""
    size = len(data)
    if data[i] != _GS:
        return None
    command = data[i + 1]
    if command == 0x56:  # GS V m [n]
        count = 2 if i + 2 < size and data[i + 2] in (65, 66) else 1
        return Command("GS V", data[i + 2 : i + 2 + count]), i + 2 + count
    if command == 0x6B:  # GS k m ...: function A NUL-terminated, B length-prefixed
        m = data[i + 2] if i + 2 < size else 0
        if m < 65:
            end = data.find(b"\x00", i + 3)
            end = size if end < 0 else end
            return Command("GS k", data[i + 2 : end]), end + 1
        length = data[i + 3] if i + 3 < size else 0
        return Command("GS k", data[i + 2 : i + 4 + length]), i + 4 + length
    if command == 0x28 and i + 2 < size:  # GS ( x pL pH ...
        length = int.from_bytes(data[i + 3 : i + 5], "little")
        return Command("GS ( " + chr(data[i + 2]), data[i + 5 : i + 5 + length]), i + 5 + length
    if command == 0x76:  # GS v 0 m xL xH yL yH data
        header = data[i + 3 : i + 8]
        width = int.from_bytes(header[1:3], "little")
        height = int.from_bytes(header[3:5], "little")
        end = i + 8 + width * height
        return Command("GS v 0", data[i + 3 : end]), end
    return None


def text_lines(data: bytes, code_pages: Mapping[int, str] = EPSON_CODE_PAGES) -> list[str]:
    """Only the decoded text lines of ``data``."""
    return [c.text for c in parse_escpos(data, code_pages) if c.name == "TEXT"]
