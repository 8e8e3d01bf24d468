"""Access logs in common/combined format, counted per interval."""

import pytest

from surgeproof.scenario import ScenarioError
from surgeproof.scenario.trace import read_access_log

LINE = '10.0.0.{i} - - [03/Dec/2024:22:{m:02d}:{s:02d} +0900] "GET /v1/ticker HTTP/1.1" 200 512'
AGENT = ' "-" "okhttp/4.9"'


def _log(tmp_path, stamps, combined=False):
    lines = [LINE.format(i=i % 200, m=m, s=s) + (AGENT if combined else "") for i, (m, s) in
             enumerate(stamps)]  # fmt: skip
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_requests_per_minute_with_empty_minutes_as_zero(tmp_path):
    stamps = [(20, 1), (20, 30), (20, 59), (21, 0), (23, 5)]
    trace = read_access_log(_log(tmp_path, stamps, combined=True))
    assert trace.values == (3, 1, 0, 1)
    assert trace.start.isoformat() == "2024-12-03T22:20:00+09:00"
    assert trace.tz_note == "stated in the log (+0900)"


def test_other_intervals(tmp_path):
    stamps = [(20, s) for s in range(0, 60, 5)]
    trace = read_access_log(_log(tmp_path, stamps), interval_s=15)
    assert trace.values == (3, 3, 3, 3)


def test_a_line_that_is_not_a_log_line_is_named(tmp_path):
    path = _log(tmp_path, [(20, 1), (21, 2), (22, 3)])
    path.write_text(path.read_text() + "garbage here\n")
    with pytest.raises(ScenarioError, match=r"access\.log: line 4: not common/combined log format"):
        read_access_log(path)
    trace = read_access_log(path, skip_bad_rows=True)
    assert trace.values == (1, 1, 1)
    assert trace.notes == ("1 unparseable lines skipped (first at line 4)",)
