"""Signing schemes: what the exchange's side can verify, checked with independent code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

import jwt

from surgeproof.dialect.catalog import load_dialect
from surgeproof.exchange.accounts import seed_accounts
from surgeproof.exchange.dialects.jwt_verifier import JwtVerifier

#: An account as the embedded exchange seeds it (its verifier knows these keys).
SERVER_ACCOUNT = seed_accounts(1, 7)[0]


@dataclass
class Keys:
    access_key: str = SERVER_ACCOUNT.access_key
    secret_key: str = SERVER_ACCOUNT.secret_key


def draft(dialect: str, action: str, session: str | None = None, **values):
    d = load_dialect(dialect)
    v = d.market_vars("KRW-BTC")
    v.update(values)
    return d.draft(d.actions[action], v, Keys(), session)


def test_upbit_and_bithumb_jwts_pass_the_embedded_exchanges_own_verifiers():
    server = JwtVerifier([SERVER_ACCOUNT])
    d = draft("upbit", "limit_order", side="bid", price="1000", volume="0.1")
    params = [(k, str(v)) for k, v in json.loads(d.body_bytes).items()]
    assert server.verify(d.headers["Authorization"], params, None).access_key == Keys.access_key
    q = draft("upbit", "cancel_order", order_id="u-1")
    assert q.target == "/v1/order?uuid=u-1"
    assert server.verify(q.headers["Authorization"], parse_qsl("uuid=u-1"), "uuid=u-1")
    bithumb = JwtVerifier([SERVER_ACCOUNT], ("HS256",), timestamp_skew_s=60)
    b = draft("bithumb", "order_status", order_id="C0101000000000001")
    assert bithumb.verify(b.headers["Authorization"], parse_qsl(b.target.split("?")[1]), None)


def test_bithumb_jwt_carries_a_millisecond_timestamp_and_the_query_hash():
    d = draft("bithumb", "limit_order", side="ask", price="1000", volume="0.1")
    token = d.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, Keys.secret_key, algorithms=["HS256"])
    assert claims["timestamp"] == d.timestamp_ms and claims["nonce"] == d.nonce
    body = json.loads(d.body_bytes)
    assert body["order_type"] == "limit" and body["side"] == "ask"
    expected = hashlib.sha512("&".join(f"{k}={v}" for k, v in body.items()).encode()).hexdigest()
    assert claims["query_hash"] == expected and claims["query_hash_alg"] == "SHA512"


def test_coinone_payload_is_the_signed_base64_body_with_key_and_nonce():
    d = draft("coinone", "limit_order", side="bid", price="1000", volume="0.1")
    payload = d.headers["X-COINONE-PAYLOAD"].encode()
    assert d.body_bytes == payload
    mac = hmac.new(Keys.secret_key.encode(), payload, hashlib.sha512).hexdigest()
    assert d.headers["X-COINONE-SIGNATURE"] == mac
    body = json.loads(base64.b64decode(payload))
    assert body["access_token"] == Keys.access_key and body["nonce"] == d.nonce
    assert body["side"] == "BUY" and body["type"] == "LIMIT" and body["target_currency"] == "BTC"


def test_hmac_and_login_token_schemes_from_a_file(tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text(
        "name: h\nsigning:\n  scheme: hmac\n  digest: sha256\n  encoding: base64\n"
        "  message: '{timestamp_ms}{method}{path_query}{body}'\n"
        "  headers: {X-KEY: '{access_key}', X-TS: '{timestamp_ms}', X-SIGN: '{signature}'}\n"
        "session: {headers: {Authorization: 'Bearer {session_token}'}}\n"
        "actions:\n"
        "  login: {method: POST, path: /login, body: {u: '{member_id}'},"
        " extract: {session_token: /t}}\n"
        "  balances: {method: GET, path: /me, query: {m: '{market}'}, signed: true,"
        " session: true}\n"
    )
    d = load_dialect(path)
    r = d.draft(d.actions["balances"], d.market_vars("KRW-BTC"), Keys(), "tok")
    message = f"{r.timestamp_ms}GET/me?m=KRW-BTC".encode()
    mac = hmac.new(Keys.secret_key.encode(), message, hashlib.sha256).digest()
    assert r.headers["X-SIGN"] == base64.b64encode(mac).decode()
    assert r.headers["X-KEY"] == Keys.access_key and r.headers["Authorization"] == "Bearer tok"

    path.write_text(
        "name: t\nsigning: {scheme: login-token, headers: {X-Auth: '{session_token}'}}\n"
        "actions:\n  login: {method: POST, path: /login, extract: {session_token: /t}}\n"
        "  balances: {method: GET, path: /me, signed: true}\n"
    )
    t = load_dialect(path)
    assert t.signing.needs_session and not t.signing.needs_keys
    assert t.draft(t.actions["balances"], t.market_vars("KRW-BTC"), None, "tk").headers == {
        "X-Auth": "tk"
    }
