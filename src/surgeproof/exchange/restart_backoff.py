"""How long the core waits before replacing a dead gateway: a crash loop backs off, a gateway
that had been running for a while comes back at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RestartBackoff:
    """The first delay, doubled per quick death after a restart, capped; reset by a long life."""

    first_s: float = 0.5
    max_s: float = 10.0
    #: A replacement that lived at least this long was healthy: its death is not a crash loop.
    stable_s: float = 30.0


#: 0.5 s doubling to 10 s; reset by 30 s of life.
DEFAULT_BACKOFF = RestartBackoff()


def restart_delay(lives_s: Sequence[float], backoff: RestartBackoff = DEFAULT_BACKOFF) -> float:
    """The wait before the next restart, from how long each process of the gateway lived.

    ``lives_s`` is oldest first: the original process, then each replacement, the last being
    the one that just died. Every replacement at the end that died within ``stable_s`` doubles
    the delay; the original process's life never counts (it was not a restart).
    """
    quick = 0
    for life in reversed(lives_s[1:]):
        if life >= backoff.stable_s:
            break
        quick += 1
    # Cap the exponent: 2**1100 quick deaths (hours of crash loop) would not fit a float.
    return min(backoff.first_s * 2 ** min(quick, 64), backoff.max_s)
