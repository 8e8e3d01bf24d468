"""What a report says, independent of HTML or Markdown: sentences and tables from the analysis.

Both renderers draw from these records, so ``report.html`` and ``report.md`` cannot tell
different stories.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from surgeproof import __version__
from surgeproof.analysis import answer
from surgeproof.analysis.contract import ABSENT, Analysis, Doc, as_analysis
from surgeproof.analysis.contract.amplification import HttpAmplification, WebsocketAmplification
from surgeproof.analysis.gateway_outages import gateway_outage_sentence
from surgeproof.analysis.groupstats import ALL_GROUPS
from surgeproof.report.table import Table

KST = timezone(timedelta(hours=9), "KST")


@dataclass
class ReportContent:
    """Everything a report shows, formatted for reading; the first screen is the answer."""

    title: str
    status: str  # "pass" | "fail" | "inconclusive"
    #: The verdict and the ceiling in the reader's unit: the first thing a reader sees.
    verdict: str
    #: The scale and its assumption, said once (None for an unscaled run).
    scale_statement: str | None
    #: The levels that make the bracket, and why the first failure failed.
    bracket: str | None
    #: Each requirement: PASS / FAIL / NOT SHOWN, and what and by how much.
    requirements: Table
    headroom: Table
    #: What was not judged, why breaches did not decide the verdict, model estimates.
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    #: "Retries and reconnects": a few sentences (empty when the analysis has no such section).
    retries: list[str] = field(default_factory=list)
    #: "Websocket gateway outages": one sentence per gateway death (empty when none).
    gateway_outages: list[str] = field(default_factory=list)
    scale: list[tuple[str, str]] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)
    scenario_yaml: str = ""
    profile_yaml: str = ""
    scenario_resolved: str = ""
    #: "Recovery (BCP drill)": its own block (``report/recovery.py``), or None.
    recovery: Any = None


def build_content(run_dir: Path, analysis: Doc) -> ReportContent:
    """The report's sentences and tables for ``run_dir`` and its analysis."""
    from surgeproof.report.refusals import refused_messages_tables

    meta = _read_json(run_dir / "run.json")
    status = as_analysis(analysis).verdict.status
    content = ReportContent(
        title=f"Surge capacity report: {meta.get('scenario_name') or 'run'} "
        f"({meta.get('run_id') or run_dir.name})",
        status=status,
        verdict=verdict_sentence(analysis),
        scale_statement=_sentence(
            f"Scale: {answer.scale_line(analysis)}" if answer.scale_line(analysis) else None
        ),
        bracket=_sentence(_capital(answer.bracket_line(analysis))),
        requirements=requirements_table(analysis),
        headroom=headroom_table(analysis),
        notes=first_screen_notes(analysis),
    )
    content.tables = [
        levels_table(analysis),
        endpoints_table(analysis),
        groups_table(analysis),
        incidents_table(analysis),
        outages_table(analysis),
        worker_losses_table(analysis),
        *refused_messages_tables(analysis),
    ]
    content.caveats = caveats(analysis)
    content.retries = retries_sentences(analysis)
    content.gateway_outages = [
        gateway_outage_sentence(o.to_json())
        for o in as_analysis(analysis).incidents.gateway_outages or []
    ]
    content.scale = scale_rows(analysis, meta)
    content.provenance = provenance_rows(analysis, meta)
    content.scenario_yaml = _read_text(run_dir / "scenario.yaml")
    content.profile_yaml = _read_text(run_dir / "profile.yaml")
    if meta.get("scenario") is not None:
        content.scenario_resolved = json.dumps(meta["scenario"], indent=2, sort_keys=True)
    return content


def verdict_sentence(analysis: Doc) -> str:
    """``FAIL: the ceiling lies between 459,000 and 540,000 real users.``"""
    return answer.headline(analysis) + "."


