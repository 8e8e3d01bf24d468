"""The bithumb dialect's own rules: JWT with a millisecond timestamp (HS256), v2 order calls
with Bithumb order numbers, pending orders, batch entry and cancel; Upbit's error envelope."""

from __future__ import annotations

import json
import time

import aiohttp
from upbit_client import QUIET, run, token

NOW_MS = lambda: int(time.time() * 1000)  # noqa: E731


def _pairs(body: dict) -> list[tuple[str, str]]:
    """What a query_hash covers for a body with lists: ``key[]`` per item, objects as JSON."""
    out = []
    for key, value in body.items():
        items = value if isinstance(value, list) else [value]
        suffix = "[]" if isinstance(value, list) else ""
        for item in items:
            text = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))
            out.append((key + suffix, text))
    return out


async def _call(s, method, url, account, params=None, body=None, **claims):
    signed = _pairs(body) if body is not None else params
    headers = {"Authorization": token(account, signed, **claims)}
    async with s.request(method, url, params=params, json=body, headers=headers) as r:
        return r.status, await r.json(content_type=None), r.headers.get("Remaining-Req")


def test_jwt_needs_a_fresh_millisecond_timestamp_and_hs256(exchange):
    ex = exchange(dialect="bithumb")
    a = ex.state.accounts[0]
    url = f"{ex.url}/v1/accounts"

    async def go():
        async with aiohttp.ClientSession() as s:
            return {
                "ok": await _call(s, "GET", url, a, timestamp_ms=NOW_MS()),
                "none": await _call(s, "GET", url, a),
                "old": await _call(s, "GET", url, a, timestamp_ms=NOW_MS() - 120_000),
                "hs512": await _call(s, "GET", url, a, timestamp_ms=NOW_MS(), alg="HS512"),
            }

    r = run(go())
    assert r["ok"][0] == 200 and r["ok"][2] == "group=private; min=1800; sec=139"
    assert r["none"][0] == 401 and r["none"][1]["error"]["name"] == "jwt_verification"
    assert r["old"][0] == 401 and r["old"][1]["error"]["name"] == "expired_jwt"
    assert r["hs512"][0] == 401 and "HS256" in r["hs512"][1]["error"]["message"]


def test_v2_orders_pending_cancel_and_batches(exchange):
    ex = exchange(dialect="bithumb", **QUIET)
    a = ex.state.accounts[0]
    order = {
        "market": "KRW-BTC",
        "side": "bid",
        "order_type": "limit",
        "price": "100000000",
        "volume": "0.001",
    }

    async def go():
        async with aiohttp.ClientSession() as s:
            ts = NOW_MS()
            placed = await _call(s, "POST", f"{ex.url}/v2/orders", a, body=order, timestamp_ms=ts)
            batch = {"batch_orders": [order, {**order, "client_order_id": "mine-1"}, {}]}
            many = await _call(
                s, "POST", f"{ex.url}/v2/orders/batch", a, body=batch, timestamp_ms=ts
            )
            pending = await _call(
                s,
                "GET",
                f"{ex.url}/v2/orders/pending",
                a,
                params={"market": "KRW-BTC", "limit": "2"},
                timestamp_ms=ts,
            )
            one = placed[1]["order_id"]
            cancelled = await _call(
                s, "DELETE", f"{ex.url}/v2/order", a, params={"order_id": one}, timestamp_ms=ts
            )
            again = await _call(
                s, "DELETE", f"{ex.url}/v2/order", a, params={"order_id": one}, timestamp_ms=ts
            )
            ids = [r["order_id"] for r in many[1]["batch_orders_response"] if "order_id" in r]
            bulk = await _call(
                s,
                "POST",
                f"{ex.url}/v2/orders/cancel",
                a,
                body={"order_ids": [*ids, "C0101000000000000000"]},
                timestamp_ms=ts,
            )
            return placed, many, pending, cancelled, again, bulk, ids

    placed, many, pending, cancelled, again, bulk, ids = run(go())
    assert placed[0] == 201 and placed[1]["order_id"].startswith("C0101")
    assert set(placed[1]) == {"order_id", "market", "side", "order_type", "created_at"}
    answers = many[1]["batch_orders_response"]
    assert [("order_id" in r, "error" in r) for r in answers] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    assert answers[1]["client_order_id"] == "mine-1"
    assert pending[0] == 200 and len(pending[1]["data"]) == 2 and pending[1]["has_next"] is True
    assert pending[1]["data"][0]["state"] == "wait"
    assert cancelled[0] == 200 and cancelled[1]["order_id"] == placed[1]["order_id"]
    assert again[0] == 400 and again[1]["error"]["name"] == "validation_error"
    assert [r["order_id"] for r in bulk[1]["success"]] == ids
    assert bulk[1]["failed"][0]["error"]["name"] == "order_not_found"
    assert ex.state.engine.open_count() == 0
