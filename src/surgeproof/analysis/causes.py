"""Why a request did not succeed: error causes, and which of them count against capacity."""

from __future__ import annotations

import numpy as np

from surgeproof.rundir.schema import Outcome

#: Error causes reported per group/window, in report order.
CAUSES: tuple[str, ...] = (
    "client_error",
    "rate_limited",
    "blocked",
    "server_error",
    "timeout",
    "connection_error",
    "backlogged",
    "missed",
    "cancelled",
    "invalid_request",
)

#: Outcomes that count against the target in ``error_ratio``. Client errors are refusals on the
#: request's merits (invalid requests too: the dialect refused them before sending); missed and
#: cancelled requests never reached the target through no fault of its own. Backlogged ones
#: never reached it either, but because it had left every earlier call of their user
#: unanswered: an open-model user would have queued them at the target.
CAPACITY_ERRORS = (
    Outcome.RATE_LIMITED,
    Outcome.BLOCKED,
    Outcome.SERVER_ERROR,
    Outcome.TIMEOUT,
    Outcome.CONNECTION_ERROR,
    Outcome.BACKLOGGED,
)

#: Outcomes with no send or end time: they have no latency to take percentiles of.
UNSENT = (Outcome.MISSED, Outcome.CANCELLED, Outcome.BACKLOGGED, Outcome.INVALID_REQUEST)

#: Outcomes after which a response arrived (achieved throughput counts these).
ANSWERED = (
    Outcome.OK,
    Outcome.CLIENT_ERROR,
    Outcome.RATE_LIMITED,
    Outcome.BLOCKED,
    Outcome.SERVER_ERROR,
)

_CAUSE_OUTCOME = {name: Outcome[name.upper()] for name in CAUSES}


class _Codes:
    """Membership of outcome codes (u1) in a set: a set of consecutive codes is one wrapping
    subtraction and one comparison per row (about twice as fast as a table gather, which is
    what any other set costs)."""

    def __init__(self, codes: tuple[Outcome, ...], *, negate: bool = False) -> None:
        self.negate = negate
        self.table = np.zeros(256, dtype=bool)
        self.table[list(codes)] = True
        if negate:
            self.table = ~self.table
        lo, hi = min(codes), max(codes)
        self.run = (np.uint8(lo), hi - lo + 1) if len(set(codes)) == hi - lo + 1 else None

    def __call__(self, outcome: np.ndarray) -> np.ndarray:
        o = np.asarray(outcome, dtype=np.uint8)
        if self.run is None:
            return self.table[o]
        lo, width = self.run
        offset = np.subtract(o, lo, dtype=np.uint8)  # codes below lo wrap round to the top
        return offset >= width if self.negate else offset < width


_capacity = _Codes(CAPACITY_ERRORS)
_answered = _Codes(ANSWERED)
_sent = _Codes(UNSENT, negate=True)


def is_capacity_error(outcome: np.ndarray) -> np.ndarray:
    """Mask of outcomes counted in ``error_ratio``."""
    return _capacity(outcome)


def is_answered(outcome: np.ndarray) -> np.ndarray:
    """Mask of outcomes that carried a response from the target."""
    return _answered(outcome)


def has_latency(outcome: np.ndarray) -> np.ndarray:
    """Mask of outcomes that were sent, so that their latency is defined."""
    return _sent(outcome)


def cause_counts(outcome: np.ndarray) -> dict[str, int]:
    """Count of each error cause among ``outcome``."""
    tally = np.bincount(outcome, minlength=len(Outcome))
    return {name: int(tally[code]) for name, code in _CAUSE_OUTCOME.items()}
