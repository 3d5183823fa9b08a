"""JSON in and out.

Requests are decoded by msgspec straight into typed structs (numbers into ``Decimal`` without
passing through ``float``), once. Only when that fails is the body read again loosely to name
every field error at once, unknown fields included (docs/api-conventions.md, "Errors").
Responses are encoded by msgspec with decimals written as plain JSON numbers.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from minipos.domain.errors import FieldError, Path, ValidationFailed
from minipos.jsoncodec import all_errors, decode_exact, encode, field_error, loose_decode

# encode and field_error live in minipos.jsoncodec (the CLI and the catalogue files use them
# too); the routes keep reaching them here, with the rest of the HTTP side of JSON.
__all__ = [
    "MAX_DEPTH",
    "HTTPProblem",
    "JSONResponse",
    "canonical",
    "decode",
    "drf_errors",
    "encode",
    "field_error",
    "query",
    "read_body",
    "reject_unknown",
    "require_json",
]

T = TypeVar("T")

#: Whether unknown body fields and query parameters are refused (``MINIPOS_UNKNOWN_FIELDS``).
#: The route dispatcher sets it per request from the app's settings, so two apps in one
#: process (tests) may differ; outside a request (CLI, tests of decode) the default holds.
reject_unknown: ContextVar[bool] = ContextVar("reject_unknown", default=True)

# Decimals as strings: a decoded body may still hold NaN or Infinity (validation comes later),
# which a JSON number cannot carry, and it must still have a canonical form to compare.
_canonical_encoder = msgspec.json.Encoder(decimal_format="string")


def canonical(value: Any) -> bytes:
    """A decoded request in canonical form, for comparing two requests (Idempotency-Key)."""
    return _canonical_encoder.encode(value)


class HTTPProblem(Exception):
    """An error answered as ``{"detail": …}`` with the given status (401, 403, 413, 415, …)."""

    def __init__(
        self, status_code: int, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})
        super().__init__(detail)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else encode(content)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 past ``max_bytes`` (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPProblem(413, f"Request body is larger than {max_bytes} bytes.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPProblem(413, f"Request body is larger than {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media or "none"
        raise HTTPProblem(415, f'Unsupported media type "{shown}" in request.')


#: ``\u0000`` in a JSON string (an escaped backslash before it does not count).
_NUL_ESCAPE = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")
_NUL_MESSAGE = "Text may not contain the NUL character (\\u0000)."


#: Deepest nesting of arrays and objects in a body. The deepest documented shape, a print block
#: of an invoice row (body → rows → row → info → blocks → block), is 6 levels; msgspec recurses
#: per level and fails with RecursionError near 1,000, so the limit has to come first.
MAX_DEPTH = 32
#: Opening brackets → 2, closing → 0, quotes kept, everything else dropped (see _too_deep).
_MARKS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_MARKS = bytes(sorted(set(range(256)) - set(b'[]{}"')))


def _too_deep(body: bytes) -> bool:
    """Whether arrays and objects nest deeper than ``MAX_DEPTH``, brackets in strings aside.

    Linear, and all in C but the last step over the brackets alone: this runs on every body of
    the invoice hot path. Past the first syntax error the count may be off, but msgspec stops
    there too.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    if b"\\" in body:
        # Escaped backslashes first (left to right, as a parser pairs them), then escaped
        # quotes: every quote left delimits a string.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Dropping adjacent quote pairs keeps the quotes' parity: either an empty string (most
    # strings, once their other text is gone) or two strings with no bracket between them.
    marks = body.translate(_MARKS, _NOT_MARKS).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])  # the odd pieces are inside strings
    # After k marks with o openings the depth is o - (k - o) = 2o - k.
    depths = map(operator.sub, itertools.accumulate(marks), itertools.count(1))
    return max(depths, default=0) > MAX_DEPTH


def decode(body: bytes, type_: type[T]) -> T:
    """Decode ``body`` as ``type_``; malformed JSON → 400 detail, wrong shape → field error."""
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
    if b"\\u0000" in body and _NUL_ESCAPE.search(body):
        raise HTTPProblem(400, f"JSON parse error - {_NUL_MESSAGE}")
    if _too_deep(body):
        raise HTTPProblem(
            400, f"JSON parse error - arrays and objects nest deeper than {MAX_DEPTH} levels"
        )
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        first = exc
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _parse_error(exc) from exc
    return _after_failure(body, type_, first)


def _parse_error(exc: Exception) -> HTTPProblem:
    if isinstance(exc, UnicodeDecodeError):  # msgspec's answer to bytes that are not UTF-8
        return HTTPProblem(400, "JSON parse error - the body is not valid UTF-8")
    return HTTPProblem(400, f"JSON parse error - {exc}")


def _after_failure(body: bytes, type_: type[T], first: msgspec.ValidationError) -> T:
    """Every error of a body msgspec refused, or (unknown fields ignored) the body without
    them. Off the hot path: only a refused body gets here."""
    try:
        value = loose_decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # The typed decode stopped at a shape error before it reached the syntax error.
        raise _parse_error(exc) from exc
    reject = reject_unknown.get()
    errors = all_errors(value, type_, reject_unknown=reject)
    if errors:
        raise ValidationFailed(errors) from first
    if reject:
        # The walk found nothing msgspec did: say what msgspec said rather than nothing.
        raise ValidationFailed([field_error(str(first))]) from first
    try:
        decoded: T = decode_exact(value, type_)  # the walk deleted the unknown fields
    except msgspec.ValidationError as exc:
        raise ValidationFailed([field_error(str(exc))]) from exc
    return decoded


def query(request: Request, type_: type[T]) -> T:
    """Query parameters into a typed struct; an empty value means "not given" (as in DRF)."""
    given = {name: value for name, value in request.query_params.items() if value != ""}
    for name, value in given.items():
        if "\x00" in value:
            raise ValidationFailed.single((name,), _NUL_MESSAGE)
    try:
        return msgspec.convert(given, type_, strict=False)
    except msgspec.ValidationError as exc:
        first = exc
    # Query structs are flat and every field optional: one parameter at a time finds them all.
    errors = []
    for name, value in given.items():
        try:
            msgspec.convert({name: value}, type_, strict=False)
        except msgspec.ValidationError as exc:
            errors.append(field_error(str(exc)))
    raise ValidationFailed(errors or [field_error(str(first))]) from first


def drf_errors(errors: tuple[FieldError, ...]) -> dict[str, Any]:
    """Nest field errors the way DRF does: ``{"rows": [{}, {"price": ["…"]}]}``."""
    root: dict[str, Any] = {}
    for error in errors:
        path: Path = error.path or ("non_field_errors",)
        node: Any = root
        for step, following in itertools.pairwise(path):
            node = _child(node, step, following)
        last = path[-1]
        if isinstance(node, list):
            assert isinstance(last, int)
            while len(node) <= last:
                node.append({})
            node[last] = node[last] if isinstance(node[last], list) else []
            node[last].append(error.message)
        else:
            node.setdefault(str(last), []).append(error.message)
    return root


def _child(node: Any, step: str | int, following: str | int) -> Any:
    empty: Any = [] if isinstance(following, int) else {}
    if isinstance(node, list):
        assert isinstance(step, int)
        while len(node) <= step:
            node.append({})
        if not node[step] or not isinstance(node[step], type(empty)):
            node[step] = empty
        return node[step]
    existing = node.get(str(step))
    if not isinstance(existing, type(empty)):
        node[str(step)] = existing = empty
    return existing
