"""JSON as the API writes it, and msgspec's validation messages as field errors.

Not HTTP: the API (``minipos.api.jsonio``), the CLI and the catalogue files use the same
encoding and the same error wording, so a line the CLI prints is byte for byte what the API
answers and a bad file row reads like a bad request.
"""

from __future__ import annotations

import re
import types
import typing
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from minipos.domain.errors import FieldError, Path

_encoder = msgspec.json.Encoder(decimal_format="number")


def encode(value: Any) -> bytes:
    """``value`` as the API answers it: decimals as plain JSON numbers, fields in order."""
    return _encoder.encode(value)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z_0-9]*)|\[(\d+)\]")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")
REQUIRED = "This field is required."
UNKNOWN = "Unknown field."

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
        (
            r"^Expected `str` of length >= (\d+)$",
            r"Ensure this field has at least \1 characters.",
        ),
        (
            r"^Expected `(?:int|float)` >= (-?\d+(?:\.\d*[1-9])?)(?:\.0+)?0*$",
            r"Ensure this value is greater than or equal to \1.",
        ),
        (
            r"^Expected `(?:int|float)` <= (-?\d+(?:\.\d*[1-9])?)(?:\.0+)?0*$",
            r"Ensure this value is less than or equal to \1.",
        ),
        (r"^Expected `array` of length <= (\d+)$", r"Ensure this list has no more than \1 items."),
        (r"^Expected `array` of length >= 1$", "This list may not be empty."),
        (r"^Expected `array` of length >= (\d+)$", r"Ensure this field has at least \1 elements."),
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
        return FieldError(tuple(path), REQUIRED)
    unknown = _UNKNOWN.match(text)
    if unknown:
        path.append(unknown["field"])
        return FieldError(tuple(path), UNKNOWN)
    for pattern, replacement in _MESSAGES:
        if pattern.match(text):
            text = pattern.sub(replacement, text)
            break
    return FieldError(tuple(path), text)


# --- every error of a document at once -------------------------------------------------------

#: Numbers as ``Decimal`` (never ``float``), so a subtree encoded again is the same JSON number.
_loose_decoder = msgspec.json.Decoder(float_hook=Decimal)
_exact_encoder = msgspec.json.Encoder(decimal_format="number")


def loose_decode(data: bytes) -> Any:
    """JSON into plain dicts and lists, numbers exact: the input of :func:`all_errors`."""
    return _loose_decoder.decode(data)


def decode_exact(value: Any, type_: Any) -> Any:
    """A loosely decoded value decoded as ``type_`` exactly as its JSON would be."""
    return msgspec.json.decode(_exact_encoder.encode(value), type=type_)


def all_errors(value: Any, type_: Any, *, reject_unknown: bool) -> list[FieldError]:
    """Every field error of ``value`` (from :func:`loose_decode`) read as ``type_``.

    msgspec stops at the first error; this walks the struct types, asking msgspec itself about
    each subtree (so the rules and wording are exactly the decoder's) and descending only into
    the subtrees it refuses. A subtree that does decode has its structs' own ``problems()``
    (business rules that need nothing else, e.g. a block's code) checked, so a type error in
    one row does not hide a bad price in the next. Unknown object keys are reported when
    ``reject_unknown`` and the struct forbids them; otherwise they are deleted from ``value``
    in place, so that the cleaned document decodes.
    """
    errors: list[FieldError] = []
    _walk(value, type_, (), reject_unknown, errors)
    return errors


def _walk(value: Any, type_: Any, path: Path, reject: bool, errors: list[FieldError]) -> None:
    try:
        decoded = decode_exact(value, type_)
    except msgspec.ValidationError as exc:
        first = field_error(str(exc))
    else:
        _own_problems(decoded, path, errors)
        return
    base, metas = _unannotated(type_)
    if _is_struct(base) and isinstance(value, dict):
        _walk_struct(value, base, path, reject, errors)
        return
    if typing.get_origin(base) is list and isinstance(value, list):
        # The list's own bounds first (its length), then each item.
        if metas:
            try:
                decode_exact(value, Annotated[(list[Any], *metas)])
            except msgspec.ValidationError as exc:
                errors.append(_under(path, field_error(str(exc))))
                return
        (item_type,) = typing.get_args(base)
        for index, item in enumerate(value):
            _walk(item, item_type, (*path, index), reject, errors)
        return
    member = _container_member(base, value)
    if member is not None:
        _walk(value, member, path, reject, errors)
        return
    errors.append(_under(path, first))  # a scalar: msgspec's own message is the whole story


def _walk_struct(
    value: dict[str, Any],
    cls: type[msgspec.Struct],
    path: Path,
    reject: bool,
    errors: list[FieldError],
) -> None:
    config = cls.__struct_config__
    fields = msgspec.structs.fields(cls)
    known = {f.encode_name for f in fields}
    if config.tag_field is not None:
        known.add(config.tag_field)  # the union chose this struct by it: already checked
    for f in fields:
        if f.encode_name in value:
            _walk(value[f.encode_name], f.type, (*path, f.encode_name), reject, errors)
        elif f.required:
            errors.append(FieldError((*path, f.encode_name), REQUIRED))
    for key in [key for key in value if key not in known]:
        if not config.forbid_unknown_fields:
            continue  # msgspec ignores them for this struct, and so do we
        if reject:
            errors.append(FieldError((*path, key), UNKNOWN))
        else:
            del value[key]


def _own_problems(decoded: Any, path: Path, errors: list[FieldError]) -> None:
    """The ``problems()`` of every struct in a subtree that decoded."""
    if isinstance(decoded, msgspec.Struct):
        problems = getattr(decoded, "problems", None)
        if callable(problems):
            errors.extend(_under(path, problem) for problem in problems())
        for f in msgspec.structs.fields(decoded):
            _own_problems(getattr(decoded, f.name), (*path, f.encode_name), errors)
    elif isinstance(decoded, list):
        for index, item in enumerate(decoded):
            if isinstance(item, msgspec.Struct | list):
                _own_problems(item, (*path, index), errors)


def _container_member(union: Any, value: Any) -> Any:
    """The struct or list member of a union that ``value`` is meant as, if it can be told."""
    if typing.get_origin(union) not in (typing.Union, types.UnionType) or value is None:
        return None
    members = [
        m for m in typing.get_args(union) if m is not type(None) and m is not msgspec.UnsetType
    ]
    if len(members) == 1:
        base, _ = _unannotated(members[0])
        return members[0] if _is_struct(base) or typing.get_origin(base) is list else None
    if isinstance(value, dict) and all(_is_struct(m) for m in members):
        # A tagged union (print blocks): the tag names the struct.
        for member in members:
            config = member.__struct_config__
            if config.tag_field is not None and value.get(config.tag_field) == config.tag:
                return member
    return None


def _unannotated(type_: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(type_) is Annotated:
        base, *metas = typing.get_args(type_)
        return base, tuple(metas)
    return type_, ()


def _is_struct(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, msgspec.Struct)


def _under(path: Path, error: FieldError) -> FieldError:
    return FieldError((*path, *error.path), error.message)
