"""Each dialect's websocket: subscribe, receive data in its shape, errors; Coinone's PING/PONG
and idle close; gateway processes speak the selected dialect too."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from core_process import start_core
from upbit_client import run

FAST = {"price": {"update_s": 0.1}, "ticker_interval_ms": 100}


async def _frames(url, messages, count, timeout=5.0):
    out = []
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        for message in messages:
            await ws.send_str(json.dumps(message) if not isinstance(message, str) else message)
        while len(out) < count:
            msg = await asyncio.wait_for(ws.receive(), timeout)
            assert msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), msg
            out.append((msg.type, json.loads(msg.data)))
    return out


def test_bithumb_serves_upbits_subscription_list_at_websocket_v1(exchange):
    ex = exchange(dialect="bithumb", **FAST)
    assert ex.ws_url.endswith("/websocket/v1")
    request = [{"ticket": "b"}, {"type": "ticker", "codes": ["KRW-BTC"]}, {"format": "DEFAULT"}]
    frames = run(_frames(ex.ws_url, [request], 2))
    assert {t for t, _ in frames} == {aiohttp.WSMsgType.BINARY}
    assert [f["stream_type"] for _, f in frames] == ["SNAPSHOT", "REALTIME"]
    assert frames[0][1]["code"] == "KRW-BTC" and "acc_trade_volume_24h" in frames[0][1]
    ((_, error),) = run(_frames(ex.ws_url, ['[{"type": "ticker"}]'], 1))
    assert error["error"]["name"] == "NO_TICKET"


def _subscribe(channel, quote="KRW", target="BTC"):
    return {
        "request_type": "SUBSCRIBE",
        "channel": channel,
        "topic": {"quote_currency": quote, "target_currency": target},
    }


def test_coinone_subscriptions_data_and_errors(exchange):
    ex = exchange(dialect="coinone", **FAST)
    assert ex.ws_url.endswith(f":{ex.port}/")
    frames = run(
        _frames(ex.ws_url, [_subscribe("TICKER"), _subscribe("ORDERBOOK", target="ETH")], 6)
    )
    assert {t for t, _ in frames} == {aiohttp.WSMsgType.TEXT}
    kinds = [(f["response_type"], f.get("channel")) for _, f in frames]
    assert kinds[0] == ("SUBSCRIBED", "TICKER")
    assert ("DATA", "TICKER") in kinds and ("DATA", "ORDERBOOK") in kinds  # subscriptions add up
    ticker = next(
        f["data"]
        for _, f in frames
        if f.get("channel") == "TICKER" and "data" in f and f["response_type"] == "DATA"
    )
    assert (ticker["quote_currency"], ticker["target_currency"]) == ("KRW", "BTC")
    assert {"last", "high", "low", "first", "ask_best_price", "bid_best_qty", "id"} <= set(ticker)
    book = next(
        f["data"]
        for _, f in frames
        if f.get("channel") == "ORDERBOOK" and f["response_type"] == "DATA"
    )
    assert book["target_currency"] == "ETH" and {"price", "qty"} == set(book["bids"][0])

    errors = run(
        _frames(
            ex.ws_url,
            [
                "not json",
                {"request_type": "SUBSCRIBE", "channel": "CANDLE", "topic": {}},
                _subscribe("TICKER", quote="krw", target="btc"),  # values must be upper-case
                _subscribe("TRADE", target="DOGE"),
                {"request_type": "HELLO"},
            ],
            5,
        )
    )
    assert [f["response_type"] for _, f in errors] == ["ERROR"] * 5
    assert [f["error_code"] for _, f in errors][2:4] == [160012, 160012]
    assert errors[2][1]["message"] == "Invalid Topic"


def test_coinone_ping_pong_and_idle_close_without_ping(exchange):
    ex = exchange(dialect="coinone", ws_ping_timeout_s=0.6)

    async def go():
        async with aiohttp.ClientSession() as s, s.ws_connect(ex.ws_url) as ws:
            await asyncio.sleep(0.35)
            await ws.send_str('{"request_type": "PING"}')
            pong = json.loads((await asyncio.wait_for(ws.receive(), 2)).data)
            await asyncio.sleep(0.35)  # 0.7 s since connecting: alive, the PING reset the timer
            alive = not ws.closed
            closed = await asyncio.wait_for(ws.receive(), 3)  # then silence: closed by the server
            return pong, alive, closed.type, ws.close_code

    pong, alive, kind, code = run(go())
    assert pong == {"response_type": "PONG"} and alive
    assert kind == aiohttp.WSMsgType.CLOSE and code == 1000


def test_gateway_processes_speak_the_selected_dialect():
    # Bithumb's protocol is Upbit's, which the gateway tests cover; Coinone's is its own.
    proc, info = start_core("--dialect", "coinone", "--ws-gateways", "1")
    try:
        assert info["dialect"] == "coinone" and len(info["gateways"]) == 1
        assert info["ws_url"].endswith("/") and info["ws_url"] != info["url"] + "/"
        frames = run(_frames(info["ws_url"], [_subscribe("TICKER")], 2))
        assert frames[0][1]["response_type"] == "SUBSCRIBED"
        assert frames[1][1]["channel"] == "TICKER" and "last" in frames[1][1]["data"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
