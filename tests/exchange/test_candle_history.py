"""Candle history: the candles endpoint answers with history from the first second."""

import itertools
import random
from datetime import datetime

import aiohttp
from upbit_client import run

from surgeproof.exchange.candle_history import seed_candles
from surgeproof.exchange.config import MarketMaker, PriceProcess
from surgeproof.exchange.money import UNIT


def test_history_ends_at_the_start_price_in_whole_consecutive_minutes():
    now = 1_733_232_180.0  # 3 Dec 2024 13:23 UTC (22:23 KST)
    start = 131_000_000 * UNIT
    candles = seed_candles(start, 200, now, PriceProcess(), MarketMaker(), random.Random(7))
    assert len(candles) == 200
    assert [c.minute for c in candles] == list(range(int(now // 60) - 200, int(now // 60)))
    assert candles[-1].close == start
    for prev, c in itertools.pairwise(candles):
        assert c.open == prev.close  # one continuous walk
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    assert all(
        c.acc_volume > 0 and c.minute * 60 <= c.last_ts < c.minute * 60 + 60 for c in candles
    )
    again = seed_candles(start, 200, now, PriceProcess(), MarketMaker(), random.Random(7))
    assert [c.close for c in again] == [c.close for c in candles]  # seeded, reproducible
    assert seed_candles(start, 0, now, PriceProcess(), MarketMaker(), random.Random(7)) == []


def test_candles_endpoint_answers_200_minutes_from_the_start(exchange):
    ex = exchange(price={"update_s": 30})  # no live trade during the test

    async def go():
        async with aiohttp.ClientSession() as s:
            out = {}
            for unit in (1, 60):
                async with s.get(
                    f"{ex.url}/v1/candles/minutes/{unit}?market=KRW-BTC&count=200"
                ) as r:
                    out[unit] = (r.status, await r.json())
            return out

    out = run(go())
    status, ones = out[1]
    assert status == 200 and len(ones) == 200
    times = [datetime.fromisoformat(c["candle_date_time_utc"]).timestamp() for c in ones]
    assert all(a - b == 60 for a, b in itertools.pairwise(times))  # newest first
    assert all(c["candle_acc_trade_volume"] > 0 and c["unit"] == 1 for c in ones)
    status, hours = out[60]
    assert status == 200 and 4 <= len(hours) <= 5  # 200 minutes in hour buckets
    newest_hour = hours[0]["candle_date_time_utc"][:13]
    in_hour = [c for c in ones if c["candle_date_time_utc"][:13] == newest_hour]
    assert hours[0]["high_price"] == max(c["high_price"] for c in in_hour)
    assert hours[0]["trade_price"] == in_hour[0]["trade_price"]  # close of the newest minute


def test_history_can_be_turned_off(exchange):
    ex = exchange(candle_history_minutes=0, price={"update_s": 30})

    async def go():
        async with (
            aiohttp.ClientSession() as s,
            s.get(f"{ex.url}/v1/candles/minutes/1?market=KRW-BTC&count=200") as r,
        ):
            return await r.json()

    assert len(run(go())) <= 1  # at most the live minute
