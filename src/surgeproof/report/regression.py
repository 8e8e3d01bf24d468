"""Regression against an accepted earlier run, and the refusal to compare unlike runs.

Two runs are comparable when they replayed the same scenario (as resolved: same phases, users,
durations), at the same scales, under the same load model, against the same target
configuration. A different port of the embedded exchange is the same target; a different capacity
configuration is not.
"""

from __future__ import annotations

from typing import Any

from surgeproof.analysis.contract import Analysis, as_analysis
from surgeproof.report.checks import Check

ORIGIN = "--baseline"


class Incomparable(Exception):
    """The baseline was made under other conditions; ``str(e)`` says which."""


def check_comparable(meta: dict[str, Any], base_meta: dict[str, Any]) -> None:
    """Raise Incomparable naming every condition that differs between run and baseline."""
    diffs: list[str] = []
    for key, what in (("scenario_name", "scenario"), ("profile_name", "capacity profile")):
        if meta.get(key) != base_meta.get(key):
            diffs.append(f"{what} differs ({base_meta.get(key)!r} vs {meta.get(key)!r})")
    if not diffs and meta.get("scenario") != base_meta.get("scenario"):
        where = first_difference(base_meta.get("scenario"), meta.get("scenario"), "scenario")
        diffs.append(f"scenario as run differs at {where}")
    scale, base_scale = meta.get("scale") or {}, base_meta.get("scale") or {}
    for key in ("user_scale", "time_scale"):
        if _num(scale.get(key)) != _num(base_scale.get(key)):
            diffs.append(f"scale differs ({key} {base_scale.get(key)} vs {scale.get(key)})")
    if meta.get("load_model") != base_meta.get("load_model"):
        diffs.append(
            f"load model differs ({base_meta.get('load_model')} vs {meta.get('load_model')})"
        )
    target, base_target = target_identity(meta), target_identity(base_meta)
    if target != base_target:
        where = first_difference(base_target, target, "target")
        diffs.append(f"target configuration differs at {where}")
    if diffs:
        raise Incomparable("; ".join(diffs))


def target_identity(meta: dict[str, Any]) -> dict[str, Any]:
    """What makes two targets the same: the config; for a real target also its URL."""
    target = meta.get("target") or {}
    identity = {"embedded": bool(target.get("embedded")), "config": target.get("config")}
    if not target.get("embedded"):
        identity["url"] = target.get("url")
    return identity


def first_difference(old: Any, new: Any, path: str) -> str:
    """``path.key[2].users: 300 vs 400``: the first place two JSON values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                return first_difference(old.get(key), new.get(key), f"{path}.{key}")
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{i}]")
    return f"{path}: {_short(old)} vs {_short(new)}"


def regression_checks(
    analysis: dict[str, Any], baseline: dict[str, Any], tolerance: float, baseline_id: str
) -> list[Check]:
    """Ceiling and peak throughput may fall, whole-run p99 per group may rise, by ``tolerance``."""
    run, base = as_analysis(analysis), as_analysis(baseline)
    checks = []
    tol = f"{tolerance:.0%}" if tolerance * 100 == int(tolerance * 100) else f"{tolerance:.2%}"
    against = f"baseline {baseline_id}"

    def lower_is_worse(name: str, new: float | None, old: float | None, unit: str) -> None:
        if old is None:
            return
        floor = old * (1 - tolerance)
        limit = f">= {floor:,.1f}{unit} ({against}: {old:,.1f}{unit}, -{tol})"
        if new is None:
            checks.append(Check("regression", name, False, "none", limit, ORIGIN, "not measured"))
            return
        note = "" if new >= floor else f"{(new - old) / old:+.1%} against the baseline"
        checks.append(
            Check("regression", name, new >= floor, f"{new:,.1f}{unit}", limit, ORIGIN, note)
        )

    lower_is_worse(
        "ceiling not below baseline",
        run.ceiling.real.last_pass_users,
        base.ceiling.real.last_pass_users,
        " real " + run.real_unit,
    )
    lower_is_worse(
        "peak throughput not below baseline",
        _peak_rps(run),
        _peak_rps(base),
        " req/s",
    )
    groups, base_groups = run.overall.groups, base.overall.groups
    for group in sorted(set(groups) & set(base_groups)):
        new = groups[group].latency_ms.get("p99")
        old = base_groups[group].latency_ms.get("p99")
        if new is None or old is None:
            continue
        ceiling = old * (1 + tolerance)
        passed = new <= ceiling
        note = "" if passed else f"{(new - old) / old:+.1%} against the baseline"
        checks.append(
            Check(
                "regression",
                f"{group} p99 not above baseline (whole run)",
                passed,
                f"{new:,.1f} ms",
                f"<= {ceiling:,.1f} ms ({against}: {old:,.1f} ms, +{tol})",
                ORIGIN,
                note,
            )
        )
    return checks


def _peak_rps(analysis: Analysis) -> float | None:
    """Highest achieved throughput of a conclusive steady-state window."""
    rates = [lv.achieved_rps for lv in analysis.levels if lv.verdict != "inconclusive"]
    return max(rates) if rates else None


def _num(value: Any) -> float | None:
    try:
        return round(float(value), 12)
    except (TypeError, ValueError):
        return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
