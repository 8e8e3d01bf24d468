"""Quotation endpoints answer with Upbit's field names and error shapes."""

import aiohttp
from upbit_client import run

TICKER_FIELDS = {
    "market",
    "trade_date",
    "trade_time",
    "trade_timestamp",
    "opening_price",
    "high_price",
    "low_price",
    "trade_price",
    "prev_closing_price",
    "change",
    "change_price",
    "change_rate",
    "signed_change_price",
    "signed_change_rate",
    "trade_volume",
    "acc_trade_price",
    "acc_trade_price_24h",
    "acc_trade_volume",
    "acc_trade_volume_24h",
    "highest_52_week_price",
    "lowest_52_week_price",
    "timestamp",
}


async def _get(url: str):
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, r.headers, await r.json(content_type=None)


def test_market_all_lists_the_three_krw_markets(exchange):
    ex = exchange()
    status, headers, body = run(_get(f"{ex.url}/v1/market/all?isDetails=true"))
    assert status == 200
    assert {m["market"] for m in body} >= {"KRW-BTC", "KRW-ETH", "KRW-XRP"}
    assert {"korean_name", "english_name", "market_warning"} <= set(body[0])
    assert headers["Remaining-Req"].startswith("group=market; min=")


def test_ticker_has_upbit_fields_and_remaining_req(exchange):
    ex = exchange()
    status, headers, body = run(_get(f"{ex.url}/v1/ticker?markets=KRW-BTC,KRW-XRP"))
    assert status == 200
    assert [t["market"] for t in body] == ["KRW-BTC", "KRW-XRP"]
    assert set(body[0]) >= TICKER_FIELDS
    assert body[0]["change"] in ("RISE", "EVEN", "FALL")
    assert headers["Remaining-Req"] == "group=ticker; min=1800; sec=9"


def test_orderbook_units_are_sorted_best_first(exchange):
    ex = exchange()
    status, _, body = run(_get(f"{ex.url}/v1/orderbook?markets=KRW-BTC"))
    assert status == 200
    ob = body[0]
    assert {"market", "timestamp", "total_ask_size", "total_bid_size", "orderbook_units"} <= set(ob)
    units = ob["orderbook_units"]
    assert len(units) == 15
    asks = [u["ask_price"] for u in units]
    bids = [u["bid_price"] for u in units]
    assert asks == sorted(asks) and bids == sorted(bids, reverse=True)
    assert bids[0] < asks[0]
    assert asks[1] - asks[0] == 1000  # Upbit tick for prices >= 2,000,000 KRW


def test_trades_and_candles_follow_the_tape(exchange):
    ex = exchange(price={"update_s": 0.1})

    async def go():
        import asyncio

        await asyncio.sleep(0.6)  # a few tape trades
        t = await _get(f"{ex.url}/v1/trades/ticks?market=KRW-ETH&count=3")
        c = await _get(f"{ex.url}/v1/candles/minutes/1?market=KRW-ETH&count=2")
        return t, c

    (ts, _, trades), (cs, _, candles) = run(go())
    assert ts == 200 and 1 <= len(trades) <= 3
    assert {
        "trade_date_utc",
        "trade_time_utc",
        "trade_price",
        "trade_volume",
        "ask_bid",
        "sequential_id",
        "prev_closing_price",
        "change_price",
    } <= set(trades[0])
    assert trades[0]["timestamp"] >= trades[-1]["timestamp"]
    assert cs == 200 and candles
    assert {
        "candle_date_time_utc",
        "candle_date_time_kst",
        "opening_price",
        "high_price",
        "low_price",
        "trade_price",
        "candle_acc_trade_volume",
        "unit",
    } <= set(candles[0])
    assert candles[0]["low_price"] <= candles[0]["trade_price"] <= candles[0]["high_price"]


def test_unknown_market_and_bad_params_are_4xx_error_json(exchange):
    ex = exchange()

    async def go():
        return [
            await _get(f"{ex.url}/v1/ticker?markets=KRW-NOPE"),
            await _get(f"{ex.url}/v1/ticker"),
            await _get(f"{ex.url}/v1/candles/minutes/7?market=KRW-BTC"),
            await _get(f"{ex.url}/v1/trades/ticks?market=KRW-BTC&count=9999"),
            await _get(f"{ex.url}/v1/no/such/thing"),
        ]

    results = run(go())
    assert [s for s, _, _ in results] == [404, 400, 400, 400, 404]
    for _, headers, body in results:
        assert set(body["error"]) == {"name", "message"}
        assert "Remaining-Req" in headers
    assert results[1][2]["error"]["name"] == "validation_error"
