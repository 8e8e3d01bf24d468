"""``/websocket/v1``: Upbit request format, SNAPSHOT then REALTIME, SIMPLE format, errors."""

import asyncio
import json

import aiohttp
from upbit_client import run


async def _session(url, request, frames, timeout=3.0):
    out = []
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        await ws.send_str(json.dumps(request))
        while len(out) < frames:
            msg = await asyncio.wait_for(ws.receive(), timeout)
            assert msg.type == aiohttp.WSMsgType.BINARY  # Upbit sends binary frames
            out.append(json.loads(msg.data))
    return out


def test_ticker_snapshot_then_realtime_default_format(exchange):
    ex = exchange(price={"update_s": 0.1})
    req = [{"ticket": "t1"}, {"type": "ticker", "codes": ["KRW-BTC"]}, {"format": "DEFAULT"}]
    frames = run(_session(ex.ws_url, req, 3))
    assert frames[0]["type"] == "ticker" and frames[0]["code"] == "KRW-BTC"
    assert frames[0]["stream_type"] == "SNAPSHOT"
    assert {f["stream_type"] for f in frames[1:]} == {"REALTIME"}
    assert {"trade_price", "acc_trade_volume_24h", "change", "ask_bid"} <= set(frames[0])


def test_simple_format_orderbook_and_only_snapshot(exchange):
    ex = exchange()
    req = [
        {"ticket": "t2"},
        {"type": "orderbook", "codes": ["KRW-ETH.5"], "isOnlySnapshot": True},
        {"format": "SIMPLE"},
    ]
    frames = run(_session(ex.ws_url, req, 1))
    f = frames[0]
    assert f["ty"] == "orderbook" and f["cd"] == "KRW-ETH" and f["st"] == "SNAPSHOT"
    assert {"ap", "bp", "as", "bs"} == set(f["obu"][0])


def test_trade_realtime_only(exchange):
    ex = exchange(price={"update_s": 0.1})
    req = [{"ticket": "t3"}, {"type": "trade", "codes": ["KRW-XRP"], "isOnlyRealtime": True}]
    frames = run(_session(ex.ws_url, req, 2))
    assert all(f["stream_type"] == "REALTIME" and f["type"] == "trade" for f in frames)
    assert {"trade_price", "trade_volume", "ask_bid", "sequential_id"} <= set(frames[0])


def test_request_errors_use_the_documented_names(exchange):
    ex = exchange()
    cases = {
        "not json": "WRONG_FORMAT",
        json.dumps([{"type": "ticker", "codes": ["KRW-BTC"]}]): "NO_TICKET",
        json.dumps([{"ticket": "x"}, {"codes": ["KRW-BTC"]}]): "NO_TYPE",
        json.dumps([{"ticket": "x"}, {"type": "ticker"}]): "NO_CODES",
        json.dumps([{"ticket": "x"}, {"type": "ticker", "codes": []}]): "INVALID_PARAM",
        json.dumps([{"ticket": "x"}, {"type": "candle", "codes": ["KRW-BTC"]}]): "INVALID_PARAM",
    }

    async def go():
        names = {}
        async with aiohttp.ClientSession() as s, s.ws_connect(ex.ws_url) as ws:
            for text, _ in cases.items():
                await ws.send_str(text)
                msg = await asyncio.wait_for(ws.receive(), 3)
                names[text] = json.loads(msg.data)["error"]["name"]
        return names

    assert run(go()) == cases


def test_connection_cap_refuses_the_upgrade_with_503(exchange):
    ex = exchange(max_ws_connections=1)

    async def go():
        async with aiohttp.ClientSession() as s, s.ws_connect(ex.ws_url):
            try:
                async with s.ws_connect(ex.ws_url):
                    return None
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert run(go()) == 503
