"""analysis.json's settings are everything the analysis ran with: handing them back to
analyze_run (straight from the JSON file) reproduces the same analysis."""

import json

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis import GeneratorTolerance, analyze_run, write_analysis
from surgeproof.errors import UserError
from surgeproof.scenario.model import Requirement, Slo

VOLATILE = {"generated_at_utc"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("settings") / "r"
    queue_run(path, QueueModel(), [Level(40), Level(75), Level(90)], user_scale=0.0001)
    return path


def _same(a, b):
    return {k: v for k, v in a.items() if k not in VOLATILE} == {
        k: v for k, v in b.items() if k not in VOLATILE
    }


def test_settings_from_the_json_file_reproduce_the_analysis(run):
    first = analyze_run(
        run,
        profile="upbit",
        profile_source="option",
        slos=[Slo("*", "p99", 300.0), Slo("orders", "error_ratio", 0.02)],
        slo_source="file",
        window_s=2.0,
        requirements=[Requirement("peak", 1.2)],
        requirement_source="option",
        tolerance=GeneratorTolerance(late_ms=50.0, cpu_percent=80.0),
        min_samples=10,
        window_min_samples=3,
    )
    path = write_analysis(run, first)
    settings = json.loads(path.read_text())["settings"]
    assert settings["window_s"] == 2.0
    assert settings["slos"][1] == {"group": "orders", "metric": "error_ratio", "limit": 0.02}
    assert settings["slo_source"] == "file"
    assert settings["requirements"] == [{"figure": "peak", "factor": 1.2}]
    assert settings["requirement_source"] == "option"
    assert settings["tolerance"]["late_ms"] == 50.0
    assert settings["min_samples"] == 10 and settings["window_min_samples"] == 3
    assert settings["profile"]["figures"]["peak"]["value"] == 540_000
    assert settings["profile_source"] == "option"

    again = json.loads(json.dumps(analyze_run(run, **settings)))
    assert _same(again, json.loads(path.read_text()))
    assert again["comparison"]["figures"]  # the profile was really used again


def test_defaults_are_recorded_and_reproduce_too(run):
    first = analyze_run(run)
    s = first["settings"]
    assert s["slo_source"] == "default" and s["profile"] is None
    assert s["requirement_source"] == "none"
    assert _same(analyze_run(run, **s), first)


def test_a_setting_changes_the_analysis_it_records(run):
    base = analyze_run(run, slos=[Slo("*", "p99", 300.0)])
    strict = analyze_run(run, slos=[Slo("*", "p99", 300.0)], min_samples=10_000)
    assert strict["settings"]["min_samples"] == 10_000
    assert not _same(base, strict)
    assert any(lv["verdict"] == "pass" for lv in base["levels"])
    # Too few samples to judge any SLO: nothing passes any more.
    assert not any(lv["verdict"] == "pass" for lv in strict["levels"])


def test_malformed_settings_are_a_one_line_user_error(run):
    with pytest.raises(UserError, match="tolerance: unknown fields late_sec"):
        analyze_run(run, tolerance={"late_sec": 1})
    with pytest.raises(UserError, match="SLO"):
        analyze_run(run, slos=[{"group": "orders", "p99": 800}])
    with pytest.raises(UserError, match="SLO orders p42: unknown metric"):
        analyze_run(run, slos=[{"group": "orders", "metric": "p42", "limit": 800}])
    # An SLO's options are its kind's: none for a percentile, each a finite number.
    with pytest.raises(UserError, match=r"SLO orders p99: expected options none"):
        analyze_run(
            run, slos=[{"group": "orders", "metric": "p99", "limit": 800, "options": {"x": 1}}]
        )
    with pytest.raises(UserError, match=r"SLO orders p99: expected options none"):
        analyze_run(run, slos=[{"group": "orders", "metric": "p99", "limit": 800, "options": "x"}])
