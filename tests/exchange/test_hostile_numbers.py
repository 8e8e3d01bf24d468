"""Hostile numbers through real HTTP, in every dialect: each numeric field of each endpoint that
takes one (query, form, JSON body, path, JWT claim, Coinone payload) answers text that is not
plain ASCII decimal with the dialect's own validation error, never a 5xx, and changes nothing.

Python's int(), float() and Decimal() would read most of these values as numbers; the exchange
reads none of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import quote

import aiohttp
import pytest
from upbit_client import QUIET, run, token

from surgeproof.exchange import load_config
from surgeproof.exchange.errors import ConfigError

#: Text that is not a plain ASCII decimal number, by what makes it so.
HOSTILE_TEXT = {
    "arabic-indic digits": "١٢٣",
    "fullwidth digits": "１２３",
    "devanagari digits": "१२",
    "underscores": "1_000",
    "exponent": "1e3",
    "negative exponent": "5E-1",
    "nan": "nan",
    "NaN": "NaN",
    "inf": "inf",
    "-Infinity": "-Infinity",
    "10^400": "1" + "0" * 400,
    "leading plus": "+5",
    "leading space": " 5",
    "trailing newline": "5\n",
    "tab": "\t5",
    "hex": "0x10",
    "huge length": "9" * 5000,
}
#: JSON number tokens (and constants) that no amount or nonce may be.
HOSTILE_JSON = {"1e400": "1e400", "-1e400": "-1e400", "NaN": "NaN", "Infinity": "Infinity"}

UPBIT_ORDER = {
    "market": "KRW-BTC",
    "side": "bid",
    "ord_type": "limit",
    "price": "100000000",
    "volume": "0.001",
}
BITHUMB_ORDER = {
    "market": "KRW-BTC",
    "side": "bid",
    "order_type": "limit",
    "price": "100000000",
    "volume": "0.001",
}
COINONE_ORDER = {
    "side": "BUY",
    "quote_currency": "KRW",
    "target_currency": "BTC",
    "type": "LIMIT",
    "price": "100000000",
    "qty": "0.001",
}


def now_ms() -> int:
    return int(time.time() * 1000)


class Calls:
    """Signed requests of one dialect against one running exchange; answers kept by kind."""

    def __init__(self, session: aiohttp.ClientSession, ex, dialect: str) -> None:
        self.s, self.ex, self.dialect = session, ex, dialect
        self.account = ex.state.accounts[0]
        self.answers: dict[str, list[tuple[str, tuple[int, object]]]] = {}

    def keep(self, kind: str, what: str, answer: tuple[int, object]) -> None:
        self.answers.setdefault(kind, []).append((what, answer))

    async def send(self, method, path, query=None, body=None, form=None, raw=None, **claims):
        """(status, parsed answer); ``raw`` is a JSON body sent byte for byte."""
        headers = {}
        pairs = list((query or {}).items()) + _signed_pairs(form or body or {})
        if claims.pop("private", False):
            if self.dialect == "bithumb":
                claims.setdefault("timestamp_ms", now_ms())
            headers["Authorization"] = _jwt(self.account, pairs, **claims)
        if raw is not None:
            headers["Content-Type"] = "application/json"
        kwargs = {"params": query, "headers": headers}
        if form is not None:
            kwargs["data"] = form
        elif body is not None:
            kwargs["json"] = body
        elif raw is not None:
            kwargs["data"] = raw.encode()
        async with self.s.request(method, self.ex.url + path, **kwargs) as r:
            return r.status, await r.json(content_type=None)

    async def check(self, kind: str, what: str, method: str, path: str, *args, **kwargs) -> None:
        self.keep(kind, what, await self.send(method, path, *args, **kwargs))

    async def coinone(self, path, fields_json: str, nonce_json: str | None = None):
        """A Coinone private call whose payload is the JSON text given (tokens kept as they are)."""
        nonce = nonce_json if nonce_json is not None else json.dumps(str(uuid.uuid4()))
        access = json.dumps(self.account.access_key)
        text = f'{{"access_token": {access}, "nonce": {nonce}{fields_json}}}'
        payload = base64.b64encode(text.encode())
        headers = {
            "Content-Type": "application/json",
            "X-COINONE-PAYLOAD": payload.decode(),
            "X-COINONE-SIGNATURE": hmac.new(
                self.account.secret_key.encode(), payload, hashlib.sha512
            ).hexdigest(),
        }
        async with self.s.post(self.ex.url + path, data=text.encode(), headers=headers) as r:
            return r.status, await r.json(content_type=None)

    async def ledger(self) -> dict:
        async with self.s.get(self.ex.url + "/admin/ledger") as r:
            return await r.json()

    def wrong(self, kind: str, ok) -> list[str]:
        """The answers of ``kind`` that ``ok`` does not accept, described."""
        return [f"{what}: {a[0]} {a[1]}"[:300] for what, a in self.answers[kind] if not ok(a)]


def _jwt(account, pairs, timestamp_ms=None, **extra) -> str:
    """Upbit's / Bithumb's bearer token; ``timestamp_ms`` may be any JSON value."""
    if timestamp_ms is None:
        return token(account, pairs or None, **extra)
    import jwt as pyjwt

    bearer = token(account, pairs or None, **extra)
    claims = pyjwt.decode(bearer.split(" ", 1)[1], options={"verify_signature": False})
    claims["timestamp"] = timestamp_ms
    return "Bearer " + pyjwt.encode(claims, account.secret_key, algorithm="HS256")


def _signed_pairs(fields: dict) -> list[tuple[str, str]]:
    """What a query_hash covers for a body: ``key[]`` per list item, objects as compact JSON."""
    out = []
    for key, value in fields.items():
        items = value if isinstance(value, list) else [value]
        suffix = "[]" if isinstance(value, list) else ""
        for item in items:
            text = item if isinstance(item, str) else _compact(item)
            out.append((key + suffix, text))
    return out


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_with(fields: dict, name: str, token_text: str) -> str:
    """``fields`` as JSON with ``name``'s value replaced by a raw token (``1e400``, ``NaN``)."""
    marker = "__raw__"
    text = json.dumps({**fields, name: marker})
    return text.replace(json.dumps(marker), token_text)


