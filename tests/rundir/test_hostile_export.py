"""``surgeproof export`` against crafted run directories: links planted where it reads or writes,
corrupt timeline.jsonl and analysis.json. Each case ends in one line — a refusal with exit 2, or
a warning naming the file and what was done instead — never a traceback; a refused export leaves
its output folder exactly as it was (no half of a table, no temporary file), and a sentinel
folder outside the run directory is untouched."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from sentinel import Sentinel, refused, snapshot, surgeproof
from surgeproof.analysis import analyze_run

from .test_export import T0, small_run

TABLES = ["events", "records", "series", "series_groups", "timeline"]


class Case:
    """A small two-source run, exported once (the previous export a refusal must not touch)."""

    def __init__(self, tmp_path, analysed: bool = False, exported: bool = True) -> None:
        self.sentinel = Sentinel(tmp_path / "sentinel")
        self.run = small_run(tmp_path / "run")
        if analysed:
            analysis = analyze_run(self.run)
            (self.run / "analysis.json").write_text(json.dumps(analysis))
        self.out = self.run / "export"
        if exported:
            done = surgeproof("export", self.run)
            assert done.returncode == 0, done.stderr
            assert sorted(p.stem for p in self.out.iterdir()) == TABLES

    def export(self, *extra: str):
        self.out_before = snapshot(self.out) if self.out.is_dir() else None
        return surgeproof("export", self.run, *extra)

    def assert_output_unchanged(self) -> None:
        assert (snapshot(self.out) if self.out.is_dir() else None) == self.out_before
        self.sentinel.assert_unchanged()

    def warnings(self, done) -> list[str]:
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        return [line for line in done.stdout.splitlines() if " warning: " in line]


@pytest.fixture
def case(tmp_path):
    return Case(tmp_path)


# -- links where it writes ----------------------------------------------------------------


@pytest.mark.parametrize("table", ["records", "timeline"])
def test_a_link_at_a_tables_final_name_is_refused_and_nothing_is_half_written(case, table):
    """timeline.parquet is staged after records.parquet: refusing it must not leave a new
    records.parquet (or its temporary file) behind."""
    final = case.out / f"{table}.parquet"
    final.unlink()
    final.symlink_to(case.sentinel.absent)
    refused(
        case.export(),
        "export",
        f"export --out: {final} is a symbolic link; it is not replaced",
    )
    case.assert_output_unchanged()
    assert not case.sentinel.absent.exists()


def test_a_link_planted_at_the_old_temporary_name_is_never_written_through(case):
    """Tables are staged under fresh names created exclusively, so a link planted at
    ``records.parquet.tmp`` (the name the export once used) is never opened."""
    planted = case.out / "records.parquet.tmp"
    planted.symlink_to(case.sentinel.passwd)
    done = case.export()
    assert done.returncode == 0, done.stderr
    assert planted.is_symlink() and planted.readlink() == case.sentinel.passwd
    assert sorted(p.name for p in case.out.iterdir()) == sorted(
        [f"{t}.parquet" for t in TABLES] + ["records.parquet.tmp"]
    )
    case.sentinel.assert_unchanged()


def test_an_output_folder_that_is_a_link_is_not_followed(case):
    for p in case.out.iterdir():
        p.unlink()
    case.out.rmdir()
    case.out.symlink_to(case.sentinel.path / "folder")
    refused(
        case.export(),
        "export",
        f"export --out: {case.out} is a symbolic link; links are not followed",
    )
    case.sentinel.assert_unchanged()


# -- links where it reads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["records/worker-a.bin", "records/worker-a.names.jsonl", "events.jsonl", "timeline.jsonl"],
)
def test_a_run_file_that_is_a_link_out_of_the_run_is_not_read(case, name):
    path = case.run / name
    path.unlink()
    path.symlink_to(case.sentinel.passwd)
    refused(
        case.export(),
        "export",
        f"{path}: cannot read (a symbolic link; links are not followed)",
    )
    case.assert_output_unchanged()


def test_an_analysis_json_that_is_a_link_is_not_read(tmp_path):
    case = Case(tmp_path, analysed=True)
    path = case.run / "analysis.json"
    path.unlink()
    path.symlink_to(case.sentinel.passwd)
    refused(
        case.export(),
        "export",
        f"run directory: {path} is a symbolic link; links are not followed",
    )
    case.assert_output_unchanged()


def test_an_order_journal_that_is_a_link_out_of_the_run_is_said_and_not_read(case):
    (case.run / "orders").symlink_to(case.sentinel.path / "folder")
    (case.sentinel.path / "folder" / "worker-a.jsonl").write_text(
        json.dumps({"action": "limit_order", "order_id": "planted", "outcome": "ok"}) + "\n"
    )
    case.sentinel.before = case.sentinel.snapshot()
    done = case.export()
    assert case.warnings(done) == ["surgeproof export: warning: orders: a symbolic link, not read"]
    assert pq.read_table(case.out / "order_ledger.parquet").num_rows == 0
    case.sentinel.assert_unchanged()


def test_a_corrupt_order_journal_keeps_every_line_it_can_read(case):
    (case.run / "orders").mkdir()
    (case.run / "orders" / "worker-b.jsonl").symlink_to(case.sentinel.passwd)
    line = {"action": "cancel_order", "order_id": "x", "outcome": "ok", "end_ns": T0 + 5}
    (case.run / "orders" / "worker-a.jsonl").write_text(
        "\n".join([json.dumps(line), "{not json", '{"action": [1]}', json.dumps(line), ""])
    )
    done = case.export()
    assert case.warnings(done) == [
        "surgeproof export: warning: orders/worker-a.jsonl: 1 line(s) that are not JSON, skipped",
        "surgeproof export: warning: orders/worker-a.jsonl: 1 line(s) with times outside the "
        "run, numbers out of range or fields of the wrong type, skipped",
        "surgeproof export: warning: orders/worker-b.jsonl: a symbolic link, not read",
    ]
    ledger = pq.read_table(case.out / "order_ledger.parquet").to_pylist()
    assert [(r["source"], r["action"], r["order_id"]) for r in ledger] == [
        ("worker-a", "cancel_order", "x")
    ] * 2
    case.sentinel.assert_unchanged()


# -- a corrupt timeline -------------------------------------------------------------------


def _timeline(case: Case, *rows: str) -> None:
    with open(case.run / "timeline.jsonl", "a") as f:
        f.writelines(row + "\n" for row in rows)


def test_a_timeline_line_that_is_not_json_in_the_middle_is_refused(case):
    _timeline(case, "{not json", json.dumps({"t_ns": T0 + 3, "source": "worker-a"}))
    refused(case.export(), "export", f"{case.run / 'timeline.jsonl'}: line 3 is not valid JSON")
    case.assert_output_unchanged()


def test_an_endless_timeline_line_is_refused_without_reading_it_whole(case):
    with open(case.run / "timeline.jsonl", "ab") as f:
        f.truncate(8 << 30)  # 8 GiB of zeros and no newline, a few kilobytes on disk
    refused(
        case.export(),
        "export",
        f"{case.run / 'timeline.jsonl'}: line 3 is longer than 16,777,216 characters "
        "(no line of a run directory is)",
    )
    case.assert_output_unchanged()


def test_timeline_values_of_the_wrong_type_are_null_and_said(case):
    _timeline(
        case,
        json.dumps({"t_ns": T0 + 3, "source": "worker-a", "active_users": "many"}),
        json.dumps({"t_ns": T0 + 4, "source": {"forged": 1}, "cpu_percent": [1, 2]}),
        json.dumps({"t_ns": T0 + 5, "source": "worker-b", "time": "noon", "ws_sessions": True}),
    )
    done = case.export()
    assert case.warnings(done) == [
        "surgeproof export: warning: timeline.jsonl: source: values of several types, exported "
        "as text (JSON)",
        "surgeproof export: warning: timeline.jsonl: active_users: 1 value(s) that are not "
        "numbers exported as null",
        "surgeproof export: warning: timeline.jsonl: cpu_percent: values of several types, "
        "exported as text (JSON)",
        "surgeproof export: warning: timeline.jsonl: ws_sessions: values of several types, "
        "exported as text (JSON)",
    ]
    timeline = pq.read_table(case.out / "timeline.parquet").to_pylist()
    assert [r["active_users"] for r in timeline] == [6, 6, None, None, None]
    assert timeline[3]["source"] == '{"forged": 1}'
    # A field named like a column the export fills never replaces it.
    assert [r["time_"] for r in timeline][-1] == "noon"
    assert timeline[-1]["time"].timestamp() * 1e9 == pytest.approx(T0 + 5, abs=1e3)
    case.sentinel.assert_unchanged()


def test_a_timeline_with_a_new_field_on_every_line_is_bounded(case):
    _timeline(case, *(json.dumps({"t_ns": T0 + 3, f"f{i}": i}) for i in range(400)))
    done = case.export()
    assert case.warnings(done) == [
        "surgeproof export: warning: timeline.jsonl: 149 field(s) beyond the first 256 left out"
    ]
    assert len(pq.read_schema(case.out / "timeline.parquet")) == 256
    case.sentinel.assert_unchanged()


# -- a corrupt analysis.json --------------------------------------------------------------


def _corrupt(case: Case, change) -> None:
    path = case.run / "analysis.json"
    analysis = json.loads(path.read_text())
    change(analysis["timeseries"])
    path.write_text(json.dumps(analysis))


CORRUPT = {
    "start_ns": (
        lambda ts: ts["start_ns"].__setitem__(1, "soon"),
        "timeseries.start_ns is not a list of Unix-ns times",
    ),
    "window_s": (
        lambda ts: ts.__setitem__("window_s", "1s"),
        "timeseries.window_s is not a positive number",
    ),
    "groups": (
        lambda ts: ts.__setitem__("groups", [1, 2]),
        "timeseries.groups is not an object of objects",
    ),
    "a group": (
        lambda ts: ts["groups"].__setitem__("orders", "x"),
        "timeseries.groups is not an object of objects",
    ),
    "many groups": (
        lambda ts: ts["groups"].update({f"g{i}": {"count": [1]} for i in range(100)}),
        "timeseries.groups has 104 groups (at most 64)",
    ),
    "many group columns": (
        lambda ts: ts["groups"].update({f"g{i}": {f"c{i}": [1]} for i in range(60)}),
        "timeseries.groups has 70 columns (at most 64)",
    ),
}


@pytest.mark.parametrize("what", CORRUPT)
def test_an_analysis_json_that_cannot_be_exported_is_replaced_by_the_analysis(tmp_path, what):
    case = Case(tmp_path, analysed=True, exported=False)
    change, why = CORRUPT[what]
    _corrupt(case, change)
    done = case.export()
    assert case.warnings(done) == [
        f"surgeproof export: warning: {case.run / 'analysis.json'}: not used ({why}); series "
        "computed from the records"
    ]
    assert done.stdout.endswith("per-window series from computed (surgeproof analyze defaults)\n")
    assert pq.read_metadata(case.out / "series.parquet").num_rows == 5  # the run's 5 windows
    case.sentinel.assert_unchanged()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "{not json",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("[" * 100_000 + "]" * 100_000, "maximum recursion depth exceeded"),
        ('{"timeseries": {"start_ns": [NaN]}}', "NaN is not a number analysis.json holds"),
        ("[1, 2]", "not a JSON object"),
        ('{"input": {"run_id": "other"}}', "it is the analysis of run 'other', not of 'small'"),
    ],
)
def test_an_analysis_json_that_is_not_this_runs_json_is_replaced(case, text, why):
    (case.run / "analysis.json").write_text(text)
    done = case.export()
    [warning] = case.warnings(done)
    assert warning.startswith(
        f"surgeproof export: warning: {case.run / 'analysis.json'}: not used ({why}"
    )
    assert warning.endswith("; series computed from the records")
    case.sentinel.assert_unchanged()


def test_a_huge_analysis_json_is_not_read(case):
    with open(case.run / "analysis.json", "wb") as f:
        f.truncate(2 << 30)
    done = case.export()
    assert case.warnings(done) == [
        f"surgeproof export: warning: {case.run / 'analysis.json'}: not used (run directory: "
        f"{case.run / 'analysis.json'}: 2,147,483,648 bytes, more than the 1,073,741,824 "
        "allowed); series computed from the records"
    ]
    case.sentinel.assert_unchanged()


def test_values_of_the_wrong_type_in_a_sound_analysis_json_are_null_and_said(tmp_path):
    case = Case(tmp_path, analysed=True, exported=False)

    def change(ts):
        ts["offered_rps"][0] = "lots"
        ts["groups"]["quotation"]["count"][1] = {"x": 1}
        ts["window_index"] = ["forged"] * len(ts["start_ns"])

    _corrupt(case, change)
    done = case.export()
    assert case.warnings(done) == [
        "surgeproof export: warning: analysis.json timeseries: offered_rps: 1 value(s) that are "
        "not numbers exported as null",
    ]
    wide = pq.read_table(case.out / "series.parquet").to_pylist()
    assert [r["window_index"] for r in wide] == [0, 1, 2, 3, 4]
    assert {r["window_index_"] for r in wide} == {"forged"}
    assert wide[0]["offered_rps"] is None
    case.sentinel.assert_unchanged()
