"""The short human summary ``surgeproof analyze`` prints (also stored in analysis.json)."""

from __future__ import annotations

from typing import Any

from surgeproof.analysis import answer
from surgeproof.analysis.contract import as_analysis
from surgeproof.analysis.gateway_outages import gateway_outage_sentence
from surgeproof.analysis.outages import outage_sentence

#: The summary mentions re-sends when they added a fifth to the run's load, or doubled it in one
#: window. Below that they are a minor share of what the target saw (at most 1 call in 6) and
#: belong in the report; a doubling in one window is what turns an overload into an outage
#: (Binance, Feb 2020) even when the run as a whole was barely amplified.
SUMMARY_FACTOR = 1.2
SUMMARY_PEAK_FACTOR = 2.0


def summary_lines(a: dict[str, Any]) -> list[str]:
    """The answer first, each thing once, in the report's order: verdict and bracket, scale,
    the levels that make the bracket, requirements, headroom, what was not judged, breaches,
    model estimates that add to the bracket, then faults, retries, reconciliation and data."""
    typed = as_analysis(a)  # read through the contract once for the answer's sentences
    lines = [answer.headline(typed)]
    scale = answer.scale_line(typed)
    if scale:
        lines.append(f"scale: {scale}")
    bracket = answer.bracket_line(typed)
    if bracket:
        lines.append(bracket)
    for word, text in answer.requirement_lines(typed):
        lines.append(f"requirement {word}: {text}")
    headroom = answer.headroom_items(typed)
    if headroom:
        lines.append(
            "headroom: " + "; ".join(f"{label} ({figure}) {h}" for label, figure, h in headroom)
        )
    not_judged = answer.not_judged_line(typed)
    if not_judged:
        lines.append(f"not judged: {not_judged}")
    inc = a["incidents"]
    if inc["breach_windows"]:
        o = inc["orders"]
        n = len(inc["breach_windows"])
        lines.append(
            f"incidents: {n} SLO-breach window{'s' if n > 1 else ''}, "
            f"{inc['total_breach_s']:.0f} s in all; order submissions failed: {o['failed']} "
            f"(timed out: {o['timed_out']})"
        )
    if inc.get("breach_note"):
        lines.append(f"breaches: {inc['breach_note']}")
    lines.extend(answer.model_lines(typed))
    g = a["generator"]
    if g["bottleneck"]:
        lines.append(f"generator: {g['statement']}")
    for outage in inc.get("target_outages") or []:
        lines.append(f"outage: {outage_sentence(outage)}")
    for outage in inc.get("gateway_outages") or []:
        lines.append(f"gateway outage: {gateway_outage_sentence(outage)}")
    for record in (a.get("recovery") or {}).get("faults") or []:
        lines.append(f"recovery: {record['sentence']}")
    retries = retries_line(a.get("amplification"))
    if retries:
        lines.append(retries)
    for w in a["data_quality"].get("shortfall_windows") or []:
        lines.append(f"worker lost: {shortfall_sentence(w)}")
    r = a["reconciliation"]
    if r["available"]:
        status = (
            r.get("status") or {True: "passed", False: "failed", None: "incomplete"}[r["passed"]]
        )
        word = {"failed": "FAILED", "partial": "PARTIAL"}.get(status, status)
        lines.append(f"reconciliation {word}: {r['note']}")
    lookups = r.get("order_status") or {}
    if lookups.get("available") and lookups.get("acknowledged"):
        word = {"failed": "FAILED", "incomplete": "INCOMPLETE"}.get(lookups["status"], "passed")
        lines.append(f"orders looked up {word}: {lookups['note']}")
    dq = a["data_quality"]
    if dq["partial"]:
        lines.append(f"data: PARTIAL: {dq['partial_reason']}")
    if dq["precision"] != "exact":
        lines.append("data: reduced precision: " + "; ".join(dq["precision_notes"][:1]))
    for caveat in dq["caveats"]:
        lines.append(f"caveat: {caveat}")
    return lines


def shortfall_sentence(w: dict[str, Any]) -> str:
    """``worker-a1 (process exit): offered load short 1.4 s from t=6.2 s; levels: hold``."""
    how = f" ({w['detected_by']})" if w.get("detected_by") else ""
    span = (
        f"offered load short {w['short_s']:.1f} s from t={w['t_start_s']:.1f} s"
        if w.get("short_s") is not None
        else f"offered load short from t={w['t_start_s']:.1f} s to the end of the run"
    )
    levels = w.get("levels") or []
    hit = f"; inconclusive levels: {', '.join(levels)}" if levels else ""
    return f"{w['source']}{how}: {span}{hit}"


def retries_line(amp: dict[str, Any] | None) -> str | None:
    """``retries: re-sends added 38% to the HTTP calls sent (1.38×), peak 2.10× at t=312 s; 61%
    of re-sends failed again``, when the amplification is large enough to matter; else None."""
    http = (amp or {}).get("http") or {}
    factor, peak = http.get("factor"), http.get("peak")
    peak_factor = peak["factor"] if peak else None
    large = (factor is not None and factor >= SUMMARY_FACTOR) or (
        peak_factor is not None and peak_factor >= SUMMARY_PEAK_FACTOR
    )
    if not large:
        return None
    line = f"retries: re-sends added {factor - 1:.0%} to the HTTP calls sent ({factor:.2f}×)"
    if peak:
        line += f", peak {peak_factor:.2f}× at t={peak['t_s']:.0f} s"
    failed = http.get("resends_failed_ratio")
    if failed is not None:
        line += f"; {failed:.0%} of re-sends failed again"
    return line
