"""analyze_run produces every top-level part FORMAT.md documents, as strict JSON."""

import json
import re
from pathlib import Path

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.run import analyze_run, write_analysis
from surgeproof.confine import UnsafePath
from surgeproof.scenario.model import Slo

FORMAT = Path(__file__).parents[2] / "src" / "surgeproof" / "analysis" / "FORMAT.md"


def _documented_top_level_keys():
    block = FORMAT.read_text().split("## Top level", 1)[1].split("```")[1]
    return [m.group(1) for m in re.finditer(r"^(\w+)\s", block, re.M)]


def test_every_documented_top_level_key_is_present_and_json_is_strict(tmp_path):
    queue_run(
        tmp_path / "r",
        QueueModel(),
        [Level(40), Level(60), Level(75), Level(90)],
        sources=2,
        user_scale=0.001,
    )
    a = analyze_run(tmp_path / "r", slos=[Slo("*", "p99", 500.0)])
    keys = _documented_top_level_keys()
    assert len(keys) > 15
    assert set(keys) == set(a)
    path = write_analysis(tmp_path / "r", a)
    again = json.loads(path.read_text())
    assert again["ceiling"]["real"]["last_pass_users"] == 75_000
    assert "1 simulated user = 1,000 real users" in again["scale"]["statement"]
    assert again["input"]["records"]["per_source"].keys() == {"worker-0", "worker-1"}
    assert [p.name for p in path.parent.glob("*.tmp")] == []  # its temporary file is gone


def test_analysis_json_planted_as_a_link_is_refused_and_its_target_kept(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(60)])
    a = analyze_run(tmp_path / "r", slos=[Slo("*", "p99", 500.0)])
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "r" / "analysis.json").symlink_to(victim)
    with pytest.raises(UnsafePath, match=r"analysis\.json is a symbolic link; it is not replaced"):
        write_analysis(tmp_path / "r", a)
    assert victim.read_text() == "keep"
    assert [p.name for p in (tmp_path / "r").glob("*.tmp")] == []


def test_knee_is_where_demand_meets_the_measured_maximum_inside_the_saturation_bracket(tmp_path):
    # The model serves 160 req/s: 80 users at 2 req/s each. Latency is not judged at all.
    model = QueueModel()
    queue_run(tmp_path / "r", model, [Level(20), Level(40), Level(75), Level(100), Level(130)])
    knee = analyze_run(tmp_path / "r", slos=[Slo("*", "p99", 1e9)])["knee"]
    assert (knee["last_unsaturated_users"], knee["first_saturated_users"]) == (75, 100)
    assert knee["users"] == pytest.approx(model.capacity_users, rel=0.02)
    assert knee["throughput_rps"] == pytest.approx(model.capacity_rps, rel=0.02)
    assert knee["method"] == "asymptotic bounds" and knee["extrapolated"] is False


def test_a_record_shard_never_gathered_is_a_caveat_naming_its_worker(tmp_path):
    path = tmp_path / "r"
    queue_run(path, QueueModel(), [Level(40), Level(60)], sources=2)
    meta = json.loads((path / "run.json").read_text())
    meta["workers"]["missing_shards"] = [
        {"source": "worker-2", "host": "gen-7", "path": "/data/s", "records": 5000, "received": 0}
    ]
    (path / "run.json").write_text(json.dumps(meta))
    [caveat] = [c for c in analyze_run(path)["data_quality"]["caveats"] if "not gathered" in c]
    assert "worker-2" in caveat and "0 of 5,000" in caveat and "surgeproof gather" in caveat


def _night(path: Path, levels: int):
    """A step run of ``levels`` 10-second levels (2 s settling, then 8 s judged); the server
    stalls for 0.8 s inside every other level (its latencies breach the p99 SLO: a failing
    level) and during the settling of the others (a breach between levels): windows, levels
    and breaches of both kinds all scale with ``levels``."""
    model = QueueModel(workers=4, service_s=0.01, rate_per_user=1.0)
    stalls = [
        (10 * j + (4.0 if j % 2 else 0.1), 10 * j + (4.8 if j % 2 else 0.9)) for j in range(levels)
    ]
    steps = [Level(60, hold_s=8, settle_s=2) for _ in range(levels)]
    return queue_run(path, model, steps, sources=2, gap_s=0, stalls=stalls)


def test_analysing_4x_the_windows_and_levels_costs_at_most_4x_the_work(tmp_path):
    """A count, not a clock: lines of surgeproof's code executed by ``analyze_run`` and
    ``write_analysis``. A per-level scan of the whole timeline, or of every level's groups,
    grows with levels × windows (a night's step search: hundreds of levels over 10,800
    seconds) and multiplies the count by ~16 when the run is 4× as long."""
    from worklines import lines_executed

    slos = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
    _night(tmp_path / "warm", 4)
    write_analysis(tmp_path / "warm", analyze_run(tmp_path / "warm", slos=slos))  # imports
    work = {}
    for levels in (40, 160):
        path = tmp_path / f"r{levels}"
        _night(path, levels)
        work[levels], written = lines_executed(
            lambda path=path: write_analysis(path, analyze_run(path, slos=slos))
        )
        doc = json.loads(written.read_text())
        assert len(doc["levels"]) == levels and len(doc["timeseries"]["start_ns"]) >= 10 * levels
        assert sum(lv["verdict"] == "fail" for lv in doc["levels"]) == levels // 2
        contexts = [w["context"] for w in doc["incidents"]["breach_windows"]]
        assert contexts.count("failing level") >= levels // 2
        assert len(contexts) - contexts.count("failing level") >= levels // 2 - 1
    assert work[160] <= 4.2 * work[40], work
