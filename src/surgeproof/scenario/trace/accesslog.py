"""An access log in common or combined log format, counted per interval into a Trace."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.trace.grid import Sample, to_grid
from surgeproof.scenario.trace.series import Trace
from surgeproof.scenario.yamlfile import display_path

# host ident authuser [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.0" 200 2326 ["referer" "agent"]
_LINE = re.compile(
    r'^\S+ \S+ \S+ \[([^\]]+)\] "[^"]*" \d{3} (?:\d+|-)(?: "[^"]*" "[^"]*")?', re.ASCII
)
_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


def read_access_log(
    path: str | Path, interval_s: float = 60.0, skip_bad_rows: bool = False
) -> Trace:
    """Requests per ``interval_s`` from a common/combined log; empty intervals count 0."""
    source = display_path(path)
    if interval_s <= 0:
        raise ScenarioError(source, "--interval", "expected a duration greater than 0")
    buckets: dict[float, tuple[int, int]] = {}  # bucket start (Unix s) → (count, first line)
    skipped: list[int] = []
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                m = _LINE.match(line)
                moment = None
                if m and m.group(1).isascii():  # strptime reads "٠١" as a day too
                    try:
                        moment = datetime.strptime(m.group(1), _TIME_FORMAT)
                    except ValueError:
                        moment = None
                if moment is None:
                    if skip_bad_rows:
                        skipped.append(n)
                        continue
                    reason = "bad time" if m else "not common/combined log format"
                    raise ScenarioError(source, f"line {n}", f"{reason}: {line.strip()[:60]!r}")
                t = moment.timestamp()
                key = t - (t % interval_s)
                count, first = buckets.get(key, (0, n))
                buckets[key] = (count + 1, first)
                zone = moment.tzinfo
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    if not buckets:
        raise ScenarioError(source, "", "no log lines")
    samples = [
        Sample(datetime.fromtimestamp(k, zone), float(c), first)
        for k, (c, first) in sorted(buckets.items())
    ]
    # An interval without log lines really had no requests: zero, not interpolation.
    start, step, values, notes = to_grid(samples, source, interval_s, "error", "zero")
    notes = [n for n in notes if "missing" not in n]
    if skipped:
        notes.insert(0, f"{len(skipped)} unparseable lines skipped (first at line {skipped[0]})")
    tz_note = f"stated in the log ({start.strftime('%z')})"
    return Trace(source, start, step, tuple(values), tz_note, tuple(notes))
