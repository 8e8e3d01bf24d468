"""Which outcomes count against the target: a call left unsent because the target had not
answered its user's earlier calls ('backlogged') is the target's failure, not the generator's."""

import numpy as np

from surgeproof.analysis import judge_level
from surgeproof.analysis.causes import (
    ANSWERED,
    CAPACITY_ERRORS,
    cause_counts,
    has_latency,
    is_answered,
    is_capacity_error,
)
from surgeproof.rundir import RECORD_DTYPE, Outcome
from surgeproof.rundir.writer import RecordFile, write_meta
from surgeproof.scenario.model import Slo

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def _level_with_backlog(tmp_path, ok: int, backlogged: int):
    """A 10-s window: ``ok`` calls sent on time and answered in 20 ms, ``backlogged`` never sent."""
    n = ok + backlogged
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = T0 + np.linspace(0, 10 * NS, n, endpoint=False).astype(np.int64)
    rec["concurrency"] = 50
    rec["user"] = np.arange(n) % 50
    sent = np.arange(n) < ok
    rec["sent_ns"] = np.where(sent, rec["intended_ns"], 0)
    rec["end_ns"] = np.where(sent, rec["intended_ns"] + 20_000_000, 0)
    rec["status"] = np.where(sent, 200, 0)
    rec["outcome"] = np.where(sent, Outcome.OK, Outcome.BACKLOGGED)
    f = RecordFile(tmp_path, "local")
    f.add_names({0: ("GET /v1/ticker", "quotation")})
    f.append(rec)
    f.close()
    write_meta(tmp_path, {"run_id": "r", "status": "complete", "t0_ns": T0, "load_model": "open"})
    return tmp_path


def test_backlogged_calls_count_against_the_target_and_have_no_latency():
    out = np.array([Outcome.OK, Outcome.BACKLOGGED, Outcome.MISSED, Outcome.TIMEOUT], np.uint8)
    assert is_capacity_error(out).tolist() == [False, True, False, True]
    assert has_latency(out).tolist() == [True, False, False, True]
    assert cause_counts(out)["backlogged"] == 1


def test_a_backlogged_level_fails_on_the_target_and_does_not_blame_the_generator(tmp_path):
    run = _level_with_backlog(tmp_path, ok=400, backlogged=40)
    slos = [Slo("*", "error_ratio", 0.01), Slo("*", "p99", 500.0)]

    v = judge_level(run, T0, T0 + 10 * NS, slos, target_users=50)

    assert v.verdict == "fail"
    assert not v.generator.bound
    assert v.groups["quotation"].errors["backlogged"] == 40
    assert v.groups["quotation"].error_ratio == 40 / 440
    # Latency percentiles come from the calls that were sent: the unsent ones have no latency.
    assert v.groups["quotation"].latency_ms["max"] == 20.0
    assert any("error_ratio" in r for r in v.reasons)


def test_each_mask_is_membership_of_its_outcomes_for_every_byte():
    codes = np.arange(256, dtype=np.uint8)
    unsent = [Outcome.MISSED, Outcome.CANCELLED, Outcome.BACKLOGGED, Outcome.INVALID_REQUEST]
    assert has_latency(codes).tolist() == (~np.isin(codes, unsent)).tolist()
    assert is_answered(codes).tolist() == np.isin(codes, ANSWERED).tolist()
    assert is_capacity_error(codes).tolist() == np.isin(codes, CAPACITY_ERRORS).tolist()
