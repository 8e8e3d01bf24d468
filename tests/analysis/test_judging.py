"""No verdict from a window too short to mean anything: every rule has a minimum duration and
count (``settings.judging``); shorter windows are inconclusive, named, with their numbers; the
headline says what the conclusive levels say, a pass above a fail included."""

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis import Judging
from surgeproof.analysis.run import analyze_run
from surgeproof.errors import UserError
from surgeproof.scenario.catalog import load_scenario
from surgeproof.scenario.model import Slo
from surgeproof.scenario.plan import resolve

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
#: Ample capacity (1,600 req/s): every level the traced night offers holds.
ROOMY = QueueModel(workers=8, service_s=0.010, rate_per_user=5.0)


def _traced_night(path, time_scale):
    """The traced night's steady windows at ``time_scale`` and 1:5,000 as synthetic levels."""
    plan = resolve(load_scenario("martial-law-2024-12-03-trace"), None, time_scale, 1 / 5000)
    windows = plan.steady_windows()
    levels = [
        Level(round(users), hold_s=end - start, settle_s=0.5) for start, end, users, _ in windows
    ]
    queue_run(path, ROOMY, levels)
    return [(end - start) for start, end, _, _ in windows]


def test_traced_night_at_strong_compression_gives_no_verdict_from_sub_minimum_windows(tmp_path):
    holds = _traced_night(tmp_path / "r", 1 / 240)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    short = [lv for lv, hold in zip(a["levels"], holds, strict=True) if hold < 5.0]
    assert len(short) == 2
    for lv in short:
        assert lv["verdict"] == "inconclusive" and lv["too_short"]
        assert lv["reasons"][0].startswith(
            f"inconclusive: too short: a {lv['duration_s']:.3g} s window with {lv['calls']:,} calls"
        )
    named = {i["label"] for i in a["ceiling"]["inconclusive"] if i["too_short"]}
    assert named == {lv["label"] for lv in short}
    assert "too short to judge" in a["ceiling"]["statement"]
    assert a["settings"]["judging"]["min_window_s"] == 5.0


def test_traced_night_at_milder_compression_still_gives_its_verdict(tmp_path):
    _traced_night(tmp_path / "r", 1 / 12)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert [lv["verdict"] for lv in a["levels"]] == ["pass"] * 3
    assert a["verdict"]["status"] == "pass"
    assert a["ceiling"]["status"] == "lower_bound"


def test_a_pass_above_a_fail_is_reported_with_both_levels(tmp_path):
    # The 37-user level meets a 1.5 s stall of the target and breaks p99; 30 and 41 hold.
    run = queue_run(
        tmp_path / "r",
        QueueModel(),
        [Level(30), Level(37), Level(41)],
        stalls=[(12.0 + 1 + 2 + 4, 12.0 + 1 + 2 + 5.5)],
    )
    assert run.levels[1][0] == 37
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert [lv["verdict"] for lv in a["levels"]] == ["pass", "fail", "pass"]
    statement = a["ceiling"]["statement"]
    assert statement.startswith("held 30 users; failed at 37 users: ")
    assert "yet 41 users held every SLO above that failure (non-monotonic" in statement
    assert [r["users"] for r in a["ceiling"]["non_monotonic"]] == [41]
    assert any("41" in line and "non-monotonic" in line for line in a["summary"])


def test_no_pass_below_the_failure_says_so_and_names_the_passes_above(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(37), Level(41)], stalls=[(4.0, 5.5)])
    c = analyze_run(tmp_path / "r", slos=SLOS)["ceiling"]
    assert c["status"] == "upper_bound"
    assert c["statement"].startswith("no level below the lowest failure held every SLO")
    assert "yet 41 users held" in c["statement"]


def test_too_few_calls_for_the_saturation_rule_is_inconclusive_not_a_pass(tmp_path):
    # 8 users × 2 req/s × 10 s = 160 calls, under the 200 the rule needs; a p50 SLO alone could
    # be judged on them (each group has more than 20 samples).
    queue_run(tmp_path / "r", QueueModel(), [Level(8), Level(40)])
    low, high = analyze_run(tmp_path / "r", slos=[Slo("*", "p50", 500.0)])["levels"]
    assert low["verdict"] == "inconclusive" and low["too_short"]
    assert "160 calls" in low["reasons"][0] and "200 calls" in low["reasons"][0]
    assert high["verdict"] == "pass"


def test_percentiles_and_error_ratios_need_samples_beyond_their_rank():
    j = Judging()
    assert j.samples_for(Slo("*", "p50", 100.0)) == 20
    assert j.samples_for(Slo("*", "p99", 100.0)) == 100
    assert j.samples_for(Slo("*", "p99.9", 100.0)) == 1000
    assert j.samples_for(Slo("*", "error_ratio", 0.01)) == 100
    assert j.samples_for(Slo("*", "error_ratio", 0.5)) == 20


def test_minimums_are_settings_that_change_the_verdicts(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(40, hold_s=3.0)])
    strict = analyze_run(tmp_path / "r", slos=SLOS)
    lenient = analyze_run(tmp_path / "r", slos=SLOS, judging={"min_window_s": 2.0})
    assert strict["levels"][0]["verdict"] == "inconclusive"
    assert lenient["levels"][0]["verdict"] == "pass"
    assert lenient["settings"]["judging"]["min_window_s"] == 2.0
    assert analyze_run(tmp_path / "r", **lenient["settings"])["levels"] == lenient["levels"]
    with pytest.raises(UserError, match=r"judging\.saturation_ratio"):
        analyze_run(tmp_path / "r", judging={"saturation_ratio": 1.5})


def test_a_window_a_nanosecond_short_of_the_minimum_is_long_enough():
    # Step-search windows are built in nanoseconds from float seconds; a rounding is not a
    # short hold (a 4.999999999-s level was once called too short to judge).
    assert Judging().long_enough(4.999999999)
    assert not Judging().long_enough(4.99)
