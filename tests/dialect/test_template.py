"""Templates: slots filled from the variables, types kept for a lone slot, errors that say why."""

from __future__ import annotations

import pytest

from surgeproof.dialect.template import TemplateError, compile_template


def test_a_lone_slot_keeps_the_variables_value_and_mixed_text_is_text():
    t = compile_template({"n": "{price}", "s": "at {price} KRW", "lit": 3, "xs": ["{side}"]})
    assert t({"price": 5, "side": "bid"}) == {"n": 5, "s": "at 5 KRW", "lit": 3, "xs": ["bid"]}
    assert t.variables == {"price", "side"}


def test_filters_apply_left_to_right():
    t = compile_template("{base|lower}_{quote|lower}/{p|number}")
    assert t({"base": "BTC", "quote": "KRW", "p": "1000"}) == "btc_krw/1000"
    assert compile_template("{p|number}")({"p": "0.5"}) == 0.5


def test_doubled_braces_are_literal_and_constants_render_once():
    t = compile_template('{{"a": "{x}"}}')
    assert t({"x": 1}) == '{"a": "1"}'
    const = compile_template({"type": "ticker", "codes": ["KRW-BTC"]})
    assert const.constant and const({}) is const({})


@pytest.mark.parametrize(
    ("value", "allowed", "says"),
    [
        ("{nope}", frozenset({"market"}), "unknown variable {nope}"),
        ("{market|shout}", frozenset({"market"}), "unknown filter |shout"),
        ("a { b", None, "unmatched '{'"),
        ("{Bad-Name}", None, "bad slot"),
        ({"k": object()}, None, "expected text, a number"),
    ],
)
def test_a_bad_template_says_what_is_wrong(value, allowed, says):
    with pytest.raises(TemplateError) as err:
        compile_template(value, allowed)
    assert says in str(err.value)
