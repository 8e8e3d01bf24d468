"""Analysis of a plain Locust run from its CSV files (``PREFIX_stats.csv``,
``PREFIX_stats_history.csv``, ``PREFIX_failures.csv``), with the reduced precision stated.

Locust users are closed-loop, its percentiles are bucketed and its history percentiles cover a
rolling window; only the cumulative counts (and sums behind the cumulative mean) are exact.
Steps of the user count become levels, judged like a run directory's (``builder``): by the SLOs
the data allow and by the saturation rule for closed-model data.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof.analysis.builder import Measured, build_analysis
from surgeproof.analysis.causes import CAUSES
from surgeproof.analysis.generator import GeneratorHealth, GeneratorTolerance
from surgeproof.analysis.groupstats import ALL_GROUPS, GroupStats
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.levels import LevelMeasure, LevelSpec, LevelVerdict, decide
from surgeproof.analysis.percentiles import PERCENTILES
from surgeproof.analysis.scale import Scale
from surgeproof.analysis.slo import DEFAULT_SLOS, breaks, evaluate
from surgeproof.analysis.timeseries import WINDOW_MIN_SAMPLES
from surgeproof.errors import UserError
from surgeproof.scenario.model import CapacityProfile, Requirement, Slo
from surgeproof.scenario.numbers import parse_number
from surgeproof.scenario.slos import kind_of

#: The one group a Locust CSV has: its Aggregated row (all requests together).
CSV_GROUP = "aggregated"

#: Our percentile keys → Locust's history columns (``p99.9`` → ``99.9%``, ``max`` → ``100%``).
_PCT_COLUMNS = {key: f"{percent:g}%" for key, percent in PERCENTILES}

PRECISION_NOTES = [
    "Locust rounds response times into buckets (e.g. 147→150 ms, 3432→3400 ms): percentiles are "
    "approximate",
    "stats_history has one row per second with Locust's rolling-window percentiles; a step's "
    "percentile here is the highest row of the step, not a percentile of its requests",
    "no per-request data: latency is measured from the actual send, so coordinated omission is "
    "not corrected, and error causes are not separated",
    "throughput and error ratio come from the exact cumulative counts (Total Request/Failure "
    "Count)",
]


def analyze_locust_csv(
    prefix: str | Path,
    *,
    profile: CapacityProfile | None = None,
    slos: Sequence[Slo] | None = None,
    requirements: Sequence[Requirement] | None = None,
    judging: Judging | None = None,
) -> dict[str, Any]:
    """The analysis.json content for a plain Locust run's CSV files."""
    return build_analysis(
        measure_locust_csv(
            prefix, profile=profile, slos=slos, requirements=requirements, judging=judging
        )
    )