async def upbit_family_refusals(calls: Calls, order: dict, order_path: str) -> None:
    """Every numeric field Upbit and Bithumb share, with each hostile value, kept as "fields"."""
    for label, text in HOSTILE_TEXT.items():
        unit = quote(text, safe="")
        market = {"market": "KRW-BTC"}
        await calls.check("fields", f"unit {label}", "GET", f"/v1/candles/minutes/{unit}", market)
        for path in ("/v1/candles/minutes/1", "/v1/trades/ticks"):
            q = {**market, "count": text}
            await calls.check("fields", f"{path} count {label}", "GET", path, q)
        q = {"state": "wait", "limit": text}
        await calls.check("fields", f"limit {label}", "GET", "/v1/orders", q, private=True)
        for field in ("price", "volume"):
            bad = {**order, field: text}
            what = f"{order_path} {field} {label}"
            await calls.check("fields", f"JSON {what}", "POST", order_path, body=bad, private=True)
            await calls.check("fields", f"form {what}", "POST", order_path, form=bad, private=True)
            q = {field: text}
            rest = {k: v for k, v in bad.items() if k != field}
            await calls.check(
                "fields", f"query {what}", "POST", order_path, q, body=rest, private=True
            )
    for label, tok in HOSTILE_JSON.items():
        for field in ("price", "volume"):
            raw = _json_with(order, field, tok)
            what = f"JSON token {order_path} {field} {label}"
            await calls.check("fields", what, "POST", order_path, raw=raw, private=True)


def _is_validation_error(answer) -> bool:
    status, body = answer
    return status == 400 and body.get("error", {}).get("name") == "validation_error"