def requirements_table(analysis: Doc) -> Table:
    """Each requirement with its result and by how much the ceiling meets or misses it."""
    rows = []
    for word, text in answer.requirement_lines(analysis):
        what, _, by = text.partition(": ")
        rows.append((word, what, by))
    return Table("Requirements", ("result", "requirement", "measured ceiling against it"), rows)


def headroom_table(analysis: Doc) -> Table:
    """The measured ceiling against each reference figure (baseline, peak, post-expansion)."""
    rows = [
        (label, figure, headroom) for label, figure, headroom in answer.headroom_items(analysis)
    ]
    note = (
        ""
        if as_analysis(analysis).comparison is not None
        else ("No capacity profile: the run has no reference figures to compare with.")
    )
    return Table(
        "Headroom against the reference figures",
        ("reference", "figure", "headroom of the measured ceiling"),
        rows,
        note,
    )


def first_screen_notes(analysis: Doc) -> list[str]:
    """What was not judged, why breaches did not decide the verdict, and the plateau, knee and
    model peak when they add to the bracket: one sentence each."""
    notes = []
    not_judged = answer.not_judged_line(analysis)
    if not_judged:
        notes.append(f"Not judged: {not_judged}.")
    breach = as_analysis(analysis).incidents.breach_note
    if breach:
        notes.append(str(breach))
    notes.extend(_sentence(_capital(line)) for line in answer.model_lines(analysis))
    return [n for n in notes if n]


def _capital(text: str | None) -> str | None:
    return text[0].upper() + text[1:] if text else text


def _sentence(text: str | None) -> str | None:
    if not text:
        return None
    return text if text.endswith(".") else text + "."


def levels_table(analysis: Doc) -> Table:
    """Each steady-state window: load, throughput, latency, errors, verdict and why."""
    a = as_analysis(analysis)
    rows = []
    for lv in a.levels:
        allg = lv.groups.get(ALL_GROUPS)
        lat = allg.latency_ms if allg is not None else {}
        rows.append(
            (
                lv.label,
                f"{lv.users:,.0f}",
                f"{lv.users / a.user_scale:,.0f}",
                _num(lv.offered_rps),
                _num(lv.achieved_rps),
                _ms(lat.get("p50")),
                _ms(lat.get("p99")),
                _pct(allg.error_ratio if allg is not None else None),
                lv.verdict.upper(),
                "; ".join(lv.reasons) or "–",
            )
        )
    return Table(
        "Steady-state windows (levels)",
        (
            "level",
            "users (sim.)",
            f"{_unit(analysis)} (real)",
            "offered req/s",
            "achieved req/s",
            "p50 ms",
            "p99 ms",
            "error ratio",
            "verdict",
            "why",
        ),
        rows,
        "Latency is measured from the intended send time (coordinated-omission safe).",
    )


def endpoints_table(analysis: Doc) -> Table:
    """Whole-run figures per endpoint, as the analysis computed them (``overall.endpoints``)."""
    endpoints = as_analysis(analysis).overall.endpoints or {}
    rows = []
    for name, e in endpoints.items():  # the analysis lists them busiest first
        lat = e.latency_ms
        rows.append(
            (
                name,
                e.group,
                f"{e.count:,}",
                f"{e.ok:,}",
                _pct(e.error_ratio),
                _ms(lat.get("p50")),
                _ms(lat.get("p95")),
                _ms(lat.get("p99")),
                _ms(lat.get("max")),
                ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in e.errors.items() if v) or "–",
            )
        )
    return Table(
        "Per endpoint (whole run)",
        (
            "endpoint",
            "group",
            "requests",
            "ok",
            "error ratio",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "errors by cause",
        ),
        rows,
        "Error ratio counts capacity errors (429, 418, 5xx, timeouts, connection errors) only.",
    )


