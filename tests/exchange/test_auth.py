"""Private calls need an Upbit JWT: HS256/HS512, fresh nonce, matching query_hash."""

import aiohttp
from upbit_client import run, token


async def _get(url, auth=None):
    headers = {"Authorization": auth} if auth else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, await r.json(content_type=None)


def test_hs256_and_hs512_tokens_are_accepted(exchange):
    ex = exchange()
    acct = ex.state.accounts[0]

    async def go():
        a = await _get(f"{ex.url}/v1/accounts", token(acct))
        b = await _get(f"{ex.url}/v1/accounts", token(acct, alg="HS512"))
        return a, b

    (sa, body), (sb, _) = run(go())
    assert (sa, sb) == (200, 200)
    krw = next(r for r in body if r["currency"] == "KRW")
    assert set(krw) == {
        "currency",
        "balance",
        "locked",
        "avg_buy_price",
        "avg_buy_price_modified",
        "unit_currency",
    }
    assert krw["balance"] == "100000000.0"


def test_auth_failures_use_upbit_error_names(exchange):
    ex = exchange()
    acct, other = ex.state.accounts[0], ex.state.accounts[1]
    params = {"market": "KRW-BTC"}
    url = f"{ex.url}/v1/orders/chance?market=KRW-BTC"

    async def go():
        reused = token(acct, params, nonce="same-nonce")
        return {
            "missing": await _get(url),
            "bad_signature": await _get(url, token(acct, params, secret=other.secret_key)),
            "unknown_key": await _get(url, token(acct, params).replace("Bearer ", "Bearer x")),
            "wrong_hash": await _get(url, token(acct, params, query_hash="0" * 128)),
            "no_hash": await _get(url, token(acct)),
            "first_use": await _get(url, reused),
            "reused": await _get(url, reused),
        }

    r = run(go())
    assert r["missing"][0] == 401
    assert r["missing"][1]["error"]["name"] == "no_authorization_token"
    assert r["bad_signature"] == (401, r["bad_signature"][1])
    assert r["bad_signature"][1]["error"]["name"] == "jwt_verification"
    assert r["unknown_key"][1]["error"]["name"] == "jwt_verification"
    assert r["wrong_hash"][0] == 401
    assert r["wrong_hash"][1]["error"]["name"] == "invalid_query_payload"
    assert r["no_hash"][1]["error"]["name"] == "invalid_query_payload"
    assert r["first_use"][0] == 200
    assert r["reused"][0] == 401
    assert r["reused"][1]["error"]["name"] == "nonce_used"


def test_access_key_not_issued_is_invalid_access_key(exchange):
    ex = exchange()
    acct = ex.state.accounts[0]
    import jwt

    forged = jwt.encode({"access_key": "nobody", "nonce": "n1"}, acct.secret_key, "HS256")
    status, body = run(_get(f"{ex.url}/v1/accounts", "Bearer " + forged))
    assert status == 401
    assert body["error"]["name"] == "invalid_access_key"
