"""Report and gate read analysis.json through its typed contract: a crafted or damaged file is
one line naming the file and the field (exit 2), never a traceback or a report full of "–"."""

import json

import pytest

from surgeproof.analysis.run import write_analysis
from surgeproof.cli import main


def _craft(run, change):
    write_analysis(run)
    path = run / "analysis.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))  # newer than the raw data: read as it is, not recomputed
    return path


def _renamed_verdict(doc):
    doc["verdict"]["state"] = doc["verdict"].pop("status")


def _level_users_as_text(doc):
    doc["levels"][1]["target_users"] = "many"


def _requirement_status_unknown(doc):
    doc["requirements"] = [
        {
            "kind": "ceiling",
            "text": "peak * 1.2",
            "rule": "ceiling >= figure x factor",
            "source": "profile",
            "origin": "scenario",
            "figure": "peak",
            "status": "fine",
            "name": "ceiling >= peak * 1.2",
            "measured": "600,000 real users",
            "limit": ">= 648,000 real users",
            "note": "",
            "reason": "",
            "figures": {},
        }
    ]


def _ceiling_as_list(doc):
    doc["ceiling"] = []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_renamed_verdict, "verdict.status: missing"),
        (_level_users_as_text, "levels[1].target_users: expected a number, got 'many'"),
        (_requirement_status_unknown, "requirements[0].status: expected one of 'pass'"),
        (_ceiling_as_list, "ceiling: expected an object, got a list"),
    ],
)
@pytest.mark.parametrize("command", ["report", "gate"])
def test_a_crafted_analysis_is_one_line_naming_the_field(step_run, capsys, change, field, command):
    path = _craft(step_run, change)
    before = path.read_bytes()
    assert main([command, str(step_run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert f"{path}: {field}" in err[0]
    assert path.read_bytes() == before
    assert not (step_run / "report.html").exists()


def test_nan_in_a_crafted_analysis_is_refused(step_run, capsys):
    path = _craft(step_run, lambda d: d["ceiling"].update(width_ratio="NAN_HERE"))
    path.write_text(path.read_text().replace('"NAN_HERE"', "NaN", 1))
    assert main(["gate", str(step_run)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "NaN is not a number analysis.json holds" in line


def test_an_added_field_from_a_newer_analysis_is_read(step_run, capsys):
    _craft(step_run, lambda d: d["levels"][0].update(queue_depth=3))
    assert main(["report", str(step_run)]) == 0
    html = (step_run / "report.html").read_text()
    assert "step-1" in html or "Steady-state windows" in html


def test_an_analysis_over_the_size_bound_is_refused_unread(step_run, capsys, monkeypatch):
    import surgeproof.analysis.contract.reading as reading
    import surgeproof.analysis.freshness as freshness

    path = _craft(step_run, lambda d: None)
    bound = path.stat().st_size - 1
    monkeypatch.setattr(freshness, "MAX_ANALYSIS_BYTES", bound)
    monkeypatch.setattr(reading, "MAX_ANALYSIS_BYTES", bound)
    assert main(["gate", str(step_run)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "analysis.json" in line and "Traceback" not in line