def groups_table(analysis: Doc) -> Table:
    """Whole-run figures per endpoint group, from the analysis."""
    groups = as_analysis(analysis).overall.groups
    rows = []
    for name, g in sorted(groups.items(), key=lambda kv: (kv[0] == ALL_GROUPS, kv[0])):
        lat = g.latency_ms
        rows.append(
            (
                "all groups" if name == ALL_GROUPS else name,
                f"{g.count:,}",
                _pct(g.error_ratio),
                _ms(lat.get("p50")),
                _ms(lat.get("p95")),
                _ms(lat.get("p99")),
                _ms(lat.get("p99.9")),
            )
        )
    return Table(
        "Per endpoint group (whole run)",
        ("group", "requests", "error ratio", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms"),
        rows,
    )


def incidents_table(analysis: Doc) -> Table:
    """SLO-breach windows: when, what broke, how many orders were affected, recovery."""
    incidents = as_analysis(analysis).incidents
    rows = []
    for w in incidents.breach_windows:
        recovered = (
            f"after {w.time_to_recover_s:,.1f} s"
            if w.time_to_recover_s is not None
            else ("no" if not w.recovered else "load never fell")
        )
        rows.append(
            (
                f"{w.t_start_s:,.1f} s",
                f"{w.duration_s:,.1f} s",
                "; ".join(w.slos_broken),
                f"{w.peak_offered_users:,.0f}",
                _of(w.orders.failed, w.orders.submitted),
                recovered,
            )
        )
    total = incidents.orders
    note = (
        f"Whole run: {total.failed:,} of {total.submitted:,} order submissions failed; each is "
        "a record a compensation process can look up."
        if total.failed is not None and total.submitted is not None
        else (total.note or "")
    )
    return Table(
        "SLO-breach windows",
        ("start", "duration", "SLOs broken", "peak users (sim.)", "orders failed", "recovered"),
        rows,
        note,
    )


def outages_table(analysis: Doc) -> Table:
    """Each time the target went away: when, for how long, why, and the recovery after."""
    rows = []
    for o in as_analysis(analysis).incidents.target_outages or []:
        if o.t_up_s is None:
            recovery = "target not back before the run ended"
        elif o.recovery_s is None:
            recovery = "SLOs not held again before the run ended"
        else:
            recovery = f"{o.recovery_s:,.1f} s after it came back"
        errors = o.errors_by_cause
        rows.append(
            (
                f"{o.t_down_s:,.1f} s",
                "–" if o.t_up_s is None else f"{o.t_up_s:,.1f} s",
                "–" if o.down_s is None else f"{o.down_s:,.1f} s",
                o.cause,
                recovery,
                ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in errors.items()) or "–",
            )
        )
    return Table(
        "Target outages",
        ("down at", "back at", "down time", "cause", "recovery", "errors meanwhile"),
        rows,
        "Recovery: from the target coming back to the start of the first window that held every "
        "SLO again. Errors: calls due from the fall until recovery, by cause.",
    )


def worker_losses_table(analysis: Doc) -> Table:
    """Each lost generator worker: the window in which offered load fell short, levels voided."""
    rows = []
    for w in as_analysis(analysis).data_quality.shortfall_windows or []:
        rows.append(
            (
                w.source,
                w.detected_by or "–",
                f"{w.t_start_s:,.1f} s",
                "end of run (never restored)" if w.t_end_s is None else f"{w.t_end_s:,.1f} s",
                "–" if w.short_s is None else f"{w.short_s:,.1f} s",
                ", ".join(w.levels) or "none",
            )
        )
    return Table(
        "Generator worker losses",
        ("worker", "detected by", "short from", "restored at", "shortfall", "levels inconclusive"),
        rows,
        "While a lost worker's users were not running, the generator offered less load than the "
        "level says: levels overlapping that window are inconclusive.",
    )


