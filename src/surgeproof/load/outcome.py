"""Classify what came back (an HTTP status or an exception) into a record's outcome code."""

from __future__ import annotations

import socket

from surgeproof.rundir.schema import Outcome


def outcome_of_status(status: int) -> Outcome:
    """Outcome of a call that got an HTTP answer."""
    if status == 429:
        return Outcome.RATE_LIMITED
    if status == 418:
        return Outcome.BLOCKED
    if status >= 500:
        return Outcome.SERVER_ERROR
    if status >= 400:
        return Outcome.CLIENT_ERROR
    if status <= 0:
        return Outcome.CONNECTION_ERROR
    return Outcome.OK


#: A dialect's reading of a failed answer → the record's outcome.
_KIND_OUTCOMES = {
    "client_error": Outcome.CLIENT_ERROR,
    "session_expired": Outcome.CLIENT_ERROR,
    "rate_limited": Outcome.RATE_LIMITED,
    "blocked": Outcome.BLOCKED,
    "server_error": Outcome.SERVER_ERROR,
}


def outcome_of_kind(kind: str) -> Outcome:
    """Outcome of an answer its dialect read as failed (``surgeproof.dialect.answer``)."""
    return _KIND_OUTCOMES[kind]


def outcome_of_error(exc: BaseException | None) -> Outcome:
    """Outcome of a call that got no HTTP answer: a timeout or a connection failure."""
    if exc is None:
        return Outcome.CONNECTION_ERROR
    if isinstance(exc, TimeoutError | socket.timeout):
        return Outcome.TIMEOUT
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return Outcome.TIMEOUT
    return Outcome.CONNECTION_ERROR


def unsent_outcome(inflight: int, queued: int, limit: int) -> Outcome | None:
    """Why a due call cannot go out (None: it can): its user's ``limit`` calls are all out.

    When the target has not answered the ones sent, the target is behind (``backlogged``,
    against the target); when some still wait for the generator to send them, the generator is
    (``missed``, against the generator), which keeps a saturated generator from passing its own
    backlog off as the target's.
    """
    if inflight + queued < limit:
        return None
    return Outcome.BACKLOGGED if inflight >= limit else Outcome.MISSED
