"""judge_level: a steady-state window passes, fails (with which SLO on which group) or is
inconclusive when the generator, not the target, was the bottleneck."""

import shutil

import numpy as np
import pytest
from synthetic import NS, Level, QueueModel, queue_run

from surgeproof.analysis import judge_level
from surgeproof.analysis.scan import RecordScan
from surgeproof.rundir.writer import JsonlLog, write_meta
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
MODEL = QueueModel(workers=4, service_s=0.025, rate_per_user=2.0)  # ceiling: 80 users


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    levels = [Level(40), Level(75), Level(90), Level(120), Level(60, generator_bound=True)]
    return queue_run(tmp_path_factory.mktemp("run"), MODEL, levels)


def _judge(run, i, slos=SLOS):
    users, start, end = run.levels[i]
    return judge_level(run.path, start, end, slos, target_users=users, label=f"L{i}")


def test_level_below_the_ceiling_passes_with_the_offered_and_achieved_numbers(run):
    v = _judge(run, 0)
    assert v.verdict == "pass"
    assert v.offered_users == 40
    assert v.achieved_rps == pytest.approx(80, rel=0.02)
    assert v.groups["quotation"].latency_ms["p50"] == pytest.approx(25.2, abs=0.01)
    assert v.groups["*"].count == v.records


def test_level_above_the_ceiling_fails_naming_the_slo_group_and_value(run):
    v = _judge(run, 2)
    assert v.verdict == "fail"
    assert v.breaches, v.reasons
    first = v.breaches[0]
    assert first.metric == "p99" and first.value > 500
    assert first.group in {"login", "quotation", "orders"}
    assert any(f"{first.group} p99" in r and "> 500 ms" in r for r in v.reasons)


def test_throughput_held_flat_while_offered_rises_is_target_saturation(run):
    v = _judge(run, 3, slos=[Slo("*", "error_ratio", 0.5)])  # latency is not judged at all
    assert v.verdict == "fail"
    assert v.saturated
    assert v.achieved_rps == pytest.approx(MODEL.capacity_rps, rel=0.02)
    assert any("target saturated" in r for r in v.reasons)


def test_generator_bound_level_is_inconclusive_never_pass_or_fail(run):
    v = _judge(run, 4)
    assert v.verdict == "inconclusive"
    assert v.generator.bound
    assert any("generator-bound" in r for r in v.reasons)
    assert any("generator CPU saturated" in r for r in v.reasons)
    assert any("bottleneck" in r for r in v.reasons)


def test_an_slo_on_a_group_without_traffic_is_unjudged_not_passed(run):
    v = _judge(run, 0, slos=[Slo("websocket", "p99", 100.0)])
    assert v.verdict == "inconclusive"
    assert "websocket" in v.unjudged[0]


def test_window_a_running_run_has_not_flushed_yet_is_inconclusive(tmp_path):
    path = tmp_path / "running"
    r = queue_run(path, MODEL, [Level(40)], status="running")
    _, start, end = r.levels[0]
    later = judge_level(path, end + 5 * NS, end + 15 * NS, SLOS)
    assert later.verdict == "inconclusive"
    log = JsonlLog(path / "timeline.jsonl")
    log.append({"t_ns": end - 3 * NS, "source": "local", "cpu_percent": 20.0})
    log.close()
    write_meta(path, {"status": "running", "t0_ns": start})
    v = judge_level(path, start, end + 2 * NS, SLOS)
    assert v.verdict == "inconclusive"
    assert any("not yet flushed" in r for r in v.reasons)
    # Records still to come from a source: the window is short of it (a search holds it again).
    assert v.short_of == ["local"]


def test_level_dict_carries_every_documented_field(run):
    d = _judge(run, 1).to_dict()
    for key in (
        "label",
        "offered_users",
        "offered_rps",
        "achieved_rps",
        "verdict",
        "reasons",
        "breaches",
        "groups",
        "generator",
        "saturated",
        "unjudged",
    ):
        assert key in d
    lat = d["groups"]["orders"]["latency_ms"]
    assert set(lat) == {"p50", "p90", "p95", "p99", "p99.9", "max"}
    assert np.isfinite(lat["p99.9"])


# -- the live judge reads only the level's window, and says what the analysis says --------------

