"""Outcomes: what became of a call, and whose failure a call that could not go out was."""

from __future__ import annotations

from surgeproof.load.outcome import unsent_outcome
from surgeproof.rundir.schema import Outcome


def test_a_due_call_with_its_users_calls_all_out_blames_who_holds_them():
    assert unsent_outcome(inflight=3, queued=0, limit=4) is None
    assert unsent_outcome(inflight=4, queued=0, limit=4) == Outcome.BACKLOGGED  # the target's
    assert unsent_outcome(inflight=1, queued=3, limit=4) == Outcome.MISSED  # the generator's
    assert unsent_outcome(inflight=4, queued=2, limit=4) == Outcome.BACKLOGGED
