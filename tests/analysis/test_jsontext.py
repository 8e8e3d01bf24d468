"""analysis.json's text is the standard indented encoder's, byte for byte, only faster."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surgeproof.analysis import jsontext

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
)
keys = (
    st.text(max_size=8)
    | st.integers()
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=False, allow_infinity=False)
)
documents = st.recursive(
    scalars | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.lists(scalars, max_size=30)
        | st.dictionaries(keys, inner, max_size=6)
    ),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_the_text_is_the_indented_standard_encoders(doc):
    assert jsontext.dumps(doc) == json.dumps(doc, indent=1, allow_nan=False)


def test_a_column_of_numbers_is_laid_out_one_value_a_line():
    doc = {"t_s": [0.0, 1.5, None, True, 10**20, -3], "groups": {"*": {"p99_ms": []}}}
    assert jsontext.dumps(doc) == json.dumps(doc, indent=1, allow_nan=False)
    assert "\n  0.0,\n  1.5,\n  null,\n  true,\n  100000000000000000000,\n  -3\n ]" in (
        jsontext.dumps(doc)
    )


def test_strings_with_commas_lists_of_lists_and_tuples_are_encoded_as_the_standard_does():
    doc = {"reasons": ["a, b", "c"], "pairs": [[1, 2], [3, "x,y"]], "t": (1, 2.5), "m": [1, {}]}
    assert jsontext.dumps(doc) == json.dumps(doc, indent=1, allow_nan=False)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_value_that_is_not_a_number_is_refused_as_the_standard_encoder_refuses_it(bad):
    for doc in ({"x": [1.0, bad]}, {"x": bad}, [{"y": bad}]):
        with pytest.raises(ValueError):
            jsontext.dumps(doc)


def test_a_value_json_cannot_hold_is_refused():
    with pytest.raises(TypeError):
        jsontext.dumps({"x": [1, object()]})
    with pytest.raises(TypeError):
        jsontext.dumps({(1, 2): 3})
