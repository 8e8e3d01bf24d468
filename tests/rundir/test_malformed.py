"""Malformed run directories: every command that reads one answers with one line (exit 2) or a
partial analysis that names what it left out — never a traceback, never memory that follows a
value in the data (one all-zero record made ``analyze`` ask for 13.4 GiB)."""

from __future__ import annotations

import json
import shutil
from typing import ClassVar

import numpy as np
import pytest

from cli.oneline import child, cli
from report.stepruns import T0_NS, write_step_run
from surgeproof.rundir.reader import (
    open_record_sources,
    read_events,
    read_meta,
    read_server_metrics,
    read_timeline,
)
from surgeproof.rundir.schema import RECORD_DTYPE, RunDirError


@pytest.fixture(scope="module")
def step_run_once(tmp_path_factory):
    return write_step_run(tmp_path_factory.mktemp("malformed") / "steps")


@pytest.fixture
def run(step_run_once, tmp_path):
    """A private copy of a good, complete run directory (ceiling 600,000 users)."""
    return shutil.copytree(step_run_once, tmp_path / "run")


def _append(path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _records(path, raw: bytes) -> None:
    with open(path / "records" / "local.bin", "ab") as fh:
        fh.write(raw)


def _partial_analysis(capsys, run, says: str) -> dict:
    answer = cli(capsys, "analyze", run, "--quiet")
    assert answer.code == 0 and "Traceback" not in answer.err, answer.err[-2000:]
    analysis = json.loads((run / "analysis.json").read_text())
    quality = analysis["data_quality"]
    assert quality["partial"] and any(says in d for d in quality["damage"]), quality
    return analysis


class TestRecords:
    def test_one_all_zero_record_is_left_out_and_named(self, run, capsys):
        _records(run, bytes(40))
        analysis = _partial_analysis(capsys, run, "1 record(s) that cannot be true")
        # The zero record did not stretch the series back to 1970: a minute of windows.
        assert len(analysis["timeseries"]["t_s"]) < 200
        assert analysis["ceiling"]["real"]["last_pass_users"] == 600_000

    def test_random_records_are_left_out(self, run, capsys):
        rng = np.random.default_rng(15)
        _records(run, rng.integers(0, 256, 40 * 1000, dtype=np.uint8).tobytes())
        analysis = _partial_analysis(capsys, run, "record(s) that cannot be true")
        assert len(analysis["timeseries"]["t_s"]) < 200

    def test_a_run_of_only_a_zero_record_is_one_line(self, tmp_path, capsys):
        run = write_step_run(tmp_path / "r", steps=())
        _records(run, bytes(40))
        cli(capsys, "analyze", run).one_line_error("no request records")

    def test_in_a_child_under_a_memory_limit(self, run):
        _records(run, bytes(40) + np.full(40, 0x7F, np.uint8).tobytes())
        answer = child("analyze", run, "--quiet", cwd=run)
        assert answer.code == 0 and "MemoryError" not in answer.err, answer.err[-2000:]

    def test_a_symlink_loop_in_place_of_a_record_file(self, run, capsys):
        (run / "records" / "worker-x.bin").symlink_to(run / "records" / "worker-x.bin")
        cli(capsys, "analyze", run).one_line_error("worker-x.bin", "cannot read")

    def test_a_record_file_that_is_a_folder(self, run, capsys):
        (run / "records" / "worker-x.bin").mkdir()
        cli(capsys, "analyze", run).one_line_error("worker-x.bin")


class TestNames:
    @pytest.mark.parametrize(
        "line",
        ['{"id": "x", "name": "a"}', '{"id": -1, "name": "a"}', '{"id": 1e12, "name": "a"}',
         '{"id": 1000000000000, "name": "a"}', '{"id": true, "name": "a"}', '{"name": "a"}',
         '{"id": 0, "name": "dup", "group": "login"}', '{"id": 3, "name": ["a"]}',
         '{"id": 3, "name": "a", "group": 7}', '[1, 2]', '{"id": 99999999999999999999999}',
         '{"id": NaN}'],
    )  # fmt: skip
    def test_a_bad_line_is_skipped_and_counted(self, run, line, capsys):
        names = run / "records" / "local.names.jsonl"
        _append(names, line + "\n")
        opened = open_record_sources(run)
        assert any("local.names.jsonl: 1 line(s)" in d for d in opened.damage), opened.damage
        # The good names are all still there, and nothing was sized by the bad id.
        assert {"POST /v1/session", "GET /v1/ticker"} <= set(opened.names)
        assert len(opened.sources[0].name_index) < 10
        _partial_analysis(capsys, run, "local.names.jsonl")

    def test_a_names_file_beyond_its_bound_is_one_line(self, run, capsys):
        with open(run / "records" / "local.names.jsonl", "ab") as fh:
            fh.truncate(70 << 20)  # sparse
        cli(capsys, "analyze", run).one_line_error("local.names.jsonl", "more than")


class TestJsonLines:
    @pytest.mark.parametrize(
        "t_ns",
        [10**30, 2**62 + 1, T0_NS + 400 * 86_400 * 10**9, 0, -5, "soon", True, 1.5e18],
    )
    def test_an_event_with_an_impossible_time_is_skipped(self, run, t_ns, capsys):
        _append(run / "events.jsonl", json.dumps({"t_ns": t_ns, "type": "stall"}) + "\n")
        events, damage = read_events(run)
        assert events and all(e["t_ns"] != t_ns for e in events)
        assert any("events.jsonl: 1 line(s)" in d for d in damage)
        _partial_analysis(capsys, run, "events.jsonl")

    def test_a_timeline_row_far_in_the_future_does_not_stretch_the_series(self, run, capsys):
        far = {"t_ns": T0_NS + 300 * 86_400 * 10**9, "source": "local", "target_users": 1}
        _append(run / "timeline.jsonl", json.dumps(far) + "\n")
        rows, damage = read_timeline(run)
        assert far not in rows and damage
        analysis = _partial_analysis(capsys, run, "timeline.jsonl")
        assert len(analysis["timeseries"]["t_s"]) < 200

    BAD_SERVER_LINES = (
        '{"t": "abc", "requests": 1}', '{"t": 1e400}', '{"t": NaN}', '{"t": -Infinity}',
        '{"t": 1733230810, "requests": "many"}', '{"t": 1733230810, "ws_connections": [1]}',
        '{"t": 99999999999999}', '["not", "a", "row"]', '{"t": ' + "[" * 5000 + "]" * 5000 + "}",
    )  # fmt: skip
    GOOD_SECOND: ClassVar[dict] = {"t": T0_NS // 10**9 + 5, "requests": 10, "ws_connections": 2}

    @pytest.mark.parametrize("line", BAD_SERVER_LINES)
    def test_a_bad_server_metrics_line_is_skipped_and_counted(self, run, line):
        (run / "server").mkdir(exist_ok=True)
        good = self.GOOD_SECOND
        _append(run / "server" / "metrics.jsonl", json.dumps(good) + "\n" + line + "\n")
        rows, damage = read_server_metrics(run)
        assert rows == [good] and "metrics.jsonl: 1 line(s)" in damage[0]

    def test_bad_server_metrics_lines_break_neither_report_nor_evidence(
        self, run, capsys, tmp_path
    ):
        (run / "server").mkdir(exist_ok=True)
        lines = [json.dumps(self.GOOD_SECOND), *self.BAD_SERVER_LINES]
        _append(run / "server" / "metrics.jsonl", "\n".join(lines) + "\n")
        assert cli(capsys, "report", run).code == 0
        assert cli(capsys, "evidence", run, "--out", tmp_path / "p.tar.gz").code == 0
        analysis = json.loads((run / "analysis.json").read_text())
        assert any("metrics.jsonl: 9 line(s)" in d for d in analysis["data_quality"]["damage"])

    def test_a_bad_line_in_the_middle_is_one_line(self, run, capsys):
        _append(run / "events.jsonl", "{not json\n" + '{"t_ns": 1, "type": "x"}\n')
        cli(capsys, "analyze", run).one_line_error("events.jsonl", "is not valid JSON")

    def test_a_symlink_loop_in_place_of_events(self, run, capsys):
        (run / "events.jsonl").unlink()
        (run / "events.jsonl").symlink_to(run / "events.jsonl")
        answer = cli(capsys, "analyze", run, "--quiet")
        assert answer.code in (0, 2) and "Traceback" not in answer.err


class TestRunJson:
    @pytest.mark.parametrize(
        ("change", "says"),
        [({"t0_ns": 10**30}, "not valid JSON"), ({"t0_ns": -5}, "t0_ns"),
         ({"t0_ns": "soon"}, "t0_ns"), ({"workers": {"lost": [{"t_ns": -1}]}}, "workers.lost[0]"),
         ({"schema_version": "x" * 1000}, "schema_version")],
    )  # fmt: skip
    def test_impossible_values_are_one_line(self, run, change, says, capsys):
        meta = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**meta, **change}))
        line = cli(capsys, "analyze", run).one_line_error("run.json", says)
        assert len(line) < 400

    @pytest.mark.parametrize(
        "text", ['{"a": ' * 100_000 + "1" + "}" * 100_000, '{"t0_ns": NaN}', "\xff\xfe"]
    )
    def test_unparseable_is_one_line(self, run, text, capsys):
        (run / "run.json").write_bytes(text.encode("latin-1"))
        cli(capsys, "analyze", run).one_line_error("run.json", "not valid JSON")

    def test_too_large_is_one_line(self, run, capsys):
        with open(run / "run.json", "ab") as fh:
            fh.truncate(70 << 20)
        cli(capsys, "analyze", run).one_line_error("run.json", "more than")

    def test_a_symlink_loop(self, run, capsys):
        (run / "run.json").unlink()
        (run / "run.json").symlink_to(run / "run.json")
        cli(capsys, "analyze", run).one_line_error("run.json")
        with pytest.raises(RunDirError):
            read_meta(run)


def test_a_deeply_nested_ledger_is_skipped_and_named(run, capsys):
    (run / "server").mkdir(exist_ok=True)
    (run / "server" / "ledger.json").write_text("[" * 100_000 + "]" * 100_000)
    _partial_analysis(capsys, run, "ledger.json")


def test_record_dtype_is_what_the_corpus_assumes():
    assert RECORD_DTYPE.itemsize == 40
