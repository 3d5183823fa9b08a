"""The body decoder's nesting limit and its answers to hostile bodies (issue #11, hole 3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minipos.api.jsonio import MAX_DEPTH, HTTPProblem, decode
from minipos.bootstrap import operations
from minipos.domain.errors import ValidationFailed
from minipos.invoices.schemas import InvoiceIn

BODY_TYPES = sorted({op.body for op in operations() if op.body is not None}, key=str)


def nested(depth: int) -> bytes:
    return b'{"x":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b', "rows": 1}'


def test_nesting_up_to_the_limit_is_decoded_one_more_is_refused() -> None:
    with pytest.raises(ValidationFailed):  # decoded: the shape error of "rows"
        decode(nested(MAX_DEPTH), InvoiceIn)
    with pytest.raises(HTTPProblem, match=f"deeper than {MAX_DEPTH} levels") as refused:
        decode(nested(MAX_DEPTH + 1), InvoiceIn)
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    "text",
    [
        '"[[[["',  # brackets in a string
        '"\\"[[[["',  # after an escaped quote
        '"\\\\"',  # an escaped backslash ends no string early...
        '"a\\\\\\"[[[["',  # ...nor do three, the last escaping a quote
        '"\\u005b\\u005b"',  # \u escapes of brackets
    ],
)
def test_brackets_inside_strings_do_not_count(text: str) -> None:
    body = ('{"x": [' + ", ".join([text] * 50) + "], " + '"rows": 1}').encode()
    with pytest.raises(ValidationFailed):
        decode(body, InvoiceIn)
    deep = ('{"x": [' + text + ", " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "]}").encode()
    with pytest.raises(HTTPProblem, match="deeper than"):
        decode(deep, InvoiceIn)


def test_closing_brackets_in_strings_cannot_hide_depth() -> None:
    """`["]", ["]", …` nests 1,000 deep though a naive count sees `[]` pairs."""
    body = b'["]",' * 1000 + b"1" + b"]" * 1000
    with pytest.raises(HTTPProblem, match="deeper than"):
        decode(body, InvoiceIn)


_TOKENS = st.sampled_from(
    ["[", "]", "{", "}", '"', "\\", ",", ":", "1", '"a"', '"[["', '"\\"', "null", " ", "\\u0000"]
)


@settings(max_examples=300)
@given(
    body_type=st.sampled_from(BODY_TYPES),
    head=st.lists(_TOKENS, max_size=40),
    depth=st.integers(0, 2000),
    opener=st.sampled_from(["[", '{"a":', '[{"b":', '["]",']),
)
def test_hostile_bodies_get_a_client_error_never_an_exception(
    body_type: type, head: list[str], depth: int, opener: str
) -> None:
    """Random token soup around deep nesting: decoded, a 400, or a field error; nothing else
    (a RecursionError or any other exception would be a 500)."""
    body = ("".join(head) + opener * depth + "]" * depth).encode()
    outcome: object
    try:
        outcome = decode(body, body_type)
    except (HTTPProblem, ValidationFailed) as refused:
        outcome = refused
    assert not isinstance(outcome, HTTPProblem) or outcome.status_code == 400
