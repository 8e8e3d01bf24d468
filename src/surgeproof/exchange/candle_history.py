"""Minute candles before the exchange started, generated from its own price process.

A live exchange answers ``/v1/candles/minutes/1?count=200`` with 200 candles from the first
second; clients (charts, bots) that read history at start-up would otherwise see one candle.
The walk uses the configured volatility, ends exactly at the start price (so the first live
trade continues the chart), and its volume is what the tape trader would have printed.
"""

from __future__ import annotations

import math
import random

from surgeproof.exchange.config import MarketMaker, PriceProcess
from surgeproof.exchange.marketdata import Candle
from surgeproof.exchange.money import UNIT, round_to_tick

#: Sub-steps per minute: each candle's high and low come from a walk inside the minute.
STEPS_PER_MINUTE = 6


def seed_candles(
    start_units: int,
    minutes: int,
    now: float,
    price: PriceProcess,
    maker: MarketMaker,
    rng: random.Random,
) -> list[Candle]:
    """``minutes`` whole 1-minute candles ending just before the minute of ``now``, oldest first."""
    if minutes <= 0:
        return []
    dt = 60.0 / STEPS_PER_MINUTE
    sigma = price.volatility_per_s * math.sqrt(dt)
    drift = price.drift_per_s * dt
    # Forward walk of log prices, then shifted so that the last close is the start price.
    path = [0.0]
    for _ in range(minutes * STEPS_PER_MINUTE):
        path.append(path[-1] + drift + sigma * rng.gauss(0.0, 1.0))
    shift = math.log(start_units) - path[-1]
    # Volume: the tape trader's notional per price step, with +-50% noise.
    steps_per_minute = 60.0 / max(price.update_s, 0.05)
    first_minute = int(now // 60) - minutes
    candles: list[Candle] = []
    for m in range(minutes):
        seg = path[m * STEPS_PER_MINUTE : (m + 1) * STEPS_PER_MINUTE + 1]
        prices = [_tick(math.exp(x + shift)) for x in seg]
        close = start_units if m == minutes - 1 else prices[-1]
        acc_price = int(maker.tape_krw * steps_per_minute * rng.uniform(0.5, 1.5)) * UNIT
        mid = (prices[0] + close) // 2
        acc_volume = acc_price * UNIT // mid if mid else 0
        minute = first_minute + m
        candles.append(
            Candle(
                minute=minute,
                open=prices[0],
                high=max(*prices, close),
                low=min(*prices, close),
                close=close,
                acc_price=acc_price,
                acc_volume=acc_volume,
                last_ts=minute * 60 + rng.uniform(50.0, 59.9),
            )
        )
    return candles


def _tick(price_krw_units: float) -> int:
    return round_to_tick(max(int(price_krw_units), 1), down=True)
