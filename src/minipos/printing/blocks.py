"""Print blocks: the ``text``, ``barcode``, ``escpos`` and ``qr`` blocks of the public API docs.

The lowest layer of printing: the invoice API decodes and validates these structs
(``info.header`` / ``footer`` / ``slip``, row ``info.blocks``) and the layout prints them, so
both import them from here and neither from the other. The rules they check (symbologies,
check digits, the print budget) are :mod:`minipos.domain.blocks`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, TypeAlias

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from minipos.domain import blocks
from minipos.domain.errors import FieldError

__all__ = [
    "BarcodeBlock",
    "Block",
    "Blocks",
    "EscposBlock",
    "QrBlock",
    "TextBlock",
    "decode_blocks",
]

Text = Annotated[str, Meta(max_length=2048)]


class TextBlock(
    Struct, tag_field="kind", tag="text", omit_defaults=True, forbid_unknown_fields=True
):
    """One printed line."""

    content: Text

    def problems(self) -> Iterable[FieldError]:
        return ()

    def cost(self, enlarged: bool) -> blocks.PrintCost:
        return blocks.text_cost(self.content, enlarged)


class BarcodeBlock(
    Struct, tag_field="kind", tag="barcode", omit_defaults=True, forbid_unknown_fields=True
):
    """A barcode (ESC/POS ``GS k`` symbology number; 101 = QR code)."""

    code: Annotated[str, Meta(max_length=blocks.QR_MAX_BYTES)]
    type: int
    align: Annotated[int, Meta(ge=0, le=2)] | UnsetType = UNSET
    height: Annotated[int, Meta(ge=1, le=255)] | UnsetType = UNSET
    width: Annotated[int, Meta(ge=1, le=6)] | UnsetType = UNSET
    text_position: Annotated[int, Meta(ge=0, le=3)] | UnsetType = UNSET

    def problems(self) -> Iterable[FieldError]:
        message = blocks.barcode_error(self.code, self.type)
        if message:
            field = "type" if self.type not in blocks.BARCODE_TYPES else "code"
            yield FieldError((field,), message)

    def cost(self, enlarged: bool) -> blocks.PrintCost:
        return blocks.barcode_cost(
            self.code,
            self.type,
            self.height if isinstance(self.height, int) else blocks.BARCODE_HEIGHT,
            self.text_position
            if isinstance(self.text_position, int)
            else blocks.BARCODE_TEXT_POSITION,
        )


class EscposBlock(
    Struct, tag_field="kind", tag="escpos", omit_defaults=True, forbid_unknown_fields=True
):
    """Raw printer bytes, as hex strings (``"1B40"``)."""

    content: Annotated[list[str], Meta(min_length=1, max_length=64)]

    def problems(self) -> Iterable[FieldError]:
        for index, chunk in enumerate(self.content):
            message = blocks.escpos_hex_error(chunk)
            if message:
                yield FieldError(("content", index), message)

    def cost(self, enlarged: bool) -> blocks.PrintCost:
        return blocks.escpos_cost(self.content)


class QrBlock(Struct, tag_field="kind", tag="qr", omit_defaults=True, forbid_unknown_fields=True):
    """A QR code (our addition)."""

    code: Annotated[str, Meta(max_length=blocks.QR_MAX_BYTES)]
    size: Annotated[int, Meta(ge=1, le=16)] | UnsetType = UNSET

    def problems(self) -> Iterable[FieldError]:
        message = blocks.barcode_error(self.code, blocks.QR_TYPE)
        if message:
            yield FieldError(("code",), message)

    def cost(self, enlarged: bool) -> blocks.PrintCost:
        return blocks.qr_cost(
            self.code, self.size if isinstance(self.size, int) else blocks.QR_DEFAULT_SIZE
        )


Block: TypeAlias = TextBlock | BarcodeBlock | EscposBlock | QrBlock
#: The blocks of one place (a header, a footer, a slip, a row), in print order.
Blocks: TypeAlias = tuple[Block, ...]

_BLOCKS_DECODER = msgspec.json.Decoder(list[Block])


def decode_blocks(raw: bytes | str | None) -> Blocks:
    """Decode stored print-block JSON (a JSON array of blocks) into block structs.

    ``None`` and an empty string give no blocks. Raises ``msgspec.ValidationError`` (a
    ``ValueError``) for JSON that is not a list of valid blocks; the API validated it when the
    invoice was posted, so that only happens to a corrupted row.
    """
    if not raw:
        return ()
    return tuple(_BLOCKS_DECODER.decode(raw))
