"""Analysis of a plain Locust run from its CSV files (``PREFIX_stats.csv``,
``PREFIX_stats_history.csv``, ``PREFIX_failures.csv``), with the reduced precision stated.

Locust users are closed-loop, its percentiles are bucketed and its history percentiles cover a
rolling window; only the cumulative counts are exact. Steps of the user count become levels,
judged by the SLOs the data allow and by the throughput plateau.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof import __version__
from surgeproof.analysis.causes import CAUSES
from surgeproof.analysis.ceiling import (
    apply_closed_model_plateau,
    ceiling_bracket,
    throughput_plateau,
)
from surgeproof.analysis.generator import GeneratorHealth
from surgeproof.analysis.groupstats import ALL_GROUPS, GroupStats
from surgeproof.analysis.headroom import compare_with_profile
from surgeproof.analysis.knee import find_knee
from surgeproof.analysis.levels import LevelVerdict
from surgeproof.analysis.run import ANALYSIS_SCHEMA_VERSION, CLOSED_MODEL_CAVEAT
from surgeproof.analysis.scale import Scale
from surgeproof.analysis.slo import DEFAULT_SLOS, SloBreach, slo_dict
from surgeproof.analysis.summary import summary_lines
from surgeproof.analysis.usl import fit_usl
from surgeproof.analysis.verdict import run_verdict
from surgeproof.errors import UserError
from surgeproof.scenario.model import CapacityProfile, Requirement, Slo

#: Locust history columns → our percentile keys.
_PCT_COLUMNS = {
    "p50": "50%",
    "p90": "90%",
    "p95": "95%",
    "p99": "99%",
    "p99.9": "99.9%",
    "max": "100%",
}

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
) -> dict[str, Any]:
    """The analysis.json content for a plain Locust run's CSV files."""
    prefix = str(prefix)
    history = _read_csv(Path(f"{prefix}_stats_history.csv"), required=True)
    stats = _read_csv(Path(f"{prefix}_stats.csv"), required=False)
    failures = _read_csv(Path(f"{prefix}_failures.csv"), required=False)
    rows = [r for r in history if r.get("Name") == "Aggregated"]
    if not rows:
        raise UserError(f"{prefix}_stats_history.csv: no 'Aggregated' rows (is it Locust's?)")
    try:
        t = np.array([int(float(r["Timestamp"])) for r in rows], dtype=np.int64)
        users = np.array([float(r["User Count"]) for r in rows])
        total = np.array([float(r["Total Request Count"]) for r in rows])
        failed = np.array([float(r["Total Failure Count"]) for r in rows])
    except (KeyError, ValueError) as exc:
        raise UserError(f"{prefix}_stats_history.csv: missing or bad column ({exc})") from None
    pct = {k: np.array([_num(r.get(col)) for r in rows]) for k, col in _PCT_COLUMNS.items()}

    caveats = [CLOSED_MODEL_CAVEAT]
    slo_source = "file" if slos else "default"
    slos = tuple(slos) if slos else DEFAULT_SLOS
    if slo_source == "default":
        caveats.append(
            "no SLOs given (--slo): judged by the default SLOs "
            + ", ".join(str(s) for s in DEFAULT_SLOS)
        )
    judgeable = [s for s in slos if s.group == ALL_GROUPS]
    for s in slos:
        if s.group != ALL_GROUPS:
            caveats.append(f"SLO {s} not judged: Locust CSV has no endpoint groups")

    levels = _steps(t, users, total, failed, pct, judgeable)
    plateau = throughput_plateau(levels)
    apply_closed_model_plateau(levels, plateau)
    scale = Scale()
    ceiling = ceiling_bracket(levels, scale, plateau)
    points = [(v.offered_users, v.achieved_rps) for v in levels if v.verdict != "inconclusive"]
    usl = fit_usl(points)
    comparison = (
        compare_with_profile(
            profile, ceiling["real"]["last_pass_users"], requirements or (), scale, usl
        )
        if profile is not None
        else None
    )
    t0_ns = int(t[0]) * 1_000_000_000
    series = _series(t, users, total, failed, pct, judgeable)
    overall = _overall(stats)
    analysis: dict[str, Any] = {
        "analysis_schema_version": ANALYSIS_SCHEMA_VERSION,
        "generated_at_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "surgeproof_version": __version__,
        "input": {
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
        "scale": scale.to_dict(),
        "slos": [slo_dict(s, slo_source) for s in slos],
        "verdict": run_verdict(levels, ceiling, comparison, scale),
        "ceiling": ceiling,
        "levels": [v.to_dict(t0_ns) for v in levels],
        "usl": usl,
        "knee": find_knee(points),
        "timeseries": series,
        "overall": {"groups": overall},
        "comparison": comparison,
        "incidents": _incidents(series, failures),
        "reconciliation": {
            "available": False,
            "lost_acknowledged_orders": None,
            "acknowledged_orders": None,
            "balances_conserved": None,
            "passed": None,
            "status": "unavailable",
            "partial_reason": None,
            "details": {},
            "note": "a plain Locust run has no exchange ledger",
        },
        "data_quality": {
            "partial": False,
            "partial_reason": None,
            "damage": [],
            "precision": "reduced",
            "precision_notes": list(PRECISION_NOTES),
            "closed_model": True,
            "caveats": caveats,
            "shortfall_windows": [],
        },
        "generator": {
            "bottleneck": False,
            "inconclusive_levels": [],
            "late_ratio": None,
            "missed": None,
            "cpu_max_percent": None,
            "sources": {},
            "lost_workers": [],
            "statement": "unknown: Locust CSV carries no generator CPU or send-lag data",
        },
    }
    analysis["summary"] = summary_lines(analysis)
    return analysis


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
        return float(text) if text not in (None, "", "N/A") else float("nan")
    except ValueError:
        return float("nan")


def _steps(
    t: np.ndarray,
    users: np.ndarray,
    total: np.ndarray,
    failed: np.ndarray,
    pct: dict[str, np.ndarray],
    slos: Sequence[Slo],
) -> list[LevelVerdict]:
    """One level per run of equal user counts; its first row (the step change) is settling."""
    out: list[LevelVerdict] = []
    i = 0
    while i < len(users):
        j = i
        while j + 1 < len(users) and users[j + 1] == users[i]:
            j += 1
        # Rows i..j share a user count; the interval (i, j] after the first row is steady.
        if users[i] > 0 and j - i >= 1 and t[j] > t[i]:
            out.append(_level(t, users, total, failed, pct, slos, i, j, len(out) + 1))
        i = j + 1
    return out


def _level(t, users, total, failed, pct, slos, i, j, n) -> LevelVerdict:
    dt = float(t[j] - t[i])
    reqs = float(total[j] - total[i])
    fails = float(failed[j] - failed[i])
    lat = {k: _max_finite(v[i + 1 : j + 1]) for k, v in pct.items()}
    ratio = fails / reqs if reqs else None
    errors = dict.fromkeys(CAUSES, 0)
    stats = {
        ALL_GROUPS: GroupStats(int(reqs), int(reqs - fails), errors, ratio, lat, dict.fromkeys(lat))
    }
    breaches = []
    for slo in slos:
        value = ratio if slo.metric == "error_ratio" else lat.get(slo.metric)
        if value is not None and value > slo.limit:
            breaches.append(SloBreach(slo, ALL_GROUPS, float(value)))
    verdict = "fail" if breaches else ("pass" if reqs else "inconclusive")
    reasons = [b.describe() for b in breaches] or (
        [f"held every judged SLO at {users[i]:g} users"] if reqs else ["no requests in the step"]
    )
    start_ns = int(t[i]) * 1_000_000_000
    end_ns = int(t[j]) * 1_000_000_000
    health = GeneratorHealth(0, 0, 0, {}, None, None)
    rps = reqs / dt
    return LevelVerdict(
        verdict=verdict,  # type: ignore[arg-type]
        reasons=reasons,
        start_ns=start_ns,
        end_ns=end_ns,
        offered_users=float(users[i]),
        offered_rps=rps,
        sent_rps=rps,
        achieved_rps=rps,
        ok_rps=(reqs - fails) / dt,
        records=int(reqs),
        groups=stats,
        generator=health,
        breaches=breaches,
        label=f"step-{n} ({users[i]:g} users)",
        active_users=float(users[i]),
    )


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
    for slo in slos:
        v = err if slo.metric == "error_ratio" else pct.get(slo.metric)
        if v is not None:
            with np.errstate(invalid="ignore"):
                breach |= v > slo.limit

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