def test_upbit_answers_every_hostile_number_with_its_validation_error(exchange):
    ex = exchange(limits=False, **QUIET)

    async def go():
        async with aiohttp.ClientSession() as s:
            calls = Calls(s, ex, "upbit")
            before = await calls.ledger()
            await upbit_family_refusals(calls, UPBIT_ORDER, "/v1/orders")
            for label, text in HOSTILE_TEXT.items():
                q = {"since": text}
                await calls.check("since", f"admin since {label}", "GET", "/admin/metrics", q)
            after = await calls.ledger()
            control = await calls.send("POST", "/v1/orders", body=UPBIT_ORDER, private=True)
            count = await calls.send("GET", "/v1/trades/ticks", {"market": "KRW-BTC", "count": "5"})
            return calls, before, after, control, count

    calls, before, after, control, count = run(go())
    assert len(calls.answers["fields"]) == len(HOSTILE_TEXT) * 10 + len(HOSTILE_JSON) * 2
    assert calls.wrong("fields", _is_validation_error) == []
    assert calls.wrong("since", _is_validation_error) == []
    assert after == before  # no order placed, no balance moved
    assert control[0] == 201 and control[1]["price"] == "100000000.0"  # the plain form works
    assert count[0] == 200


def test_bithumb_answers_every_hostile_number_with_its_validation_error(exchange):
    ex = exchange(dialect="bithumb", limits=False, **QUIET)
    stamps = {
        **HOSTILE_TEXT,
        "10^400 integer": 10**400,
        "-10^400 integer": -(10**400),
        "1e308 float": 1e308,
        "true": True,
    }

    async def go():
        async with aiohttp.ClientSession() as s:
            calls = Calls(s, ex, "bithumb")
            before = await calls.ledger()
            await upbit_family_refusals(calls, BITHUMB_ORDER, "/v2/orders")
            await upbit_family_refusals(calls, UPBIT_ORDER, "/v1/orders")
            for label, text in HOSTILE_TEXT.items():
                for field in ("limit", "next_key"):
                    q = {"market": "KRW-BTC", field: text}
                    path = "/v2/orders/pending"
                    await calls.check("fields", f"{field} {label}", "GET", path, q, private=True)
                body = {"batch_orders": [{**BITHUMB_ORDER, "volume": text}]}
                path = "/v2/orders/batch"
                await calls.check("batch", label, "POST", path, body=body, private=True)
                q = {"order_id": "C0101" + text}
                await calls.check("order number", label, "DELETE", "/v2/order", q, private=True)
            for label, value in stamps.items():
                claims = {"private": True, "timestamp_ms": value}
                await calls.check("stamp", f"timestamp {label}", "GET", "/v1/accounts", **claims)
            after = await calls.ledger()
            control = await calls.send("POST", "/v2/orders", body=BITHUMB_ORDER, private=True)
            return calls, before, after, control

    calls, before, after, control = run(go())
    assert calls.wrong("fields", _is_validation_error) == []
    # A batch answers 201 with each entry's own error.
    batch_refused = lambda a: (  # noqa: E731
        a[0] == 201 and a[1]["batch_orders_response"][0]["error"]["name"] == "validation_error"
    )
    assert calls.wrong("batch", batch_refused) == []
    # A timestamp that is no millisecond time is the dialect's auth error (401), never a 500.
    auth_error = lambda a: (  # noqa: E731
        a[0] == 401 and a[1]["error"]["name"] in ("jwt_verification", "expired_jwt")
    )
    assert calls.wrong("stamp", auth_error) == []
    by_what = dict(calls.answers["stamp"])
    assert by_what["timestamp 10^400 integer"][1]["error"]["name"] == "jwt_verification"
    assert calls.wrong("order number", lambda a: a[0] == 404) == []
    assert after == before
    assert control[0] == 201 and control[1]["order_id"].startswith("C0101")


def _tail(fields: dict) -> str:
    """``fields`` as the rest of a JSON object: ``, "k": v, ...``."""
    return "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items())


