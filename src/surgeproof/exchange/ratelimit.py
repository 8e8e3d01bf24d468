"""Per-second rate limits per (group, identity), the ``Remaining-Req`` header, and 418 blocks.

Upbit counts requests per group per second; a client that keeps sending after 429s gets 418
and a block that grows with each repeat offence.
"""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.exchange.errors import ApiError

#: Upbit still sends the deprecated per-minute field; it is a fixed value.
_MIN_FIELD = 1800


@dataclass
class _Window:
    second: int
    count: int


@dataclass
class _Offender:
    strikes: list[float]
    blocked_until: float = 0.0
    blocks: int = 0


class RateLimiter:
    """Counts requests per (group, identity) in the current whole second."""

    def __init__(
        self, limits: dict[str, int], enabled: bool, block_after: int, block_s: float
    ) -> None:
        self.limits = limits
        self.enabled = enabled
        self.block_after = block_after
        self.block_s = block_s
        self._windows: dict[tuple[str, str], _Window] = {}
        self._offenders: dict[str, _Offender] = {}
        # With limits off the header is constant per group: render it once.
        self._full = {g: f"group={g}; min={_MIN_FIELD}; sec={n}" for g, n in limits.items()}

    def header(self, group: str, remaining: int) -> str:
        return f"group={group}; min={_MIN_FIELD}; sec={remaining}"

    def check(self, group: str, identity: str, now: float) -> str:
        """Count one request; return the Remaining-Req value or raise 429/418 ApiError."""
        limit = self.limits.get(group)
        if not self.enabled or limit is None:
            return self._full.get(group) or self.header(group, 0)
        offender = self._offenders.get(identity)
        if offender is not None and offender.blocked_until > now:
            left = offender.blocked_until - now
            raise ApiError(
                418,
                "too_many_requests_blocked",
                f"Blocked for {left:.0f}s after repeated requests over the limit",
                {
                    "Retry-After": str(max(int(left + 0.999), 1)),
                    "Remaining-Req": self.header(group, 0),
                },
            )
        second = int(now)
        key = (group, identity)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(second, 0)
        elif window.second != second:
            window.second, window.count = second, 0
        if window.count >= limit:
            self._strike(identity, now)
            raise ApiError(
                429,
                "too_many_requests",
                "Too many API requests.",
                {"Remaining-Req": self.header(group, 0), "Retry-After": "1"},
            )
        window.count += 1
        return self.header(group, limit - window.count)

    def peek(self, group: str, identity: str, now: float) -> str:
        """The Remaining-Req value without counting a request (for errors before the count)."""
        limit = self.limits.get(group)
        if not self.enabled or limit is None:
            return self._full.get(group) or self.header(group, 0)
        window = self._windows.get((group, identity))
        used = window.count if window is not None and window.second == int(now) else 0
        return self.header(group, max(limit - used, 0))

    def _strike(self, identity: str, now: float) -> None:
        offender = self._offenders.get(identity)
        if offender is None:
            offender = self._offenders[identity] = _Offender([])
        strikes = [t for t in offender.strikes if now - t < 10.0]
        strikes.append(now)
        offender.strikes = strikes
        if len(strikes) >= self.block_after:
            # The block doubles with each repeat offence, as Upbit says it grows.
            offender.blocked_until = now + self.block_s * (2 ** min(offender.blocks, 5))
            offender.blocks += 1
            offender.strikes = []

    def forget_idle(self, before_second: int) -> None:
        """Drop windows of identities that sent nothing since ``before_second``."""
        for key in [k for k, w in self._windows.items() if w.second < before_second]:
            del self._windows[key]