def retries_sentences(analysis: Doc) -> list[str]:
    """Re-sends and websocket reconnects in the sentences an SRE reads first; one line if none.

    Empty when the analysis has no ``amplification`` section (Locust CSV input: no per-attempt
    data), so nothing is claimed either way.
    """
    a = as_analysis(analysis)
    if a.amplification is ABSENT:
        return []
    http, ws = a.amplification.http, a.amplification.websocket
    resent = http.resends
    reconnected = ws.reconnect_attempts or ws.sessions_lost
    if not resent and not reconnected:
        return ["No retries or reconnects: no HTTP call was re-sent and no websocket reconnected."]
    cut = as_analysis(analysis).data_quality.partial
    return [
        _resends_sentence(http, a) if resent else "No HTTP call was re-sent.",
        _reconnects_sentence(ws, cut) if reconnected else "No websocket reconnected.",
    ]


def _resends_sentence(http: HttpAmplification, a: Analysis) -> str:
    """``Re-sends added 38% to the HTTP load (1.38×: ...), peaking at 2.10× at t=312 s; ...``."""
    factor = http.factor
    counts = f"{http.resends:,} re-sends on {http.first_attempts:,} first attempts"
    if factor is None:
        text = f"{counts} (no first attempt to compare with)"
    else:
        text = f"Re-sends added {_share(factor - 1)} to the HTTP load ({_factor(factor)}: {counts})"
    if http.peak is not None:
        text += f", peaking at {http.peak.factor:.2f}× at t={http.peak.t_s:g} s"
    if http.resends_failed_ratio is not None:
        text += f"; {_share(http.resends_failed_ratio)} of re-sends failed again"
    text += "."
    groups = sorted(
        ((g, e) for g, e in http.by_group.items() if e.resends),
        key=lambda ge: -(ge[1].factor or 0),
    )
    if len(groups) > 1:
        text += " By group: " + ", ".join(f"{g} {_factor(e.factor or 0)}" for g, e in groups)
        text += "."
    share = http.resends_in_breaches_share
    if share is not None and a.incidents.breach_windows:
        text += f" {_share(share)} of re-sends were sent while an SLO was breached."
    return text


def _reconnects_sentence(ws: WebsocketAmplification, cut: bool) -> str:
    """``4,210 websocket reconnect attempts (...), peak 380/s at t=95 s; 1,203 of 1,210 lost
    sessions came back, median 2.1 s, p95 6.0 s, max 14.2 s.``"""
    attempts = ws.reconnect_attempts
    parts = []
    if attempts:
        head = (
            f"{_count(attempts, 'websocket reconnect attempt')} "
            f"({ws.reconnects_ok:,} connected, "
            f"{ws.reconnects_failed:,} failed) by {_count(ws.users_reconnected, 'user')}"
        )
        if ws.peak is not None:
            head += f", peak {_rate(ws.peak.per_s)} at t={ws.peak.t_s:g} s"
        parts.append(head)
    lost, back = ws.sessions_lost, ws.sessions_back
    end = "the end of the data (the run was cut short)" if cut else "the end of the run"
    if not lost:
        parts.append("no open session was lost (the attempts retried failed first connects)")
    elif not back:
        parts.append(f"none of the {lost:,} lost sessions came back by {end}")
    else:
        r = ws.resubscribe_s or {}
        times = ", ".join(
            f"{label} {_duration(r.get(key))}"
            for label, key in (("median", "p50"), ("p95", "p95"), ("max", "max"))
        )
        sentence = f"{back:,} of {lost:,} lost sessions came back, {times}"
        never = ws.never_back
        if never:
            sentence += f"; {never:,} never did by {end}"
        parts.append(sentence)
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def caveats(analysis: Doc) -> list[str]:
    """What limits the numbers: partial data, generator saturation, extrapolation, defaults."""
    a = as_analysis(analysis)
    out = []
    quality = a.data_quality
    if quality.partial:
        out.append(f"Partial run: {quality.partial_reason or 'cut short'}.")
    out.extend(quality.caveats)
    out.extend(f"Damaged data: {d}" for d in quality.damage)
    if a.generator.bottleneck and a.generator.statement:
        out.append(f"Load generator: {a.generator.statement}.")
    rec = a.reconciliation
    if rec.available:
        status = rec.status or {True: "passed", False: "failed"}.get(rec.passed, "incomplete")
        word = {"failed": "FAILED", "partial": "PARTIAL"}.get(status, status)
        out.append(
            f"Order ledger reconciliation: {word} "
            f"({rec.lost_acknowledged_orders} acknowledged orders lost). {rec.note}".strip()
        )
    return out


