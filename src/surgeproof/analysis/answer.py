"""The answer in sentences, each said once: what the summary prints and the report's first screen.

One verdict in the reader's unit (real users, or real orders for a profile that counts orders)
with the scale stated once; the bracket with the levels that make it; each requirement with
PASS or FAIL and by how much; the headroom against each reference figure; what was not judged;
the knee and the USL model only when they say something the bracket does not. Every number is
read from the analysis, through its typed contract (this module judges nothing).
"""

from __future__ import annotations

from surgeproof.analysis.contract import Analysis, Doc, as_analysis
from surgeproof.analysis.contract.ceiling import LevelRef


def unit(doc: Doc) -> str:
    """``real users`` (or ``real orders``); ``users`` for an unscaled run."""
    a = as_analysis(doc)
    return f"real {a.real_unit}" if a.scale.scaled else a.real_unit


def real(doc: Doc, simulated: float | None) -> float | None:
    """Simulated users in the reader's unit."""
    if simulated is None:
        return None
    return float(simulated) / as_analysis(doc).user_scale


def count(n: float | None) -> str:
    """``459,000``; ``175.5`` when a simulated level was fractional."""
    if n is None:
        return "–"
    return f"{n:,.0f}" if abs(n - round(n)) < 0.05 or n >= 1000 else f"{n:,.1f}"


def headline(doc: Doc) -> str:
    """``FAIL: the ceiling lies between 459,000 and 540,000 real users``."""
    a = as_analysis(doc)
    status = a.verdict.status.upper()
    c = a.ceiling
    lo, hi = c.real.last_pass_users, c.real.first_fail_users
    u = unit(a)
    if c.status == "bracketed":
        said = f"the ceiling lies between {count(lo)} and {count(hi)} {u}"
    elif c.status == "lower_bound":
        said = f"the ceiling is at least {count(lo)} {u}: no level measured failed"
    elif c.status == "upper_bound":
        said = f"the ceiling is below {count(hi)} {u}: the lowest level measured failed"
    else:
        said = "no ceiling: no steady window could be judged"
    return f"{status}: {said}"


def scale_line(doc: Doc) -> str | None:
    """The scale and its assumption, once; None for an unscaled run."""
    scale = as_analysis(doc).scale
    return scale.statement if scale.scaled else None


def bracket_line(doc: Doc) -> str | None:
    """``held rebound-plateau at 459,000; failed panic-selling at 540,000: quotation
    error_ratio 23.12% > 1.00%`` (levels named, numbers in the reader's unit)."""
    a = as_analysis(doc)
    c = a.ceiling
    parts = []
    lp, ff = c.last_pass, c.first_fail
    if lp:
        parts.append(f"held {lp.label} at {count(real(a, lp.users))}")
    if ff:
        why = _reasons(a, ff)
        parts.append(
            f"failed {ff.label} at {count(real(a, ff.users))}" + (f": {why[0]}" if why else "")
        )
    if c.non_monotonic:
        held = ", ".join(f"{lv.label} at {count(real(a, lv.users))}" for lv in c.non_monotonic)
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


def requirement_lines(doc: Doc) -> list[tuple[str, str]]:
    """Each requirement as (``PASS`` | ``FAIL`` | ``NOT SHOWN`` | ``N/A``, what and by how much),
    read from the analysis' one judgement (``requirements``); a requirement on a profile figure
    says by how much the ceiling clears or misses it."""
    a = as_analysis(doc)
    figures = {f.key: f for f in (a.comparison.figures if a.comparison else [])}
    out = []
    for r in a.requirements or []:
        word = REQUIREMENT_WORDS[r.status]
        f = figures.get(r.figure) if r.figure is not None else None
        req = f.requirement if f is not None else None
        if f is not None and req is not None and req.required:
            required = float(req.required)
            what = f"{req.text} = {count(required)} {unit(a)}"
            if r.status == "inconclusive":
                by = "no conclusive level reached it: measure higher"
            elif f.ceiling_real is None:
                by = "no level held the SLOs"
            else:
                gap = float(f.ceiling_real) - required
                side = "above" if gap >= 0 else "short"
                by = f"{count(abs(gap))} {side} ({gap / required:+.0%})"
            out.append((word, f"{what}: {by}"))
            continue
        text = r.name or r.text
        if r.measured or r.limit:
            text += f": measured {r.measured or '-'}, limit {r.limit or '-'}"
        if r.note:
            text += f"; {r.note}"
        out.append((word, f"{text} (source: {r.source})"))
    return out


def headroom_items(doc: Doc) -> list[tuple[str, str, str]]:
    """(reference, figure, headroom) per reference figure of the profile."""
    a = as_analysis(doc)
    out = []
    for f in a.comparison.figures if a.comparison else []:
        figure = f"{float(f.value):,.0f} {f.unit}".strip()
        if f.unit_note:
            figure += f" ({f.unit_note})"
        out.append(
            (
                f.label or f.key,
                figure,
                "–" if f.headroom is None else f"{float(f.headroom):+.0%}",
            )
        )
    return out


def not_judged_line(doc: Doc) -> str | None:
    """``not judged: shock-login-storm (351,000): too short ...`` — levels that gave no verdict."""
    a = as_analysis(doc)
    if not a.ceiling.inconclusive:
        return None
    parts = []
    for lv in a.ceiling.inconclusive:
        why = (lv.reasons or ["no verdict"])[0]
        parts.append(f"{lv.label} ({count(real(a, lv.users))}): {why}")
    return "; ".join(parts)


def model_lines(doc: Doc) -> list[str]:
    """The measured plateau, the knee and the USL peak, each only when it adds to the bracket."""
    a = as_analysis(doc)
    out = []
    if a.ceiling.plateau.detected:
        out.append(f"plateau: {a.ceiling.plateau.note}")
    knee = a.knee
    users, lo, hi = knee.users, knee.last_unsaturated_users, knee.first_saturated_users
    if users is not None and lo is not None and hi is not None and lo < users < hi:
        out.append(
            f"knee: throughput stops growing near {count(real(a, users))} {unit(a)}, where the "
            f"users' demand meets the highest measured throughput "
            f"({float(knee.throughput_rps or 0):,.0f} req/s)"
        )
    usl = a.usl
    if usl.status == "fit" and usl.n_star_real is not None:
        where = "beyond the largest load measured" if usl.extrapolated else "measured range"
        out.append(
            f"USL model: successful calls peak near {count(float(usl.n_star_real))} "
            f"{unit(a)} ({where}; R² {float(usl.r2 or 0):.2f})"
        )
    return out


def _reasons(a: Analysis, ref: LevelRef) -> list[str]:
    for lv in a.levels:
        if lv.label == ref.label and lv.start_ns == ref.start_ns:
            return list(lv.reasons)
    return []
