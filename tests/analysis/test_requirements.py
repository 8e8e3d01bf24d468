"""Requirements are judged once, by their kind, on the analysis document: evidence, entries."""

from synthetic import Level, QueueModel, queue_run
from test_headroom import UPBIT

from surgeproof.analysis.requirements import evidence_of, judge_requirement
from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Requirement, Slo

SLOS = [Slo("*", "p99", 500.0)]


def test_the_evidence_is_what_the_document_measured_scaled_back(tmp_path):
    # QueueModel's ceiling is 80 simulated users: 75 hold, 90 fail (1:10,000 → 750k / 900k).
    queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(75), Level(90)], user_scale=0.0001)
    a = analyze_run(tmp_path / "r", profile=UPBIT, slos=SLOS)
    ev = evidence_of(a)
    assert (ev.ceiling_real, ev.first_fail_real) == (750_000, 900_000)
    assert (ev.top_conclusive_real, ev.lowest_fail_real) == (900_000, 900_000)
    assert ev.ceiling_rps_real == a["ceiling"]["last_pass"]["achieved_rps"] / 0.0001
    [failed] = [lv for lv in a["levels"] if lv["label"] == a["ceiling"]["first_fail"]["label"]]
    assert ev.first_fail_rps_real == failed["asked_rps"] / 0.0001
    assert ev.peak_load_real == 900_000 and not ev.peak_load_is_probe
    assert ev.real_words == "real users" and ev.profile == UPBIT
    assert ev.recovery is not None and ev.recovery.faults == 0  # no fault: nothing to recover


def test_the_run_records_each_requirement_judged_and_its_verdict_quotes_them(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(75), Level(90)], user_scale=0.0001)
    required = [Requirement("peak", 1.2), Requirement("expanded", 1.0)]
    a = analyze_run(tmp_path / "r", profile=UPBIT, slos=SLOS, requirements=required)
    met, not_met = a["requirements"]
    assert not_met == judge_requirement(a, required[1], "argument")
    assert [(e["text"], e["figure"], e["status"]) for e in (met, not_met)] == [
        ("peak * 1.2", "peak", "pass"),
        ("expanded * 1", "expanded", "fail"),
    ]
    assert met["source"] == "FSS"  # the profile figure's own source
    assert met["name"] == "ceiling >= peak * 1.2 (648,000)"
    assert met["figures"] == {"required_real": 648_000.0, "ceiling_real": 750_000.0}
    # The deciding requirement first; the comparison shows the same judgement per figure.
    assert a["verdict"]["reasons"] == [not_met["reason"], met["reason"]]
    by_figure = {f["key"]: f["passed"] for f in a["comparison"]["figures"]}
    assert by_figure == {"normal": None, "peak": True, "expanded": False}


def test_a_requirement_without_a_profile_is_unusable_and_left_out_of_the_verdict(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(75)], user_scale=0.0001)
    a = analyze_run(tmp_path / "r", slos=SLOS, requirements=[Requirement("peak", 1.2)])
    assert a["requirements"][0]["status"] == "unusable"
    assert a["verdict"]["basis"] == "slos"
