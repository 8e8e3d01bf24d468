"""CSV traces: BOM, zones, order, duplicates, gaps, bad cells: each handled or named."""

import pytest

from surgeproof.scenario import ScenarioError
from surgeproof.scenario.trace import read_csv_trace


def _csv(tmp_path, text: str, name: str = "t.csv", bom: bool = False):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


ROWS = "".join(f"2024-12-03 13:{m:02d}:00,{m * 10}\n" for m in range(5))


def test_bom_and_naive_utc_timestamps(tmp_path):
    trace = read_csv_trace(_csv(tmp_path, "timestamp,volume\n" + ROWS, bom=True))
    assert trace.values == (0, 10, 20, 30, 40)
    assert trace.interval_s == 60
    assert trace.start.isoformat() == "2024-12-03T13:00:00+00:00"
    assert trace.tz_note.startswith("UTC (assumed")


def test_stated_tz_for_naive_timestamps(tmp_path):
    trace = read_csv_trace(_csv(tmp_path, "timestamp,volume\n" + ROWS), tz="KST")
    assert trace.start.isoformat() == "2024-12-03T13:00:00+09:00"
    assert "KST" in trace.tz_note


def test_zone_inferred_from_the_column_name(tmp_path):
    trace = read_csv_trace(_csv(tmp_path, "time_kst,requests\n" + ROWS))
    assert trace.start.utcoffset().total_seconds() == 9 * 3600
    assert "inferred from column 'time_kst'" in trace.tz_note


def test_offsets_in_the_timestamps_are_stated(tmp_path):
    rows = "".join(f"2024-12-03T22:{m:02d}:00+09:00,{m}\n" for m in range(4))
    trace = read_csv_trace(_csv(tmp_path, "timestamp,value\n" + rows))
    assert trace.tz_note.startswith("stated in the timestamps (+0900)")


def test_unix_epoch_seconds(tmp_path):
    rows = "".join(f"{1733230800 + 60 * m},{m}\n" for m in range(4))
    trace = read_csv_trace(_csv(tmp_path, "ts,value\n" + rows))
    assert trace.start.isoformat() == "2024-12-03T13:00:00+00:00"


def test_unsorted_rows_are_sorted_and_reported(tmp_path):
    lines = ROWS.splitlines()
    text = "timestamp,volume\n" + "\n".join([lines[2], lines[0], lines[1], *lines[3:]]) + "\n"
    trace = read_csv_trace(_csv(tmp_path, text))
    assert trace.values == (0, 10, 20, 30, 40)
    assert any("not in time order (first at line 3)" in n for n in trace.notes)


def test_identical_duplicates_are_dropped_and_reported(tmp_path):
    text = "timestamp,volume\n" + ROWS + ROWS.splitlines()[1] + "\n"
    trace = read_csv_trace(_csv(tmp_path, text))
    assert trace.values == (0, 10, 20, 30, 40)
    assert any("1 duplicate rows" in n for n in trace.notes)


def test_conflicting_duplicates_are_an_error_naming_both_lines(tmp_path):
    text = "timestamp,volume\n" + ROWS + "2024-12-03 13:01:00,99\n"
    with pytest.raises(ScenarioError, match=r"t\.csv: line 7: .* also on line 3 .*--duplicates"):
        read_csv_trace(_csv(tmp_path, text))
    trace = read_csv_trace(_csv(tmp_path, text), duplicates="max")
    assert trace.values[1] == 99


def test_gaps_are_interpolated_and_reported(tmp_path):
    lines = ROWS.splitlines()
    text = "timestamp,volume\n" + "\n".join([lines[0], lines[3], lines[4]]) + "\n"
    trace = read_csv_trace(_csv(tmp_path, text), gaps="interpolate")
    assert trace.values == (0, 10, 20, 30, 40)
    assert any("2 missing 1m intervals linearly interpolated" in n for n in trace.notes)
    with pytest.raises(ScenarioError, match="2 missing intervals"):
        read_csv_trace(_csv(tmp_path, text), gaps="error")


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("2024-12-03 13:05:00,abc", r"t\.csv: line 7: volume is not a number: 'abc'"),
        ("2024-12-03 13:05:00,-3", r"line 7: volume must be a finite number >= 0"),
        ("yesterday,5", r"line 7: 'yesterday' is not an ISO 8601 time"),
        ("2024-12-03 13:05:00", r"line 7: expected 2 cells, got 1"),
        ("2024-12-03 13:05:30,5", r"line 7: timestamp .* is off the 1m grid"),
    ],
)
def test_bad_rows_name_file_line_and_reason(tmp_path, bad_row, message):
    text = "timestamp,volume\n" + ROWS + bad_row + "\n"
    with pytest.raises(ScenarioError, match=message):
        read_csv_trace(_csv(tmp_path, text))


def test_bad_rows_can_be_skipped_and_are_reported(tmp_path):
    text = "timestamp,volume\n" + ROWS + "2024-12-03 13:05:00,n/a\n"
    trace = read_csv_trace(_csv(tmp_path, text), skip_bad_rows=True)
    assert len(trace.values) == 5
    assert any("1 bad rows skipped (lines 7)" in n for n in trace.notes)


def test_several_value_columns_need_a_choice(tmp_path):
    path = _csv(tmp_path, "timestamp,open,volume\n2024-12-03 13:00:00,1,2\n")
    with pytest.raises(ScenarioError, match=r"several value columns .*--value-column"):
        read_csv_trace(path)
    with pytest.raises(ScenarioError, match="no value column 'vol'; columns are"):
        read_csv_trace(path, value_column="vol")


def test_mixed_zone_and_naive_timestamps_are_refused(tmp_path):
    text = "timestamp,v\n2024-12-03 13:00:00,1\n2024-12-03T13:01:00Z,2\n2024-12-03 13:02:00,3\n"
    with pytest.raises(ScenarioError, match="some timestamps state a time zone"):
        read_csv_trace(_csv(tmp_path, text))


def test_the_shipped_trace_reads_whole():
    from surgeproof.scenario.catalog import scenarios_dir

    trace = read_csv_trace(
        scenarios_dir() / "traces" / "btc-usdt-1m-2024-12-03-night.csv", value_column="volume"
    )
    assert len(trace.values) == 540 and trace.notes == ()
    assert max(trace.values) == pytest.approx(295.08688)
