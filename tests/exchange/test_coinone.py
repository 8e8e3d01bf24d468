"""The coinone dialect's own rules: payload signing (secret as issued or upper-cased), UUID
nonces, result/error_code answers on HTTP 200, the public limit of 300 a minute, its login."""

from __future__ import annotations

import aiohttp
from coinone_client import signed
from upbit_client import QUIET, run


async def _post(s, url, headers=None, body=b""):
    async with s.post(url, data=body, headers=headers or {}) as r:
        return r.status, await r.json(content_type=None)


def test_signing_nonces_and_error_codes(exchange):
    ex = exchange(dialect="coinone", **QUIET)
    a = ex.state.accounts[0]
    url = f"{ex.url}/v2.1/account/balance/all"

    async def go():
        async with aiohttp.ClientSession() as s:
            out = {}
            out["as_issued"] = await _post(s, url, *signed(a))
            out["upper"] = await _post(s, url, *signed(a, secret=a.secret_key.upper()))
            headers, body = signed(a, nonce="3f2b3c1e-0000-4000-8000-000000000001")
            out["first"] = await _post(s, url, headers, body)
            out["reused"] = await _post(s, url, headers, body)
            out["not_uuid"] = await _post(s, url, *signed(a, nonce="12345"))
            out["bad_signature"] = await _post(s, url, *signed(a, secret="x" * 40))
            out["no_payload"] = await _post(s, url, {"X-COINONE-SIGNATURE": "00"})
            out["garbage"] = await _post(
                s, url, {"X-COINONE-PAYLOAD": "%%%", "X-COINONE-SIGNATURE": "00"}
            )
            order = {
                "side": "BUY",
                "quote_currency": "KRW",
                "target_currency": "BTC",
                "type": "LIMIT",
                "price": "100000000",
                "qty": "5",
                "post_only": True,
            }
            out["poor"] = await _post(s, f"{ex.url}/v2.1/order", *signed(a, order))
            out["unknown"] = await _post(
                s, f"{ex.url}/v2.1/order/info", *signed(a, {"order_id": "nope"})
            )
            return out

    r = run(go())
    assert r["as_issued"][0] == r["upper"][0] == 200
    assert r["as_issued"][1]["result"] == "success"
    krw = next(b for b in r["as_issued"][1]["balances"] if b["currency"] == "KRW")
    assert krw["available"] == "100000000.0" and krw["limit"] == "0.0"
    assert r["first"][1]["result"] == "success"
    codes = {k: (v[0], v[1]["result"], v[1]["error_code"]) for k, v in r.items()}
    assert codes["reused"] == (200, "error", "131")
    assert codes["not_uuid"] == (200, "error", "130")
    assert codes["bad_signature"] == (200, "error", "123")
    assert codes["no_payload"] == (200, "error", "120")
    assert codes["garbage"] == (200, "error", "132")
    assert codes["poor"] == (200, "error", "103")  # 500M KRW of 100M: Lack of Balance
    assert codes["unknown"] == (200, "error", "104")
    # Application errors are client errors in the exchange's own metrics, whatever the wire says.
    seconds = ex.state.metrics.since(None, 2**40)
    assert sum(s["by_group"].get("account", {}).get("client_errors", 0) for s in seconds) == 5


def test_public_limit_is_300_a_minute_then_blocked_with_error_4(exchange):
    ex = exchange(dialect="coinone", rate_limits={"public": 5})

    async def go():
        async with aiohttp.ClientSession() as s:
            out = []
            for _ in range(7):
                async with s.get(f"{ex.url}/public/v2/ticker_new/KRW/BTC") as r:
                    out.append((r.status, await r.json(), r.headers.get("Retry-After")))
            return out

    out = run(go())
    assert [s for s, _, _ in out] == [200] * 5 + [429, 429]
    assert out[5][1]["error_code"] == "4" and out[5][1]["error_msg"] == "Blocked user access."
    assert out[5][1]["errorCode"] == "4" and int(out[5][2]) == 60  # blocked for a minute
    assert ex.state.config.rate_limits["public"] == 5
    seconds = ex.state.metrics.since(None, 2**40)
    assert sum(s["rate_limited_429"] for s in seconds) == 1
    assert sum(s["blocked_418"] for s in seconds) == 1


def test_app_login_and_logout_in_coinone_shape(exchange):
    ex = exchange(dialect="coinone")
    m = ex.state.accounts[3]

    async def go():
        async with aiohttp.ClientSession() as s:
            ok = await _post(
                s,
                f"{ex.url}/v2.1/app/login",
                {"Content-Type": "application/json"},
                f'{{"member_id": "{m.member_id}", "password": "{m.password}"}}'.encode(),
            )
            bad = await _post(
                s,
                f"{ex.url}/v2.1/app/login",
                {"Content-Type": "application/json"},
                f'{{"member_id": "{m.member_id}", "password": "nope"}}'.encode(),
            )
            token = {"X-Session-Token": ok[1]["session_token"]}
            out = await _post(s, f"{ex.url}/v2.1/app/logout", token)
            again = await _post(s, f"{ex.url}/v2.1/app/logout", token)
            return ok, bad, out, again

    ok, bad, out, again = run(go())
    assert ok[0] == 200 and ok[1]["result"] == "success" and ok[1]["access_token"] == m.access_key
    assert set(ok[1]) == {"result", "error_code", "session_token", "access_token", "expires_in"}
    assert bad[1]["error_code"] == "50"
    assert out[1] == {"result": "success", "error_code": "0"}
    assert again[1]["error_code"] == "100"