#: Blocks of 256 records in these tests, so that a window spans a few of a run's many blocks.
BLOCK = 256


def _damaged_step_run(path):
    """A two-source step run through the ceiling, one level generator-bound, with a record that
    cannot be true (stamped 1970) and a record cut off mid-write in one source."""
    levels = [Level(30), Level(50), Level(70), Level(90), Level(60, generator_bound=True)]
    run = queue_run(path, MODEL, levels, sources=2)
    with open(path / "records" / "worker-1.bin", "ab") as fh:
        fh.write(bytes(40) + b"\x01" * 17)
    return run


def test_judge_level_gives_each_level_exactly_what_the_analysis_gives_it(tmp_path):
    from surgeproof.analysis.levels import RunIndex
    from surgeproof.analysis.run import analyze_run

    run = _damaged_step_run(tmp_path / "r")
    analysis = analyze_run(run.path, slos=SLOS)
    assert analysis["data_quality"]["damage"]
    levels = analysis["levels"]
    assert [lv["verdict"] for lv in levels] == ["pass", "pass", "pass", "fail", "inconclusive"]
    t0 = analysis["input"]["t0_ns"]

    def judge(i, index, earlier):
        users, start, end = run.levels[i]
        return judge_level(
            run.path, start, end, SLOS, target_users=users, label=f"level-{i + 1}",
            earlier=earlier, index=index,
        )  # fmt: skip

    # As the step search judges: in order, one index kept between levels, earlier levels only.
    index = RunIndex(block=BLOCK)
    judged = []
    for i in range(len(levels)):
        v = judge(i, index, tuple(judged))
        judged.append(v)
        assert (v.verdict, v.reasons) == (levels[i]["verdict"], levels[i]["reasons"]), i
    # With the same references as the whole analysis (every level): every number is the same.
    for i in range(len(levels)):
        v = judge(i, RunIndex(block=BLOCK), [w for j, w in enumerate(judged) if j != i])
        assert v.to_dict(t0) == levels[i]
    # ... although each level read only the blocks that can touch its window: the records
    # intended then, those written among them (calls end up to the 5-s timeout late) and the
    # rest of the blocks at either edge, per source.
    intended = run.records["intended_ns"]
    for _, start, end in run.levels:
        read = RecordScan.of_sources(index.sources).restricted((start, end)).blocks
        near = (intended >= start - 6 * NS) & (intended < end + 6 * NS)
        assert sum(b.hi - b.lo for b in read) <= near.sum() + 4 * BLOCK < 0.6 * len(intended)


def test_the_live_index_reads_only_what_was_appended_since_the_last_level(tmp_path, monkeypatch):
    from surgeproof.analysis.levels import RunIndex
    from surgeproof.rundir import reader

    whole = _damaged_step_run(tmp_path / "whole")
    growing = tmp_path / "growing"
    shutil.copytree(whole.path, growing)
    files = sorted((growing / "records").glob("*.bin"))
    full = {f: f.read_bytes() for f in files}
    for f in files:  # the run as it was after its second level
        f.write_bytes(full[f][: len(full[f]) * 2 // 5])
    checked = []

    def counting(chunk, span):
        checked.append(len(chunk))
        return valid(chunk, span)

    valid = reader.valid_records
    monkeypatch.setattr(reader, "valid_records", counting)
    index = RunIndex(block=BLOCK)
    _, start, end = whole.levels[1]
    first = judge_level(growing, start, end, SLOS, target_users=50, label="L1", index=index)
    assert sum(checked) == sum(len(full[f][: len(full[f]) * 2 // 5]) // 40 for f in files)
    for f in files:
        f.write_bytes(full[f])
    checked.clear()
    users, start, end = whole.levels[3]
    later = judge_level(growing, start, end, SLOS, target_users=users, label="L3", index=index)
    appended = sum((len(full[f]) - len(full[f]) * 2 // 5) // 40 for f in files)
    assert appended <= sum(checked) <= appended + 2 * BLOCK  # each source's last part-block again
    fresh = judge_level(whole.path, start, end, SLOS, target_users=users, label="L3")
    assert later.to_dict() == fresh.to_dict()
    assert first.verdict == "pass" and later.verdict == "fail"
