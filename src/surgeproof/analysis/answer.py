"""The answer in sentences, each said once: what the summary prints and the report's first screen.

One verdict in the reader's unit (real users, or real orders for a profile that counts orders)
with the scale stated once; the bracket with the levels that make it; each requirement with
PASS or FAIL and by how much; the headroom against each reference figure; what was not judged;
the knee and the USL model only when they say something the bracket does not. Every number is
read from the analysis (this module judges nothing).
"""

from __future__ import annotations

from typing import Any


def unit(a: dict[str, Any]) -> str:
    """``real users`` (or ``real orders``); ``users`` for an unscaled run."""
    scale = a.get("scale") or {}
    noun = str(scale.get("unit") or "users")
    return f"real {noun}" if scale.get("scaled") else noun


def real(a: dict[str, Any], simulated: float | None) -> float | None:
    """Simulated users in the reader's unit."""
    if simulated is None:
        return None
    return float(simulated) / float((a.get("scale") or {}).get("user_scale") or 1.0)


def count(n: float | None) -> str:
    """``459,000``; ``175.5`` when a simulated level was fractional."""
    if n is None:
        return "–"
    return f"{n:,.0f}" if abs(n - round(n)) < 0.05 or n >= 1000 else f"{n:,.1f}"


def headline(a: dict[str, Any]) -> str:
    """``FAIL: the ceiling lies between 459,000 and 540,000 real users``."""
    status = str((a.get("verdict") or {}).get("status") or "inconclusive").upper()
    c = a.get("ceiling") or {}
    r = c.get("real") or {}
    lo, hi = r.get("last_pass_users"), r.get("first_fail_users")
    u = unit(a)
    kind = c.get("status")
    if kind == "bracketed":
        said = f"the ceiling lies between {count(lo)} and {count(hi)} {u}"
    elif kind == "lower_bound":
        said = f"the ceiling is at least {count(lo)} {u}: no level measured failed"
    elif kind == "upper_bound":
        said = f"the ceiling is below {count(hi)} {u}: the lowest level measured failed"
    else:
        said = "no ceiling: no steady window could be judged"
    return f"{status}: {said}"


def scale_line(a: dict[str, Any]) -> str | None:
    """The scale and its assumption, once; None for an unscaled run."""
    scale = a.get("scale") or {}
    return str(scale.get("statement")) if scale.get("scaled") else None


def bracket_line(a: dict[str, Any]) -> str | None:
    """``held rebound-plateau at 459,000; failed panic-selling at 540,000: quotation
    error_ratio 23.12% > 1.00%`` (levels named, numbers in the reader's unit)."""
    c = a.get("ceiling") or {}
    parts = []
    lp, ff = c.get("last_pass"), c.get("first_fail")
    if lp:
        parts.append(f"held {lp['label']} at {count(real(a, lp['users']))}")
    if ff:
        why = _reasons(a, ff)
        parts.append(
            f"failed {ff['label']} at {count(real(a, ff['users']))}"
            + (f": {why[0]}" if why else "")
        )
    above = c.get("non_monotonic") or []
    if above:
        held = ", ".join(f"{lv['label']} at {count(real(a, lv['users']))}" for lv in above)
        parts.append(
            f"yet {held} held every SLO above that failure (non-monotonic: the ceiling is "
            "taken below the lowest failure)"
        )
    return "; ".join(parts) or None


#: How a requirement's status reads beside it.
REQUIREMENT_WORDS = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "NOT SHOWN",
    "not_applicable": "N/A",
    "unusable": "UNUSABLE",
}


def requirement_lines(a: dict[str, Any]) -> list[tuple[str, str]]:
    """Each requirement as (``PASS`` | ``FAIL`` | ``NOT SHOWN`` | ``N/A``, what and by how much),
    read from the analysis' one judgement (``requirements``); a requirement on a profile figure
    says by how much the ceiling clears or misses it."""
    figures = {f.get("key"): f for f in (a.get("comparison") or {}).get("figures") or []}
    out = []
    for r in a.get("requirements") or []:
        word = REQUIREMENT_WORDS.get(str(r.get("status")), str(r.get("status")).upper())
        f = figures.get(r.get("figure"))
        req = (f or {}).get("requirement")
        if req and req.get("required"):
            required = float(req["required"])
            what = f"{req['text']} = {count(required)} {unit(a)}"
            ceiling = f.get("ceiling_real")
            if r.get("status") == "inconclusive":
                by = "no conclusive level reached it: measure higher"
            elif ceiling is None:
                by = "no level held the SLOs"
            else:
                gap = float(ceiling) - required
                side = "above" if gap >= 0 else "short"
                by = f"{count(abs(gap))} {side} ({gap / required:+.0%})"
            out.append((word, f"{what}: {by}"))
            continue
        text = str(r.get("name") or r.get("text"))
        if r.get("measured") or r.get("limit"):
            text += f": measured {r.get('measured') or '-'}, limit {r.get('limit') or '-'}"
        if r.get("note"):
            text += f"; {r['note']}"
        out.append((word, f"{text} (source: {r.get('source')})"))
    return out


def headroom_items(a: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(reference, figure, headroom) per reference figure of the profile."""
    out = []
    for f in (a.get("comparison") or {}).get("figures") or []:
        headroom = f.get("headroom")
        figure = f"{float(f['value']):,.0f} {f.get('unit') or ''}".strip()
        if f.get("unit_note"):
            figure += f" ({f['unit_note']})"
        out.append(
            (
                str(f.get("label") or f.get("key")),
                figure,
                "–" if headroom is None else f"{float(headroom):+.0%}",
            )
        )
    return out


def not_judged_line(a: dict[str, Any]) -> str | None:
    """``not judged: shock-login-storm (351,000): too short ...`` — levels that gave no verdict."""
    items = (a.get("ceiling") or {}).get("inconclusive") or []
    if not items:
        return None
    parts = []
    for lv in items:
        why = (lv.get("reasons") or ["no verdict"])[0]
        parts.append(f"{lv['label']} ({count(real(a, lv['users']))}): {why}")
    return "; ".join(parts)


def model_lines(a: dict[str, Any]) -> list[str]:
    """The measured plateau, the knee and the USL peak, each only when it adds to the bracket."""
    out = []
    plateau = (a.get("ceiling") or {}).get("plateau") or {}
    if plateau.get("detected"):
        out.append(f"plateau: {plateau['note']}")
    knee = a.get("knee") or {}
    users = knee.get("users")
    lo, hi = knee.get("last_unsaturated_users"), knee.get("first_saturated_users")
    if users is not None and lo is not None and hi is not None and lo < users < hi:
        out.append(
            f"knee: throughput stops growing near {count(real(a, users))} {unit(a)}, where the "
            f"users' demand meets the highest measured throughput "
            f"({float(knee['throughput_rps']):,.0f} req/s)"
        )
    usl = a.get("usl") or {}
    if usl.get("status") == "fit" and usl.get("n_star_real") is not None:
        where = "beyond the largest load measured" if usl.get("extrapolated") else "measured range"
        out.append(
            f"USL model: successful calls peak near {count(float(usl['n_star_real']))} "
            f"{unit(a)} ({where}; R² {float(usl['r2']):.2f})"
        )
    return out


def _reasons(a: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    for lv in a.get("levels") or []:
        if lv.get("label") == ref.get("label") and lv.get("start_ns") == ref.get("start_ns"):
            return [str(r) for r in lv.get("reasons") or []]
    return []
