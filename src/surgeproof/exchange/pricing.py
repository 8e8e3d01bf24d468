"""The reference price of each market: a seeded random walk plus scripted shocks (a crash)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from surgeproof.exchange.config import PriceProcess
from surgeproof.exchange.money import UNIT


@dataclass
class Leg:
    """Multiply the price by ``factor`` spread evenly over [start, end)."""

    start: float
    end: float
    factor: float


@dataclass
class ReferencePrice:
    """One market's reference price (KRW as float; converted to units when quoting)."""

    price: float
    legs: list[Leg] = field(default_factory=list)

    def units(self) -> int:
        return max(int(self.price * UNIT), 1)


class PriceModel:
    """Moves every market's reference price once per ``update_s``."""

    def __init__(self, spec: PriceProcess, start: dict[str, float], seed: int) -> None:
        self.spec = spec
        self.refs = {m: ReferencePrice(p) for m, p in start.items()}
        self._rng = random.Random(seed ^ 0x5EED)

    def shock(
        self, market: str, shock: float, over_s: float, now: float, recover_s: float = 0.0
    ) -> tuple[float, float]:
        """Schedule a move by ``shock`` (e.g. -0.33) over ``over_s``; optionally recover after."""
        ref = self.refs[market]
        over_s = max(over_s, 1e-3)
        ref.legs.append(Leg(now, now + over_s, 1.0 + shock))
        end = now + over_s
        if recover_s > 0:
            ref.legs.append(Leg(end, end + recover_s, 1.0 / (1.0 + shock)))
            end += recover_s
        return now, end

    def step(self, now: float, dt: float) -> None:
        """Advance every reference price by ``dt`` seconds ending at ``now``."""
        spec = self.spec
        for ref in self.refs.values():
            drift = spec.drift_per_s * dt
            noise = spec.volatility_per_s * math.sqrt(dt) * self._rng.gauss(0.0, 1.0)
            factor = math.exp(drift + noise)
            t0 = now - dt
            for leg in ref.legs:
                overlap = min(now, leg.end) - max(t0, leg.start)
                if overlap > 0:
                    factor *= leg.factor ** (overlap / (leg.end - leg.start))
            ref.legs = [leg for leg in ref.legs if leg.end > now]
            ref.price = max(ref.price * factor, 1e-4)
