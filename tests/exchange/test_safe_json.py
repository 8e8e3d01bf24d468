"""Client JSON is parsed with its bounds checked first: depth, number length, NaN refused."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surgeproof.exchange.safe_json import (
    MAX_DEPTH,
    JsonTooComplex,
    loads_bounded,
    nesting_depth,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**18), 10**18) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_documents_within_the_bounds_parse_as_json_does(value):
    text = json.dumps(value)
    if nesting_depth(text.encode()) <= MAX_DEPTH:
        assert loads_bounded(text) == json.loads(text)


@given(st.binary(max_size=300) | st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_bytes_parse_or_raise_value_error(raw):
    # JsonTooComplex and JSONDecodeError are both ValueErrors; nothing else may escape.
    with contextlib.suppress(ValueError):
        loads_bounded(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"volume": ' + b"9" * 100_000 + b"}",
        b'{"over_s": NaN}',
        b'{"x": -Infinity}',
    ],
)
def test_deep_nesting_long_numbers_and_nan_are_refused_before_parsing(raw):
    # json.loads itself would raise RecursionError here, or convert 100,000 digits.
    with pytest.raises(JsonTooComplex):
        loads_bounded(raw)


def test_brackets_inside_strings_do_not_count():
    assert nesting_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert loads_bounded('["' + "[" * 1000 + '"]') == ["[" * 1000]
