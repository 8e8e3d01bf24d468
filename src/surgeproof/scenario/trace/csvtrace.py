"""A CSV time series (a timestamp column and a value column) read into a Trace."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.numbers import parse_number
from surgeproof.scenario.trace.grid import Sample, to_grid
from surgeproof.scenario.trace.series import KST, UTC, Trace, parse_zone
from surgeproof.scenario.trace.timestamps import parse_timestamp
from surgeproof.scenario.yamlfile import display_path

#: Value columns picked without being named, in this order of preference.
VALUE_NAMES = ("value", "count", "requests", "sessions", "users")


def read_csv_trace(
    path: str | Path,
    time_column: str | None = None,
    value_column: str | None = None,
    tz: str | None = None,
    duplicates: str = "error",
    gaps: str = "interpolate",
    skip_bad_rows: bool = False,
) -> Trace:
    """Read ``path``; bad rows are errors naming the line unless ``skip_bad_rows``."""
    source = display_path(path)
    try:
        # utf-8-sig: exports from spreadsheets and some APIs start with a byte-order mark
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, "", f"not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise ScenarioError(source, "", f"not CSV: {exc}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ScenarioError(source, "line 1", "expected a header row naming the columns")
    header = [cell.strip() for cell in rows[0]]
    t_col = _column(header, time_column, source, "time", default=_time_default(header))
    v_default = _value_default(header, t_col, source) if value_column is None else -1
    v_col = _column(header, value_column, source, "value", default=v_default)
    stated_zone = parse_zone(tz) if tz else None
    header_zone = _zone_from_header(header[t_col])
    naive_zone = stated_zone or header_zone or UTC
    samples: list[Sample] = []
    skipped: list[int] = []
    stated_any = naive_any = False
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) <= max(t_col, v_col):
                raise ValueError(f"expected {len(header)} cells, got {len(row)}")
            moment, stated = parse_timestamp(row[t_col], naive_zone)
            value = _number(row[v_col], header[v_col])
        except ValueError as exc:
            if skip_bad_rows:
                skipped.append(n)
                continue
            raise ScenarioError(source, f"line {n}", str(exc)) from None
        stated_any |= stated
        naive_any |= not stated
        samples.append(Sample(moment, value, n))
    if stated_any and naive_any:
        raise ScenarioError(source, "", "some timestamps state a time zone and some do not")
    start, step, values, notes = to_grid(samples, source, None, duplicates, gaps)
    if skipped:
        notes.insert(0, f"{len(skipped)} bad rows skipped (lines {_lines(skipped)})")
    if stated_any:
        tz_note = f"stated in the timestamps ({start.strftime('%z')})"
    elif stated_zone:
        tz_note = f"{tz} (given with --tz)"
    elif header_zone:
        tz_note = (
            f"{'KST' if header_zone is KST else 'UTC'} (inferred from column {header[t_col]!r})"
        )
    else:
        tz_note = "UTC (assumed: the timestamps carry no offset; pass --tz to state it)"
    return Trace(source, start, step, tuple(values), tz_note, tuple(notes))


def _column(header: list[str], wanted: str | None, source: str, what: str, default: int) -> int:
    if wanted is None:
        return default
    if wanted in header:
        return header.index(wanted)
    lowered = [h.lower() for h in header]
    if wanted.lower() in lowered:
        return lowered.index(wanted.lower())
    raise ScenarioError(
        source, "line 1", f"no {what} column {wanted!r}; columns are {', '.join(header)}"
    )


def _time_default(header: list[str]) -> int:
    for i, name in enumerate(header):
        if name.lower().startswith(("timestamp", "time", "date")):
            return i
    return 0


def _value_default(header: list[str], t_col: int, source: str) -> int:
    for name in VALUE_NAMES:
        for i, h in enumerate(header):
            if h.lower() == name:
                return i
    others = [i for i in range(len(header)) if i != t_col]
    if len(others) == 1:
        return others[0]
    raise ScenarioError(
        source,
        "line 1",
        f"several value columns ({', '.join(header[i] for i in others)}); choose one with "
        "--value-column",
    )


def _zone_from_header(name: str) -> object | None:
    lowered = name.lower()
    if "kst" in lowered or "seoul" in lowered:
        return KST
    if "utc" in lowered or "gmt" in lowered:
        return UTC
    return None


def _number(cell: str, column: str) -> float:
    # Exports pad cells with spaces and may group thousands ("1,234.5"); digits stay ASCII.
    text = cell.strip(" ").replace(",", "") if cell.count(",") and "." in cell else cell.strip(" ")
    try:
        value = parse_number(text)
    except ValueError:
        raise ValueError(f"{column} is not a number: {cell.strip()!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{column} must be a finite number >= 0, got {cell.strip()!r}")
    return value


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:5])
    return shown + (", ..." if len(lines) > 5 else "")
