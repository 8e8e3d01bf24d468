"""A corpus of malformed requests over HTTP and WebSocket, sent to the exchange in every
dialect: each gets an answer that is not a 5xx (the capacity model's 503 aside), each websocket
a message or a close frame, and the exchange keeps serving and never stalls on one of them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
import urllib.request
import uuid
from urllib.parse import unquote, urlencode

import aiohttp
import jwt
import pytest
from upbit_client import run

from surgeproof.exchange.dialects import DIALECT_NAMES

DEEP = b"[" * 25_000
NESTED_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000


def _jwt(account, body: bytes | None = None, **claims) -> str:
    """A valid token for ``body`` (its query_hash right), with ``claims`` overriding."""
    payload = {
        "access_key": account.access_key,
        "nonce": str(uuid.uuid4()),
        "timestamp": int(time.time() * 1000),
    }
    if body:
        pairs = unquote(urlencode(list(json.loads(body).items())))
        payload["query_hash"] = hashlib.sha512(pairs.encode()).hexdigest()
        payload["query_hash_alg"] = "SHA512"
    payload.update(claims)
    return "Bearer " + jwt.encode(payload, account.secret_key, algorithm="HS256")


def _coinone(account, fields: bytes) -> dict:
    encoded = base64.b64encode(fields)
    return {
        "X-COINONE-PAYLOAD": encoded.decode(),
        "X-COINONE-SIGNATURE": hmac.new(
            account.secret_key.encode(), encoded, hashlib.sha512
        ).hexdigest(),
    }


def _order(volume: str) -> bytes:
    return json.dumps(
        {
            "market": "KRW-BTC",
            "side": "bid",
            "ord_type": "limit",
            "order_type": "limit",
            "price": "1000",
            "volume": volume,
        }
    ).encode()


def _cases(dialect: str, account) -> list[tuple[str, str, dict, bytes]]:
    """(method, path, headers, body): malformed in every way the hardening issue lists."""
    json_h = {"Content-Type": "application/json"}
    admin = [
        ("GET", "/admin/metrics?since=nan", {}, b""),
        ("GET", "/admin/metrics?since=1e400", {}, b""),
        ("GET", "/admin/metrics?since=-inf", {}, b""),
        ("POST", "/admin/price", json_h, b'{"market": "KRW-BTC", "over_s": NaN}'),
        ("POST", "/admin/price", json_h, b'{"market": "KRW-BTC", "over_s": 1e400}'),
        ("POST", "/admin/price", json_h, b'{"market": {}, "shock": 0}'),
        ("POST", "/admin/price", json_h, DEEP),
        ("POST", "/admin/stall", json_h, b'{"seconds": 1e999}'),
    ]
    if dialect == "coinone":
        payload = b'{"access_token": "%s", "nonce": "%s"' % (
            account.access_key.encode(),
            b"6a2b3c1e-0000-4000-8000-00000000000",
        )
        private = [
            ("POST", "/v2.1/order", {**json_h, **_coinone(account, DEEP[:5000])}, b""),
            ("POST", "/v2.1/order", {**json_h, **_coinone(account, NESTED_OBJECT[:1000])}, b""),
            (
                "POST",
                "/v2.1/order",
                _coinone(
                    account,
                    payload + b'1", "side": "BUY", "type": "LIMIT", '
                    b'"quote_currency": "KRW", "target_currency": "BTC", "price": "1000", '
                    b'"qty": "1e999999", "post_only": false}',
                ),
                b"",
            ),
            (
                "POST",
                "/v2.1/order",
                _coinone(
                    account,
                    payload + b'2", "side": "SELL", "type": "MARKET", '
                    b'"quote_currency": "KRW", "target_currency": "BTC", "qty": "1e300000"}',
                ),
                b"",
            ),
            (
                "POST",
                "/v2/order/query_order",
                _coinone(account, payload[:-3] + b'99999999999999999999999999"}'),
                b"",
            ),
            (
                "POST",
                "/v2.1/account/balance",
                {"X-COINONE-PAYLOAD": "é" * 10, "X-COINONE-SIGNATURE": "x"},
                b"",
            ),
            ("POST", "/v2.1/app/login", json_h, DEEP),
            ("POST", "/v2.1/app/login", json_h, b'{"member_id": ["a"], "password": {}}'),
            ("GET", "/public/v2/orderbook/KRW/BTC?size=1e400", {}, b""),
            ("GET", "/public/v2/trades/KRW/%FF%FE?size=-1", {}, b""),
        ]
    else:
        orders = "/v2/orders" if dialect == "bithumb" else "/v1/orders"
        huge, slow = _order("1e999999"), _order("1e300000")
        auth = {"Authorization": _jwt(account, huge)}
        private = [
            ("POST", "/v1/orders", {**json_h, "Authorization": _jwt(account)}, DEEP),
            ("POST", "/v1/orders", {**json_h, "Authorization": _jwt(account)}, NESTED_OBJECT),
            ("POST", orders, {**json_h, **auth}, huge),
            ("POST", orders, {**json_h, "Authorization": _jwt(account, slow)}, slow),
            ("POST", orders, {**json_h, "Authorization": _jwt(account, query_hash=["a"])}, huge),
            ("POST", orders, {**json_h, "Authorization": _jwt(account, query_hash={"a": 1})}, huge),
            ("GET", "/v1/accounts", {"Authorization": _jwt(account, timestamp=float("nan"))}, b""),
            ("GET", "/v1/accounts", {"Authorization": _jwt(account, access_key=["x"])}, b""),
            ("GET", "/v1/accounts", {"Authorization": _jwt(account, nonce={"n": 1})}, b""),
            ("GET", "/v1/accounts", {"Authorization": "Bearer " + "x" * 6000}, b""),
            ("POST", "/v1/session", json_h, DEEP),
            ("POST", "/v1/session", json_h, b'{"member_id": "m", "password": "\\ud800"}'),
            ("GET", "/v1/candles/minutes/1?market=KRW-BTC&count=9" + "9" * 5000, {}, b""),
            ("GET", "/v1/candles/minutes/1?market=KRW-BTC&to=" + "9" * 300, {}, b""),
            ("GET", "/v1/ticker?markets=" + "KRW-BTC," * 2000, {}, b""),
        ]
    return admin + private


def _raw(port: int, method: str, path: str, headers: dict, body: bytes, extra: bytes = b"") -> int:
    """Send one request as bytes (so headers may carry anything) and return its status."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for name, value in {**headers, "Content-Length": str(len(body))}.items():
        head += f"{name}: {value}\r\n"
    data = head.encode("utf-8") + extra + b"\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1."), (method, path, answer[:100])
    return int(answer[9:12])


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_malformed_http_requests_never_get_a_server_error(exchange, dialect):
    ex = exchange(dialect=dialect, limits=False)
    account = ex.state.accounts[0]
    statuses = {}
    for method, path, headers, body in _cases(dialect, account):
        statuses[(method, path[:60], body[:40])] = _raw(ex.port, method, path, headers, body)
    # A non-ASCII Authorization header (UTF-8 bytes on the wire).
    auth = "Authorization: Bearer 토큰\r\n".encode()
    statuses[("GET", "non-ascii auth", b"")] = _raw(ex.port, "GET", "/v1/accounts", {}, b"", auth)
    bad = {case: status for case, status in statuses.items() if status >= 500 and status != 503}
    assert bad == {}
    with urllib.request.urlopen(ex.url + "/admin/metrics", timeout=5) as r:
        seconds = json.load(r)["seconds"]
    assert sum(s["server_errors"] for s in seconds) == 0
    assert ex.state.prices.refs["KRW-BTC"].price > 0  # the market clock still runs