def scale_rows(analysis: Doc, meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Scale factors and the assumption every extrapolated number depends on."""
    scale = as_analysis(analysis).scale
    # The statement (with its assumption) is on the first screen; here only the factors.
    return [
        ("user scale", f"{scale.user_scale} simulated users per real user"),
        ("time scale", f"{scale.time_scale} (scenario time compression)"),
        ("load model", str(meta.get("load_model") or "")),
    ]


def provenance_rows(analysis: Doc, meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Who ran what, where and when (UTC and KST), with which versions."""
    now = datetime.now(UTC).replace(microsecond=0)
    target = meta.get("target") or {}
    host = meta.get("host") or {}
    workers = meta.get("workers") or {}
    versions = meta.get("versions") or {}
    return [
        ("run id", str(meta.get("run_id"))),
        (
            "status",
            f"{meta.get('status')}"
            + (f" ({meta['partial_reason']})" if meta.get("partial_reason") else ""),
        ),
        ("started", f"{meta.get('started_at_utc')} / {meta.get('started_at_kst')}"),
        ("ended", f"{meta.get('ended_at_utc')} / {meta.get('ended_at_kst')}"),
        ("scenario / profile", f"{meta.get('scenario_name')} / {meta.get('profile_name')}"),
        ("target", f"{target.get('url')} ({'embedded' if target.get('embedded') else 'external'})"),
        ("target configuration", json.dumps(target.get("config"), sort_keys=True)),
        (
            "generator host",
            f"{host.get('hostname')} ({host.get('platform')}, "
            f"{host.get('cpu_count')} CPUs, Python {host.get('python')})",
        ),
        (
            "workers",
            f"expected {workers.get('expected')}, seen {len(workers.get('seen') or [])}, "
            f"lost {len(workers.get('lost') or [])}",
        ),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))),
        ("surgeproof commit", str(meta.get("git_commit"))),
        (
            "analysed",
            f"{as_analysis(analysis).generated_at_utc} by surgeproof "
            f"{as_analysis(analysis).surgeproof_version}",
        ),
        (
            "report written",
            f"{now.isoformat()} / {now.astimezone(KST).isoformat()} by surgeproof {__version__}",
        ),
    ]


def _of(part: int | None, whole: int | None) -> str:
    """``3 of 120``; ``–`` where the input does not count them (Locust CSV)."""
    if part is None or whole is None:
        return "–"
    return f"{part:,} of {whole:,}"


def _users(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f}"


def _pct(value: Any, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{float(value):+.1%}" if signed else f"{float(value):.2%}"


def _share(ratio: float) -> str:
    """A share in words that never rounds a small non-zero one to 0%: 38%, 4.2%, <0.1%."""
    if ratio <= 0:
        return "0%"
    if ratio < 0.001:
        return "<0.1%"
    return f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}"


def _factor(factor: float) -> str:
    """An amplification factor: 1.38×, and 1.003× where two decimals would read as none."""
    return f"{factor:.3f}×" if 1 < factor < 1.01 else f"{factor:.2f}×"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _rate(per_s: float) -> str:
    return f"{per_s:,.0f}/s" if per_s >= 10 else f"{per_s:.1f}/s"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "–"
    return f"{float(seconds) * 1000:.0f} ms" if float(seconds) < 1 else f"{float(seconds):.1f} s"


def _ms(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.1f}"


def _num(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.1f}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _unit(analysis: Doc) -> str:
    """What real numbers count: users, or the profile's unit (Coinone: orders)."""
    return as_analysis(analysis).real_unit
