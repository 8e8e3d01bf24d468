"""Reading answers: failure and its kind, the wanted fields, the rate-limit state."""

from __future__ import annotations

import json

from surgeproof.dialect.answer import read_answer
from surgeproof.dialect.catalog import load_dialect

UPBIT = load_dialect("upbit")
COINONE = load_dialect("coinone")


def headers(**h):
    return lambda name: h.get(name.replace("-", "_"))


def test_http_status_kinds_by_default():
    a = UPBIT.actions["ticker"]
    kinds = {s: read_answer(UPBIT, a, s, headers(), b"{}").kind for s in (200, 400, 429, 418, 503)}
    assert kinds == {
        200: None, 400: "client_error", 429: "rate_limited", 418: "blocked", 503: "server_error"
    }  # fmt: skip
    session_call = UPBIT.actions["balances"]
    assert read_answer(UPBIT, session_call, 401, headers(), b"{}").kind == "session_expired"
    assert read_answer(UPBIT, a, 401, headers(), b"{}").kind == "client_error"


def test_wanted_fields_are_extracted_only_when_asked_for():
    a = UPBIT.actions["ticker"]
    body = json.dumps([{"market": "KRW-BTC", "trade_price": 131e6}]).encode()
    assert read_answer(UPBIT, a, 200, headers(), body, ("price",)).fields == {"price": 131e6}
    assert read_answer(UPBIT, a, 200, headers(), body).fields == {}
    assert read_answer(UPBIT, a, 200, headers(), b"not json", ("price",)).fields == {}


def test_a_2xx_body_flagged_as_an_error_is_one_with_its_code_mapped():
    a = COINONE.actions["limit_order"]
    ok = b'{"result":"success","error_code":"0","order_id":"o-1"}'
    assert read_answer(COINONE, a, 200, headers(), ok, ("order_id",)).fields == {"order_id": "o-1"}
    bad = read_answer(COINONE, a, 200, headers(), b'{"result":"error","error_code":"107"}')
    assert (bad.kind, bad.code) == ("client_error", "107")
    limited = read_answer(COINONE, a, 200, headers(), b'{"result":"error","error_code":"4"}')
    assert limited.kind == "rate_limited"
    # A body that merely mentions the word somewhere else is not parsed as a failure.
    text = b'{"result":"success","note":"no error here","order_id":"o-2"}'
    assert read_answer(COINONE, a, 200, headers(), text).kind is None


def test_remaining_req_says_when_the_second_is_used_up():
    a = UPBIT.actions["orderbook"]
    used = read_answer(UPBIT, a, 200, headers(Remaining_Req="group=x; min=1800; sec=0"), b"")
    left = read_answer(UPBIT, a, 200, headers(Remaining_Req="group=x; min=1800; sec=3"), b"")
    assert used.second_used_up and not left.second_used_up
    assert not read_answer(COINONE, COINONE.actions["ticker"], 200, headers(), b"").second_used_up


def test_a_price_is_kept_only_when_the_answer_wrote_a_plain_finite_number():
    a = UPBIT.actions["ticker"]

    def price(raw: str):
        body = f'[{{"market": "KRW-BTC", "trade_price": {raw}}}]'.encode()
        return read_answer(UPBIT, a, 200, headers(), body, ("price",)).fields.get("price")

    assert price("131000000.0") == 131e6 and price('"131000000.5"') == 131000000.5
    # Python's float() reads each of these; a target that sends them gives no price.
    for hostile in ('"١٢٣"', '"1_000"', '"inf"', '"nan"', '" 5"', "1e400", "NaN", "Infinity",
                    "true", "9" * 400, '"1e400"', "[1]"):  # fmt: skip
        assert price(hostile) is None, hostile


def test_an_answer_nested_past_the_parser_is_no_answer():
    a = UPBIT.actions["ticker"]
    deep = b"[" * 100_000 + b"]" * 100_000
    assert read_answer(UPBIT, a, 200, headers(), deep, ("price",)).fields == {}