async def _ws_answers(url: str, frames: list) -> list:
    out = []
    async with aiohttp.ClientSession() as s:
        for frame in frames:
            async with s.ws_connect(url, max_msg_size=0) as ws:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
                msg = await asyncio.wait_for(ws.receive(), 5)
                out.append((msg.type, ws.close_code))
    return out


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_malformed_websocket_frames_get_a_message_or_a_close_frame(exchange, dialect):
    ex = exchange(dialect=dialect, limits=False)
    frames = [
        "[" * 25_000,
        "{" * 25_000,
        '{"request_type": "SUBSCRIBE", "channel": "TICKER", "topic": ' + "[" * 5000,
        json.dumps([{"ticket": "t"}, {"type": "ticker", "codes": [{"x": 1}]}]),
        json.dumps({"request_type": ["PING"]}),
        b"\xff\xfe\x00garbage",
        "x" * 200_000,  # over the 64 KiB message limit: closed with 1009
    ]
    answers = run(_ws_answers(ex.ws_url, frames))
    for (kind, code), frame in zip(answers, frames, strict=True):
        if kind == aiohttp.WSMsgType.CLOSE:
            assert code in (1009, 1000, 1007), (frame[:30], code)
        else:
            assert kind in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), (frame[:30], kind)
    assert answers[-1] == (aiohttp.WSMsgType.CLOSE, 1009)
    with urllib.request.urlopen(ex.url + "/admin/metrics", timeout=5) as r:
        assert sum(s["server_errors"] for s in json.load(r)["seconds"]) == 0
