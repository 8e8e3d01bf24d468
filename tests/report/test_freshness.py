"""Re-analysis repeats the analysis from its recorded settings: a --profile or --slo choice made
outside the run directory is handed back; what the run directory itself holds is derived again."""

import json

from surgeproof.analysis.freshness import reanalyze, settings_of
from surgeproof.analysis.run import analyze_run, write_analysis
from surgeproof.cli import main
from surgeproof.report.verify import compare
from surgeproof.scenario.model import Slo

OTHER_PROFILE = {
    "name": "tiny",
    "exchange": "test",
    "figures": {
        "peak": {
            "value": 100000.0,
            "unit": "concurrent users",
            "label": "a small peak",
            "source": "test",
        }
    },
    "notes": "",
}


def test_a_profile_option_is_used_again(step_run):
    stored = analyze_run(step_run, profile=OTHER_PROFILE, profile_source="option")
    assert stored["comparison"]["profile"] == "tiny"
    settings = settings_of(stored)
    assert settings["profile"] == OTHER_PROFILE and settings["profile_source"] == "option"
    again = reanalyze(step_run, write=False, like=stored)
    assert again["comparison"]["profile"] == "tiny"
    assert compare(stored, again) == []


def test_slos_from_a_file_are_used_again(step_run):
    stored = analyze_run(step_run, slos=[Slo("*", "p99", 25.0)], slo_source="file")
    again = reanalyze(step_run, write=False, like=stored)
    assert again["settings"]["slos"] == [{"group": "*", "metric": "p99", "limit": 25.0}]
    assert again["verdict"] == stored["verdict"]


def test_what_the_run_directory_holds_is_derived_again_not_copied(step_run):
    stored = analyze_run(step_run)
    assert stored["settings"]["slo_source"] == "scenario"
    assert "slos" not in settings_of(stored) and "profile" not in settings_of(stored)
    # An edited copy of the scenario's SLOs is therefore caught by the re-analysis.
    stored["settings"]["slos"][0]["limit"] = 99999.0
    again = reanalyze(step_run, write=False, like=stored)
    assert any(p == "settings.slos[0].limit" for p, _, _ in compare(stored, again))


def test_verify_repeats_an_analysis_made_with_a_profile_option(step_run, tmp_path, capsys):
    write_analysis(step_run, profile=OTHER_PROFILE, profile_source="option")
    assert json.loads((step_run / "analysis.json").read_text())["comparison"]["profile"] == "tiny"
    pack = tmp_path / "pack.tar.gz"
    assert main(["evidence", str(step_run), "--out", str(pack)]) == 0
    assert main(["verify", str(pack)]) == 0, capsys.readouterr()
