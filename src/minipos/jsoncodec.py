"""JSON as the API writes it, and msgspec's validation messages as field errors.

Not HTTP: the API (``minipos.api.jsonio``), the CLI and the catalogue files use the same
encoding and the same error wording, so a line the CLI prints is byte for byte what the API
answers and a bad file row reads like a bad request.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from minipos.domain.errors import FieldError

_encoder = msgspec.json.Encoder(decimal_format="number")


def encode(value: Any) -> bytes:
    """``value`` as the API answers it: decimals as plain JSON numbers, fields in order."""
    return _encoder.encode(value)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z_0-9]*)|\[(\d+)\]")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")

#: msgspec's wording → the wording DRF clients already show their users.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^Expected `(int|int \| null)`, got `\w+`$", "A valid integer is required."),
        (r"^Expected `(decimal|decimal \| null)`, got `\w+`$", "A valid number is required."),
        (r"^Invalid decimal string$", "A valid number is required."),
        (r"^Expected `(str|str \| null)`, got `\w+`$", "Not a valid string."),
        (r"^Expected `(bool|bool \| null)`, got `\w+`$", "Must be a valid boolean."),
        (r"^Expected `(array|array \| null)`, got `(\w+)`$", "Expected a list of items."),
        (r"^Expected `(object|object \| null)`, got `(\w+)`$", "Expected a JSON object."),
        (
            r"^Expected `str` of length <= (\d+)$",
            r"Ensure this field has no more than \1 characters.",
        ),
        (r"^Expected `str` of length >= 1$", "This field may not be blank."),
        (r"^Expected `int` >= (-?\d+)$", r"Ensure this value is greater than or equal to \1."),
        (r"^Expected `int` <= (-?\d+)$", r"Ensure this value is less than or equal to \1."),
        (r"^Expected `array` of length <= (\d+)$", r"Ensure this list has no more than \1 items."),
        (r"^Invalid enum value (.*)$", r"\1 is not a valid choice."),
        (r"^Invalid value (.*)$", r"\1 is not a valid choice."),
        (r"^Expected `str` matching regex .*$", "Enter a valid value."),
    )
)


def field_error(message: str) -> FieldError:
    """Turn msgspec's ``"<message> - at `$.rows[1].price`"`` into a ``FieldError``."""
    match = _AT.match(message)
    assert match is not None  # the pattern matches any string
    text, where = match["message"], match["path"] or ""
    path: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(where)]
    missing = _MISSING.match(text)
    if missing:
        path.append(missing["field"])
        return FieldError(tuple(path), "This field is required.")
    for pattern, replacement in _MESSAGES:
        if pattern.match(text):
            text = pattern.sub(replacement, text)
            break
    return FieldError(tuple(path), text)
