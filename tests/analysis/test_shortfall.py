"""A lost generator worker: the window in which offered load fell short makes every level that
overlaps it inconclusive (it did not offer the load it says), named after the lost worker — in the
full analysis and in the live judgement of a step search alike."""

import json

from faults import add_events, at, lost_worker, set_lost_workers
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis import judge_level
from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
# Capacity 80 users: all three levels hold. Holds: level-1 2-12 s, level-2 15-25 s, 28-38 s.
STEPS = [Level(20), Level(40), Level(60)]


def _verdicts(a):
    return {lv["label"]: lv["verdict"] for lv in a["levels"]}


def test_a_level_overlapping_a_shortfall_window_is_inconclusive_naming_the_worker(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), STEPS)
    set_lost_workers(tmp_path / "r", lost_worker("worker-b7", 18.0, 17.5, 19.2))
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert _verdicts(a) == {"level-1": "pass", "level-2": "inconclusive", "level-3": "pass"}
    level2 = a["levels"][1]
    assert level2["reasons"][0].startswith("offered load fell short: worker worker-b7")
    assert "t=18.0 s" in level2["reasons"][0] and "detected by process exit" in level2["reasons"][0]
    assert level2["reasons"][-1].startswith("not counted: measured pass")
    # The bracket skips it; the generator itself kept its schedule.
    assert a["ceiling"]["last_pass"]["label"] == "level-3"
    assert [i["label"] for i in a["ceiling"]["inconclusive"]] == ["level-2"]
    assert a["generator"]["bottleneck"] is False
    [w] = a["data_quality"]["shortfall_windows"]
    assert w["source"] == "worker-b7" and w["levels"] == ["level-2"]
    assert (w["start_ns"], w["end_ns"]) == (at(17.5), at(19.2))
    assert abs(w["short_s"] - 1.7) < 1e-9 and w["restored"]
    assert any("worker-b7" in c and "lost" in c for c in a["data_quality"]["caveats"])
    assert (
        "worker lost: worker-b7 (process exit): offered load short 1.7 s from t=17.5 s; "
        "inconclusive levels: level-2" in a["summary"]
    )


def test_a_shortfall_between_levels_changes_no_verdict(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), STEPS)
    set_lost_workers(tmp_path / "r", lost_worker("worker-b7", 13.0, 12.2, 14.5))
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert set(_verdicts(a).values()) == {"pass"}
    assert a["data_quality"]["shortfall_windows"][0]["levels"] == []


def test_a_worker_never_restored_leaves_every_later_level_inconclusive(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), STEPS)
    set_lost_workers(tmp_path / "r", lost_worker("worker-b7", 20.0, 19.5, None))
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert _verdicts(a) == {"level-1": "pass", "level-2": "inconclusive", "level-3": "inconclusive"}
    assert "never ran again" in a["levels"][2]["reasons"][0]
    [w] = a["data_quality"]["shortfall_windows"]
    assert w["end_ns"] is None and w["short_s"] is None and not w["restored"]
    assert w["start_ns"] == at(19.5)  # from its last shipped batch
    assert a["ceiling"]["last_pass"]["label"] == "level-1"


def test_without_run_json_entries_the_events_give_the_window(tmp_path):
    # A run whose master died keeps no final run.json, only its events.
    queue_run(tmp_path / "r", QueueModel(), STEPS)
    add_events(
        tmp_path / "r",
        {
            "t_ns": at(30.0),
            "type": "worker_lost",
            "source": "worker-c3",
            "users": 30,
            "detected_by": "heartbeat",
            "last_batch_ns": at(29.6),
        },
        {
            "t_ns": at(31.1),
            "type": "rebalanced",
            "workers": 1,
            "users": 60,
            "short_from_ns": at(29.6),
        },
    )
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert _verdicts(a)["level-3"] == "inconclusive"
    assert "worker worker-c3 holding 30 users" in a["levels"][2]["reasons"][0]
    [w] = a["data_quality"]["shortfall_windows"]
    assert (w["start_ns"], w["end_ns"], w["detected_by"]) == (at(29.6), at(31.1), "heartbeat")


# -- the live judgement of a step search sees the same windows -----------------------------------

#: A fourth level under way, so the third one's data are all in.
RUNNING = [*STEPS, Level(20)]


def _running_run_losing_worker_1(path):
    """Two workers hold three levels; worker-1 dies at 18.0 s, its users run again at 19.2 s.

    Written as a run still going: run.json says running with no ``workers.lost`` yet, the
    events have the loss, and worker-1's timeline stops where it died.
    """
    run = queue_run(path, QueueModel(), RUNNING, sources=2, status="running")
    add_events(
        path,
        {
            "t_ns": at(18.0),
            "type": "worker_lost",
            "source": "worker-1",
            "users": 10,
            "detected_by": "process exit",
            "last_batch_ns": at(17.5),
        },
        {"t_ns": at(19.2), "type": "rebalanced", "workers": 1, "users": 40},
    )
    timeline = path / "timeline.jsonl"
    rows = [json.loads(line) for line in timeline.read_text().splitlines()]
    kept = [r for r in rows if r["source"] != "worker-1" or r["t_ns"] < at(17.5)]
    timeline.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return run


def _judge(run, i):
    users, start, end = run.levels[i]
    return judge_level(run.path, start, end, SLOS, target_users=users, label=f"level-{i + 1}")


def test_judge_level_makes_a_window_overlapping_a_live_loss_inconclusive_naming_the_worker(
    tmp_path,
):
    run = _running_run_losing_worker_1(tmp_path / "r")
    v = _judge(run, 1)
    assert v.verdict == "inconclusive"
    assert v.short_of == ["worker-1"]
    assert v.reasons[0].startswith("offered load fell short: worker worker-1 holding 10 users")
    assert "its users ran again at t=19.2 s" in v.reasons[0]
    assert v.reasons[-1].startswith("not counted: measured pass")
    assert v.to_dict()["short_of"] == ["worker-1"]


def test_judge_level_judges_windows_outside_the_loss_as_usual(tmp_path):
    run = _running_run_losing_worker_1(tmp_path / "r")
    before, after = _judge(run, 0), _judge(run, 2)
    assert (before.verdict, before.short_of) == ("pass", [])
    # worker-1's timeline ended with it: that is not data still to come for a later window.
    assert (after.verdict, after.short_of) == ("pass", []), after.reasons
    assert after.reasons == ["held every SLO at 60 users"]


def test_judge_level_keeps_a_loss_not_yet_restored_open(tmp_path):
    run = queue_run(tmp_path / "r", QueueModel(), RUNNING, sources=2, status="running")
    add_events(
        run.path,
        {
            "t_ns": at(18.0),
            "type": "worker_lost",
            "source": "worker-1",
            "users": 10,
            "detected_by": "heartbeat",
            "last_batch_ns": at(17.5),
        },
    )
    v = _judge(run, 2)  # no rebalanced yet: every later window is short of worker-1's users
    assert v.verdict == "inconclusive" and v.short_of == ["worker-1"]
    assert "never ran again" in v.reasons[0]
