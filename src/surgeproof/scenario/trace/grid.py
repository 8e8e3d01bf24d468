"""Timestamped samples onto a regular grid: sorting, duplicates, gaps — each one reported."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.units import format_duration

DUPLICATE_POLICIES = ("error", "first", "last", "max", "sum", "mean")
GAP_POLICIES = ("interpolate", "zero", "error")


@dataclass(frozen=True)
class Sample:
    """One input row: when, how much, and the line it came from."""

    t: datetime
    value: float
    line: int


def to_grid(
    samples: Sequence[Sample],
    source: str,
    interval_s: float | None,
    duplicates: str = "error",
    gaps: str = "interpolate",
) -> tuple[datetime, float, list[float], list[str]]:
    """(start, interval_s, values, notes) on a regular grid; ScenarioError naming the line."""
    if len(samples) < 3:
        raise ScenarioError(source, "", f"expected at least 3 data rows, got {len(samples)}")
    notes: list[str] = []
    ordered = sorted(samples, key=lambda s: s.t)
    if ordered != list(samples):
        first = next(b for a, b in itertools.pairwise(samples) if b.t < a.t)
        notes.append(f"rows were not in time order (first at line {first.line}); sorted")
    merged = _merge_duplicates(ordered, source, duplicates, notes)
    if len(merged) < 3:
        raise ScenarioError(source, "", "expected at least 3 distinct timestamps")
    step = interval_s or _common_step(merged)
    start = merged[0].t
    by_slot: dict[int, float] = {}
    for s in merged:
        offset = (s.t - start).total_seconds() / step
        slot = round(offset)
        if abs(offset - slot) > 1e-6:
            raise ScenarioError(
                source,
                f"line {s.line}",
                f"timestamp {s.t.isoformat()} is off the {format_duration(step)} grid "
                f"that starts at {start.isoformat()}",
            )
        by_slot[slot] = s.value
    n = max(by_slot) + 1
    missing = [i for i in range(n) if i not in by_slot]
    if missing:
        longest = _longest_run(missing)
        where = start + timedelta(seconds=missing[0] * step)
        if gaps == "error":
            raise ScenarioError(
                source, "", f"{len(missing)} missing intervals, the first at {where.isoformat()}"
            )
        how = "linearly interpolated" if gaps == "interpolate" else "filled with 0"
        notes.append(
            f"{len(missing)} missing {format_duration(step)} intervals {how} (longest gap "
            f"{format_duration(longest * step)}, first at {where.isoformat()})"
        )
    values = _fill(by_slot, n, gaps)
    return start, step, values, notes


def _merge_duplicates(
    ordered: list[Sample], source: str, policy: str, notes: list[str]
) -> list[Sample]:
    out: list[Sample] = []
    groups: list[list[Sample]] = []
    for s in ordered:
        if groups and groups[-1][0].t == s.t:
            groups[-1].append(s)
        else:
            groups.append([s])
    identical = conflicting = 0
    for group in groups:
        if len(group) == 1:
            out.append(group[0])
            continue
        values = [s.value for s in group]
        if len(set(values)) == 1:
            identical += len(group) - 1
            out.append(group[0])
            continue
        conflicting += 1
        if policy == "error":
            a, b = group[0], group[1]
            raise ScenarioError(
                source,
                f"line {b.line}",
                f"timestamp {b.t.isoformat()} also on line {a.line} with another value "
                f"({b.value:g} vs {a.value:g}); choose --duplicates "
                + "|".join(DUPLICATE_POLICIES[1:]),
            )
        merged = {
            "first": values[0],
            "last": values[-1],
            "max": max(values),
            "sum": sum(values),
            "mean": statistics.fmean(values),
        }[policy]
        out.append(Sample(group[0].t, merged, group[0].line))
    if identical:
        notes.append(f"{identical} duplicate rows with identical values dropped")
    if conflicting:
        notes.append(f"{conflicting} timestamps given twice with different values: took {policy}")
    return out


def _common_step(samples: list[Sample]) -> float:
    # the grid is the smallest spacing: gaps only ever make spacings longer
    return min((b.t - a.t).total_seconds() for a, b in itertools.pairwise(samples))


def _longest_run(indices: list[int]) -> int:
    longest = run = 1
    for a, b in itertools.pairwise(indices):
        run = run + 1 if b == a + 1 else 1
        longest = max(longest, run)
    return longest


def _fill(by_slot: dict[int, float], n: int, gaps: str) -> list[float]:
    known = sorted(by_slot)
    values = [0.0] * n
    for i in known:
        values[i] = by_slot[i]
    if gaps != "interpolate":
        return values
    for a, b in itertools.pairwise(known):
        for i in range(a + 1, b):
            values[i] = by_slot[a] + (by_slot[b] - by_slot[a]) * (i - a) / (b - a)
    return values