def measure_locust_csv(
    prefix: str | Path,
    *,
    profile: CapacityProfile | None = None,
    slos: Sequence[Slo] | None = None,
    requirements: Sequence[Requirement] | None = None,
    judging: Judging | None = None,
) -> Measured:
    """What a plain Locust run's CSV files show: one level per step of the user count."""
    prefix = str(prefix)
    history = _read_csv(Path(f"{prefix}_stats_history.csv"), required=True)
    stats = _read_csv(Path(f"{prefix}_stats.csv"), required=False)
    failures = _read_csv(Path(f"{prefix}_failures.csv"), required=False)
    rows = [r for r in history if r.get("Name") == "Aggregated"]
    if not rows:
        raise UserError(f"{prefix}_stats_history.csv: no 'Aggregated' rows (is it Locust's?)")
    try:
        # Plain ASCII decimal only: Python's float() also reads "١٢٣", "1_000", "inf" and "nan".
        t = np.array([int(parse_number(r["Timestamp"])) for r in rows], dtype=np.int64)
        users = np.array([parse_number(r["User Count"]) for r in rows])
        total = np.array([parse_number(r["Total Request Count"]) for r in rows])
        failed = np.array([parse_number(r["Total Failure Count"]) for r in rows])
    except (KeyError, ValueError, OverflowError) as exc:
        raise UserError(f"{prefix}_stats_history.csv: missing or bad column ({exc})") from None
    mean_ms = np.array([_num(r.get("Total Average Response Time")) for r in rows])
    pct = {k: np.array([_num(r.get(col)) for r in rows]) for k, col in _PCT_COLUMNS.items()}
    rules = judging or Judging()

    caveats = [
        "Locust CSV has no endpoint groups: SLOs on '*' are judged on Locust's Aggregated row "
        "(all requests together)"
    ]
    slo_source = "file" if slos else "default"
    slos = tuple(slos) if slos else DEFAULT_SLOS
    if slo_source == "default":
        caveats.append(
            "no SLOs given (--slo): judged by the default SLOs "
            + ", ".join(str(s) for s in DEFAULT_SLOS)
        )
    judgeable = tuple(s for s in slos if s.group == ALL_GROUPS)
    for s in slos:
        if s.group != ALL_GROUPS:
            caveats.append(f"SLO {s} not judged: Locust CSV has no endpoint groups")

    levels = _steps(t, users, total, failed, mean_ms, pct, judgeable, rules)
    t0_ns = int(t[0]) * 1_000_000_000
    series = _series(t, users, total, failed, pct, judgeable)
    return Measured(
        input={
            "kind": "locust_csv",
            "path": prefix,
            "run_id": None,
            "run_status": "complete",
            "scenario_name": None,
            "profile_name": profile.name if profile else None,
            "load_model": "closed",
            "t0_ns": t0_ns,
            "first_ns": t0_ns,
            "last_ns": int(t[-1]) * 1_000_000_000,
            "duration_s": float(t[-1] - t[0]),
            "records": {
                "total": int(total[-1]),
                "per_source": {},
                "counted": int(total[-1]),
                "missed": None,
                "cancelled": None,
            },
            "window_s": 1.0,
        },
        scale=Scale(),
        slos=slos,
        slo_source=slo_source,
        requirements=tuple(requirements or ()),
        requirement_source="option" if requirements else "none",
        profile=profile,
        profile_source="option" if profile is not None else "none",
        tolerance=GeneratorTolerance(),
        judging=rules,
        window_s=1.0,
        window_min_samples=WINDOW_MIN_SAMPLES,
        closed_model=True,
        levels=levels,
        timeseries=series,
        overall={"groups": _overall(stats)},
        incidents=_incidents(series, failures),
        reconciliation={
            "available": False,
            "lost_acknowledged_orders": None,
            "acknowledged_orders": None,
            "balances_conserved": None,
            "passed": None,
            "details": {},
            "note": "a plain Locust run has no exchange ledger",
            "status": "unavailable",
            "partial_reason": None,
        },
        data_quality={
            "partial": False,
            "partial_reason": None,
            "damage": [],
            "precision": "reduced",
            "precision_notes": list(PRECISION_NOTES),
            "caveats": caveats,
            "shortfall_windows": [],
        },
        generator={
            "late_ratio": None,
            "missed": None,
            "cpu_max_percent": None,
            "sources": {},
            "lost_workers": [],
            "statement": "unknown: Locust CSV carries no generator CPU or send-lag data",
        },
    )


def _read_csv(path: Path, required: bool) -> list[dict[str, str]]:
    if not path.is_file():
        if required:
            raise UserError(f"{path}: missing (expected Locust's --csv output)")
        return []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: not a readable CSV ({exc})") from None


def _num(text: str | None) -> float:
    try:
        return parse_number(text) if text not in (None, "", "N/A") else float("nan")
    except ValueError:
        return float("nan")


def _steps(t, users, total, failed, mean_ms, pct, slos, judging) -> list[LevelVerdict]:
    """One level per run of equal user counts; its first row (the step change) is settling."""
    out: list[LevelVerdict] = []
    i = 0
    while i < len(users):
        j = i
        while j + 1 < len(users) and users[j + 1] == users[i]:
            j += 1
        # Rows i..j share a user count; the interval (i, j] after the first row is steady.
        if users[i] > 0 and j - i >= 1 and t[j] > t[i]:
            out.append(_level(t, users, total, failed, mean_ms, pct, slos, judging, i, j, out))
        i = j + 1
    return out


def _level(t, users, total, failed, mean_ms, pct, slos, judging, i, j, out) -> LevelVerdict:
    reqs = float(total[j] - total[i])
    fails = float(failed[j] - failed[i])
    lat = {k: _max_finite(v[i + 1 : j + 1]) for k, v in pct.items()}
    errors = dict.fromkeys(CAUSES, 0)
    group = GroupStats(
        int(reqs),
        int(reqs - fails),
        errors,
        fails / reqs if reqs else None,
        lat,
        dict.fromkeys(lat),
    )
    # The interval's mean latency from Locust's cumulative mean and count (exact sums).
    mean = None
    if reqs > 0 and np.isfinite(mean_ms[i]) and np.isfinite(mean_ms[j]):
        mean = float((mean_ms[j] * total[j] - mean_ms[i] * total[i]) / reqs)
    m = LevelMeasure(
        records=int(reqs),
        intended=int(reqs),
        sent=int(reqs),
        answered=int(reqs),
        ok=int(reqs - fails),
        groups={CSV_GROUP: group, ALL_GROUPS: group},
        health=GeneratorHealth(int(reqs), 0, 0, {}, None, None),
        median_users=float(users[i]),
        ws_gap_ms=None,
        calls=int(reqs),
        mean_latency_ms=mean,
        active_users=float(users[i]),
    )
    m.breaches, m.unjudged = evaluate(slos, m.groups, judging)
    spec = LevelSpec(
        int(t[i]) * 1_000_000_000,
        int(t[j]) * 1_000_000_000,
        float(users[i]),
        f"step-{len(out) + 1} ({users[i]:g} users)",
    )
    return decide(spec, m, slos, judging)


