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


def is_capacity_error(outcome: np.ndarray) -> np.ndarray:
    """Mask of outcomes counted in ``error_ratio``."""
    return np.isin(outcome, np.array(CAPACITY_ERRORS, dtype=np.uint8))


#: Lookup tables by outcome code (u1): one gather per chunk instead of a set-membership test.
_ANSWERED = np.zeros(256, dtype=bool)
_ANSWERED[list(ANSWERED)] = True
_SENT = np.ones(256, dtype=bool)
_SENT[list(UNSENT)] = False


def is_answered(outcome: np.ndarray) -> np.ndarray:
    """Mask of outcomes that carried a response from the target."""
    return _ANSWERED[np.asarray(outcome, dtype=np.uint8)]


def has_latency(outcome: np.ndarray) -> np.ndarray:
    """Mask of outcomes that were sent, so that their latency is defined."""
    return _SENT[np.asarray(outcome, dtype=np.uint8)]


def cause_counts(outcome: np.ndarray) -> dict[str, int]:
    """Count of each error cause among ``outcome``."""
    tally = np.bincount(outcome, minlength=len(Outcome))
    return {name: int(tally[code]) for name, code in _CAUSE_OUTCOME.items()}
