"""Rate limits per (group, identity) in fixed windows, the remaining-requests header, and blocks.

Upbit counts requests per group per second; a client that keeps sending after 429s gets 418
and a block that grows with each repeat offence. Other dialects count per minute (Coinone's
public API) or block at the first excess; the ``LimitStyle`` of the dialect says which, and how
its remaining-requests header looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from surgeproof.exchange.errors import ApiError

#: Upbit still sends the deprecated per-minute field; it is a fixed value.
_MIN_FIELD = 1800


def upbit_header(group: str, remaining: int) -> str:
    """``Remaining-Req: group=<g>; min=1800; sec=<n>`` as Upbit sends it."""
    return f"group={group}; min={_MIN_FIELD}; sec={remaining}"


@dataclass(frozen=True)
class LimitStyle:
    """How a dialect counts, answers and announces its limits."""

    header: str | None = "Remaining-Req"  # None: the dialect sends no such header
    render: Callable[[str, int], str] = upbit_header
    windows: dict[str, float] = field(default_factory=dict)  # group -> seconds (default 1)
    #: None: 429s within 10 s lead to 418 blocks (config block_after_429s / block_s, doubling).
    #: A number: the first request over the limit blocks the identity for that many seconds.
    block_on_excess_s: float | None = None


UPBIT_STYLE = LimitStyle()


@dataclass
class _Window:
    index: int
    count: int


@dataclass
class _Offender:
    strikes: list[float]
    blocked_until: float = 0.0
    blocks: int = 0


class RateLimiter:
    """Counts requests per (group, identity) in the current window of each group."""

    def __init__(
        self,
        limits: dict[str, int],
        enabled: bool,
        block_after: int,
        block_s: float,
        style: LimitStyle = UPBIT_STYLE,
    ) -> None:
        self.limits = limits
        self.enabled = enabled
        self.block_after = block_after
        self.block_s = block_s
        self.style = style
        self._windows: dict[tuple[str, str], _Window] = {}
        self._offenders: dict[str, _Offender] = {}
        # With limits off the header is constant per group: render it once.
        self._full = {g: style.render(g, n) for g, n in limits.items()}

    def header(self, group: str, remaining: int) -> str:
        return self.style.render(group, remaining)

    def _headers(self, group: str, extra: dict[str, str]) -> dict[str, str]:
        if self.style.header is not None:
            extra[self.style.header] = self.header(group, 0)
        return extra

    def check(self, group: str, identity: str, now: float) -> str:
        """Count one request; return the header value or raise 429/418 ApiError."""
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
                self._headers(group, {"Retry-After": str(max(int(left + 0.999), 1))}),
            )
        span = self.style.windows.get(group, 1.0)
        index = int(now // span)
        key = (group, identity)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(index, 0)
        elif window.index != index:
            window.index, window.count = index, 0
        if window.count >= limit:
            retry = self._strike(identity, now)
            raise ApiError(
                429,
                "too_many_requests",
                "Too many API requests.",
                self._headers(group, {"Retry-After": str(max(int(retry + 0.999), 1))}),
            )
        window.count += 1
        return self.header(group, limit - window.count)

    def peek(self, group: str, identity: str, now: float) -> str:
        """The header value without counting a request (for errors before the count)."""
        limit = self.limits.get(group)
        if not self.enabled or limit is None:
            return self._full.get(group) or self.header(group, 0)
        window = self._windows.get((group, identity))
        index = int(now // self.style.windows.get(group, 1.0))
        used = window.count if window is not None and window.index == index else 0
        return self.header(group, max(limit - used, 0))

    def _strike(self, identity: str, now: float) -> float:
        """Book one request over the limit; seconds until the identity may send again."""
        offender = self._offenders.get(identity)
        if offender is None:
            offender = self._offenders[identity] = _Offender([])
        fixed = self.style.block_on_excess_s
        if fixed is not None:
            offender.blocked_until = now + fixed
            return fixed
        strikes = [t for t in offender.strikes if now - t < 10.0]
        strikes.append(now)
        offender.strikes = strikes
        if len(strikes) >= self.block_after:
            # The block doubles with each repeat offence, as Upbit says it grows.
            offender.blocked_until = now + self.block_s * (2 ** min(offender.blocks, 5))
            offender.blocks += 1
            offender.strikes = []
        return 1.0 - (now % 1.0)

    def forget_idle(self, before_second: int) -> None:
        """Drop windows that ended before ``before_second`` and blocks already over."""
        for key in [
            k
            for k, w in self._windows.items()
            if (w.index + 1) * self.style.windows.get(k[0], 1.0) < before_second
        ]:
            del self._windows[key]
        if len(self._offenders) > 10_000:
            stale = [
                i
                for i, o in self._offenders.items()
                if o.blocked_until < before_second and not o.strikes
            ]
            for identity in stale:
                del self._offenders[identity]
