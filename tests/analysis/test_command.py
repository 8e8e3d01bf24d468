"""``surgeproof analyze`` through the real CLI: writes analysis.json and a summary; truncated or
corrupt run directories give a one-line error (exit 2) or a result marked partial."""

import json

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.cli import main
from surgeproof.rundir.writer import write_meta


@pytest.fixture
def run_dir(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(75), Level(90)])
    return tmp_path / "r"


def _error_line(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_writes_analysis_json_and_prints_the_summary(run_dir, tmp_path, capsys):
    slo = tmp_path / "slo.yaml"
    slo.write_text("slos:\n  - {group: '*', p99: 500ms, error_ratio: 1%}\n")
    assert (
        main(
            [
                "analyze",
                str(run_dir),
                "--slo",
                str(slo),
                "--profile",
                "upbit",
                "--require",
                "peak*1.2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # The answer first, each thing once: verdict and bracket, the levels, the requirement.
    lines = out.splitlines()
    assert lines[0] == "FAIL: the ceiling lies between 75 and 90 users"
    assert lines[1].startswith("held level-2 at 75; failed level-3 at 90: quotation p99 ")
    assert lines[2].startswith("requirement FAIL: ceiling >= peak * 1.2 = 648,000 users: ")
    assert lines[3].startswith("headroom: normal capacity (500,000 concurrent users) ")
    a = json.loads((run_dir / "analysis.json").read_text())
    assert a["analysis_schema_version"] == 2
    assert [s["source"] for s in a["slos"]] == ["file", "file"]
    assert a["comparison"]["figures"][1]["requirement"]["factor"] == 1.2


def test_missing_run_json_is_one_line(run_dir, capsys):
    (run_dir / "run.json").unlink()
    assert main(["analyze", str(run_dir)]) == 2
    assert "run.json: missing" in _error_line(capsys)


def test_wrong_schema_version_is_one_line(run_dir, capsys):
    (run_dir / "run.json").write_text(json.dumps({"schema_version": 7}))
    assert main(["analyze", str(run_dir)]) == 2
    assert "schema_version 7 is not supported" in _error_line(capsys)


def test_corrupt_run_json_is_one_line(run_dir, capsys):
    (run_dir / "run.json").write_text('{"schema_version": 1, "sta')
    assert main(["analyze", str(run_dir)]) == 2
    assert "not valid JSON" in _error_line(capsys)


def test_empty_run_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    write_meta(tmp_path / "empty", {"status": "partial", "run_id": "x"})
    assert main(["analyze", str(tmp_path / "empty")]) == 2
    assert "empty run" in _error_line(capsys)


def test_half_written_lines_and_records_give_a_result_marked_partial(run_dir, capsys):
    with open(run_dir / "records" / "local.bin", "ab") as fh:
        fh.write(b"\x07" * 23)
    with open(run_dir / "events.jsonl", "a") as fh:
        fh.write('{"t_ns": 1, "type": "lev')
    with open(run_dir / "timeline.jsonl", "a") as fh:
        fh.write('{"t_ns": 2, "sour')
    assert main(["analyze", str(run_dir)]) == 0
    assert "data: PARTIAL" in capsys.readouterr().out
    dq = json.loads((run_dir / "analysis.json").read_text())["data_quality"]
    assert dq["partial"]
    assert any("23 trailing bytes" in d for d in dq["damage"])
    assert any("events.jsonl" in d for d in dq["damage"])
    assert any("timeline.jsonl" in d for d in dq["damage"])


def test_interrupted_run_without_records_of_later_files_is_partial(run_dir, capsys):
    (run_dir / "events.jsonl").unlink()
    (run_dir / "timeline.jsonl").unlink()
    write_meta(
        run_dir, {"status": "partial", "partial_reason": "interrupted (SIGINT)", "run_id": "x"}
    )
    assert main(["analyze", str(run_dir)]) == 0
    a = json.loads((run_dir / "analysis.json").read_text())
    assert a["data_quality"]["partial_reason"] == "interrupted (SIGINT)"
    assert a["levels"] == [] and a["verdict"]["status"] == "inconclusive"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "soon"], "--window"),
        (["--require", "peak +"], "--require"),
        (["--profile", "nosuchexchange"], "nosuchexchange"),
        (["--slo", "/nonexistent/slo.yaml"], "no such file"),
    ],
)
def test_bad_options_are_one_line(run_dir, capsys, args, message):
    assert main(["analyze", str(run_dir), *args]) == 2
    assert message in _error_line(capsys)


def test_corrupt_middle_line_is_one_line(run_dir, capsys):
    text = (run_dir / "events.jsonl").read_text().splitlines()
    text.insert(1, "{not json")
    (run_dir / "events.jsonl").write_text("\n".join(text) + "\n")
    assert main(["analyze", str(run_dir)]) == 2
    assert "events.jsonl: line 2 is not valid JSON" in _error_line(capsys)


def test_slo_file_with_an_unknown_metric_is_one_line(run_dir, tmp_path, capsys):
    slo = tmp_path / "slo.yaml"
    slo.write_text("slos:\n  - {group: orders, p42: 5ms}\n")
    assert main(["analyze", str(run_dir), "--slo", str(slo)]) == 2
    assert "p42" in _error_line(capsys)


def test_jobs_and_memory_change_how_it_runs_never_what_it_writes(run_dir, tmp_path, capsys):
    def written(*flags):
        out = tmp_path / f"a{len(flags)}.json"
        assert main(["analyze", str(run_dir), "--quiet", "--out", str(out), *flags]) == 0
        doc = json.loads(out.read_text())
        doc["generated_at_utc"] = None
        return doc

    one = written("--jobs", "1")
    assert written("--jobs", "2", "--memory", "16MiB") == one


@pytest.mark.parametrize(
    "flag,value,said",
    [("--jobs", "0", "1 to 1024"), ("--jobs", "two", "'auto'"), ("--memory", "1KiB", "16MiB")],
)
def test_bad_jobs_or_memory_is_one_line(run_dir, capsys, flag, value, said):
    assert main(["analyze", str(run_dir), flag, value]) == 2
    assert said in _error_line(capsys)
