"""Answer paths: keys and indexes walked, a mismatched shape is None (never an error)."""

from __future__ import annotations

import pytest

from surgeproof.dialect.pointer import PointerError, compile_pointer


def test_keys_and_list_indexes_are_walked():
    doc = {"tickers": [{"last": "131000000"}], "a/b": {"~x": 1}}
    assert compile_pointer("/tickers/0/last").find(doc) == "131000000"
    assert compile_pointer("/a~1b/~0x").find(doc) == 1
    assert compile_pointer("").find(doc) is doc


def test_a_path_that_does_not_fit_the_answer_is_none():
    doc = [{"trade_price": 5}]
    for path in ("/1/trade_price", "/0/nope", "/x", "/0/trade_price/deeper", "/-2/trade_price"):
        assert compile_pointer(path).find(doc) is None
    assert compile_pointer("/0/trade_price").find(None) is None


def test_a_path_must_start_with_a_slash():
    with pytest.raises(PointerError, match="/0/trade_price"):
        compile_pointer("0/trade_price")
