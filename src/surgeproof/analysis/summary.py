"""The short human summary ``surgeproof analyze`` prints (also stored in analysis.json)."""

from __future__ import annotations

from typing import Any

from surgeproof.analysis.gateway_outages import gateway_outage_sentence
from surgeproof.analysis.outages import outage_sentence

#: The summary mentions re-sends when they added a fifth to the run's load, or doubled it in one
#: window. Below that they are a minor share of what the target saw (at most 1 call in 6) and
#: belong in the report; a doubling in one window is what turns an overload into an outage
#: (Binance, Feb 2020) even when the run as a whole was barely amplified.
SUMMARY_FACTOR = 1.2
SUMMARY_PEAK_FACTOR = 2.0


def summary_lines(a: dict[str, Any]) -> list[str]:
    """A few lines: verdict, bracket, headroom, model estimate, incidents, data quality."""
    v = a["verdict"]
    lines = [f"verdict: {v['status'].upper()} ({v['basis']}): {v['reasons'][0]}"]
    c = a["ceiling"]
    lines.append(f"ceiling ({c['status'].replace('_', ' ')}): {c['statement']}")
    if c["width_ratio"] is not None:
        lines.append(f"bracket width: {c['width_ratio']:.1%} of the last passing level")
    if c["plateau"]["detected"]:
        lines.append(f"plateau: {c['plateau']['note']}")
    knee = a.get("knee") or {}
    if knee.get("users") is not None:
        lines.append(f"knee: {knee['users']:,.1f} users: {knee['note']}")
    comp = a.get("comparison")
    if comp:
        for f in comp["figures"]:
            lines.append(f"vs {f['key']}: {f['sentence']}")
        if comp["model_estimate"]:
            lines.append(comp["model_estimate"]["sentence"])
    # Requirements stated against a profile figure read in the comparison above; the others
    # (regulators' rules, recovery objectives) get a line each, naming the rule's source.
    for r in a.get("requirements") or []:
        if r.get("figure") is None:
            lines.append(requirement_line(r))
    if a["scale"]["scaled"]:
        lines.append(f"scale: {a['scale']['statement']}")
    usl = a["usl"]
    if usl["status"] == "fit":
        ns = f", N* {usl['n_star']:,.0f} users ({usl['label']})" if usl["n_star"] else ""
        if usl.get("withheld"):
            ns = f"; no model peak reported: {usl['withheld']['reason']}"
        lines.append(
            f"USL: σ={usl['sigma']:.4f} κ={usl['kappa']:.6f} λ={usl['lambda_rps']:.2f} req/s"
            f"{ns}, R² {usl['r2']:.3f}"
        )
    else:
        lines.append(f"USL: not fitted: {usl['reason']}")
    g = a["generator"]
    if g["bottleneck"]:
        lines.append(f"generator: {g['statement']}")
    inc = a["incidents"]
    if inc["breach_windows"]:
        o = inc["orders"]
        lines.append(
            f"incidents: {len(inc['breach_windows'])} SLO-breach windows, "
            f"{inc['total_breach_s']:.0f} s in all; order submissions failed: {o['failed']} "
            f"(timed out: {o['timed_out']})"
        )
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


def requirement_line(r: dict[str, Any]) -> str:
    """``requirement sebi: peak: PASS: measured ..., limit ...; note (source: ...)``."""
    status = str(r["status"]).replace("_", " ").upper()
    text = f"requirement {r['text']}: {status}"
    if r.get("measured") or r.get("limit"):
        text += f": measured {r['measured'] or '-'}, limit {r['limit'] or '-'}"
    if r.get("note"):
        text += f"; {r['note']}"
    return f"{text} (source: {r['source']})"