def _max_finite(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(v.max()) if len(v) else None


def _series(t, users, total, failed, pct, slos) -> dict[str, Any]:
    d_req = np.diff(total, prepend=total[0])
    d_fail = np.diff(failed, prepend=failed[0])
    dt = np.maximum(np.diff(t, prepend=t[0] - 1), 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.where(d_req > 0, d_fail / np.maximum(d_req, 1), np.nan)
    breach = np.zeros(len(t), dtype=bool)
    # The columns the all-groups series offers (a CSV has no per-group rows): what a kind
    # cannot compute from them does not mark windows.
    columns = {"count": d_req, "error_ratio": err, **{f"{k}_ms": v for k, v in pct.items()}}
    for slo in slos:
        v = kind_of(slo).series(slo, columns)
        if v is not None:
            with np.errstate(invalid="ignore"):
                breach |= breaks(slo, v)

    def col(a):
        return [None if not np.isfinite(x) else float(x) for x in a]

    t0 = t[0]
    return {
        "window_s": 1.0,
        "t_s": [float(x - t0) for x in t],
        "start_ns": [int(x) * 1_000_000_000 for x in t],
        "offered_users": col(users),
        "active_users": col(users),
        "offered_rps": col(d_req / dt),
        "achieved_rps": col(d_req / dt),
        "ok_rps": col((d_req - d_fail) / dt),
        "error_ratio": col(err),
        "errors": {},
        "cpu_max_percent": [None] * len(t),
        "breach": [bool(b) for b in breach],
        "groups": {
            ALL_GROUPS: {
                "count": [int(x) for x in d_req],
                "error_ratio": col(err),
                **{f"{k}_ms": col(v) for k, v in pct.items()},
            }
        },
    }


def _incidents(series: dict[str, Any], failures: list[dict[str, str]]) -> dict[str, Any]:
    windows = []
    breach = series["breach"]
    i = 0
    while i < len(breach):
        if breach[i]:
            j = i
            while j + 1 < len(breach) and breach[j + 1]:
                j += 1
            start = series["start_ns"][i]
            end = series["start_ns"][j] + 1_000_000_000
            windows.append(
                {
                    "start_ns": start,
                    "end_ns": end,
                    "t_start_s": series["t_s"][i],
                    "duration_s": (end - start) / 1e9,
                    "slos_broken": [],
                    "peak_offered_users": max(
                        x for x in series["offered_users"][i : j + 1] if x is not None
                    ),
                    "load_fell_ns": None,
                    "recovered": j + 1 < len(breach),
                    "time_to_recover_s": None,
                    "orders": {
                        "submitted": None,
                        "failed": None,
                        "timed_out": None,
                        "by_cause": {},
                    },
                }
            )
            i = j + 1
        else:
            i += 1
    occurrences = sum(
        int(_num(f.get("Occurrences")) or 0)
        for f in failures
        if np.isfinite(_num(f.get("Occurrences")))
    )
    return {
        "breach_windows": windows,
        "total_breach_s": float(sum(w["duration_s"] for w in windows)),
        "orders": {
            "submitted": None,
            "failed": None,
            "timed_out": None,
            "by_cause": {},
            "note": f"Locust CSV does not mark order submissions; {occurrences} failures "
            "in failures.csv",
        },
        "stalls": [],
        "target_outages": [],
        "gateway_outages": [],
    }


def _overall(stats: list[dict[str, str]]) -> dict[str, Any]:
    for row in stats:
        if row.get("Name") == "Aggregated":
            count = int(_num(row.get("Request Count")) or 0)
            fails = int(_num(row.get("Failure Count")) or 0)
            lat = {
                k: (None if not np.isfinite(_num(row.get(c))) else _num(row.get(c)))
                for k, c in _PCT_COLUMNS.items()
            }
            return {
                ALL_GROUPS: {
                    "count": count,
                    "ok": count - fails,
                    "errors": {},
                    "error_ratio": fails / count if count else None,
                    "latency_ms": lat,
                    "service_ms": dict.fromkeys(lat),
                }
            }
    return {}