def test_coinone_answers_every_hostile_number_with_its_error_code(exchange):
    ex = exchange(dialect="coinone", limits=False, **QUIET)
    market_buy = {**COINONE_ORDER, "type": "MARKET", "amount": "10000"}
    del market_buy["price"], market_buy["qty"]
    orders = [
        ("/v2.1/order", COINONE_ORDER),
        ("/v2.1/order/limit", COINONE_ORDER),
        ("/v2.1/order", market_buy),
    ]

    async def go():
        async with aiohttp.ClientSession() as s:
            calls = Calls(s, ex, "coinone")
            before = await calls.ledger()
            for label, text in HOSTILE_TEXT.items():
                for path in ("/public/v2/orderbook/KRW/BTC", "/public/v2/trades/KRW/BTC"):
                    await calls.check("public", f"{path} {label}", "GET", path, {"size": text})
                for path, order in orders:
                    for field in ("price", "qty", "amount"):
                        if field in order:
                            answer = await calls.coinone(path, _tail({**order, field: text}))
                            calls.keep("private", f"{path} {field} {label}", answer)
                answer = await calls.coinone("/v2/account/balance", "", json.dumps(text))
                calls.keep("nonce", f"v2 nonce {label}", answer)
            for label, tok in HOSTILE_JSON.items():
                for field in ("price", "qty"):
                    rest = _tail({k: v for k, v in COINONE_ORDER.items() if k != field})
                    answer = await calls.coinone(
                        "/v2.1/order", f"{rest}, {json.dumps(field)}: {tok}"
                    )
                    calls.keep("token", f"order {field} {label}", answer)
                answer = await calls.coinone("/v2/account/balance", "", tok)
                calls.keep("nonce", f"v2 nonce token {label}", answer)
            after = await calls.ledger()
            control = await calls.coinone("/v2.1/order", _tail(COINONE_ORDER))
            v2 = await calls.coinone("/v2/account/balance", "", str(int(time.time())))
            return calls, before, after, control, v2

    calls, before, after, control, v2 = run(go())

    def code(*wanted: str):
        return lambda a: a[0] == 200 and a[1]["result"] == "error" and a[1]["error_code"] in wanted

    assert calls.wrong("public", code("107")) == []
    assert calls.wrong("private", code("107")) == []
    # A payload holding 1e400 or NaN is corrupted (132); a nonce that is no integer is 130.
    assert calls.wrong("token", code("132")) == []
    assert calls.wrong("nonce", code("130", "132")) == []
    assert dict(calls.answers["nonce"])["v2 nonce arabic-indic digits"][1]["error_code"] == "130"
    assert after == before
    assert control[1]["result"] == "success" and v2[1]["result"] == "success"


# -- the exchange's own files and flags ----------------------------------------------------

HOSTILE_YAML = ["1_000", "0x10", "010", "1:30", "+5", ".inf", ".nan", "1.0e+400", "10" * 30]


@pytest.mark.parametrize("text", HOSTILE_YAML)
def test_target_config_numbers_are_plain_decimal_finite_and_bounded(tmp_path, text):
    config = tmp_path / "target.yaml"
    config.write_text(f"api_workers: 4\nservice_time_ms: {text}\n")
    with pytest.raises(ConfigError, match="'service_time_ms' must be a finite number") as err:
        load_config(config)
    assert "\n" not in str(err.value) and str(config) in str(err.value)
    config.write_text(f"accounts: {text}\n")
    with pytest.raises(ConfigError, match="'accounts' must be a whole number from 0 to"):
        load_config(config)
    config.write_text("accounts: 20\nservice_time_ms: 2.5\nprice: {drift_per_s: -0.01}\n")
    loaded = load_config(config)
    assert (loaded.accounts, loaded.service_time_ms, loaded.price.drift_per_s) == (20, 2.5, -0.01)


@pytest.mark.parametrize(
    "flag, text",
    [("--accounts", t) for t in ("١٢", "1_000", " 5", "+5", "0x10")]
    + [("--service-time-ms", t) for t in ("nan", "inf", "1e3", "٥", "1_0", "-1")],
)
def test_exchange_flags_take_plain_decimal_only(capsys, flag, text):
    from surgeproof.cli import main

    assert main(["exchange", flag, text]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"argument {flag}" in err and "Traceback" not in err
