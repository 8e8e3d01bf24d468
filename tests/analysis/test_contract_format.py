"""analysis/FORMAT.md and the typed contract (``analysis/contract/``) name the same fields.

The document is parsed as it reads: each section's block lists a field per line (``a, b, c``
for several), a nested list of objects as an indented ``name [ {`` ... ``} ]`` block, and small
objects inline as ``{"key", "key": value, ...}``. Every documented field must exist in the record
that types it and every field of the record must be documented, so neither can drift alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from surgeproof.analysis.contract.amplification import (
    Amplification,
    AmplificationSeries,
    FactorEntry,
    HttpAmplification,
    HttpPeak,
    ReconnectPeak,
    WebsocketAmplification,
)
from surgeproof.analysis.contract.ceiling import (
    Ceiling,
    CeilingReal,
    FailedFirst,
    InconclusiveLevel,
    LevelRef,
    Plateau,
    Verdict,
)
from surgeproof.analysis.contract.document import Analysis
from surgeproof.analysis.contract.incidents import (
    BreachWindow,
    GatewayOutage,
    Incidents,
    OrderCounts,
    Pids,
    Stall,
    TargetOutage,
)
from surgeproof.analysis.contract.levels import (
    AnsweredSeconds,
    Breach,
    EndpointStats,
    GroupStats,
    Level,
    LevelGenerator,
    Overall,
    Saturation,
    SaturationReference,
)
from surgeproof.analysis.contract.model import (
    CurvePoint,
    Knee,
    ServerVsClient,
    Usl,
    UslPoint,
    Withheld,
)
from surgeproof.analysis.contract.quality import (
    DataQuality,
    Generator,
    GeneratorSource,
    InconsistentOrder,
    LedgerAgreement,
    LookupCounts,
    OrderStatus,
    Reconciliation,
    RefusedEntry,
    RefusedMessages,
    ShortfallWindow,
)
from surgeproof.analysis.contract.record import ABSENT, documented_keys
from surgeproof.analysis.contract.recovery import (
    FaultRecord,
    FaultSpan,
    InFlightOrder,
    Logins,
    Mark,
    OrderCheckEntry,
    OrdersInFlight,
    Recovery,
    Rto,
    SpanGroup,
    WebsocketToll,
)
from surgeproof.analysis.contract.requirements import (
    Comparison,
    FigureComparison,
    FigureRequirement,
    JudgedRequirement,
    ModelEstimate,
)
from surgeproof.analysis.contract.run import Input, RecordCounts, Scale, SloEntry
from surgeproof.analysis.contract.series import GroupSeries, ServerSeries, Timeseries, WsConnects
from surgeproof.analysis.contract.settings import JudgingSettings, Settings, SloSetting, Tolerance

FORMAT = Path(__file__).parents[2] / "src" / "surgeproof" / "analysis" / "FORMAT.md"
_NAME = re.compile(r"[a-z_][a-z0-9_.]*\Z")


def _text() -> str:
    return FORMAT.read_text(encoding="utf-8")


def _block_after(heading: str) -> list[str]:
    """The lines of the first fenced block after the line that starts with ``heading``."""
    lines = _text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    opened = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    closed = next(i for i in range(opened + 1, len(lines)) if lines[i].startswith("```"))
    return lines[opened + 1 : closed]


def _entries(lines: list[str], indent: int) -> dict[str, str]:
    """Each field line at ``indent`` (names before the first run of 2+ spaces), with its text
    and the deeper lines that continue it."""
    out: dict[str, str] = {}
    current: list[str] = []
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        if line.strip() and lead == indent and not line.strip().startswith(("}", "]")):
            head = line.strip()
            spec = re.split(r"\s{2,}|\s(?=[\[{(])", head, maxsplit=1)[0]
            current = []
            for name in (n.strip() for n in spec.split(",")):
                assert _NAME.match(name), f"FORMAT.md: {name!r} in {head!r} is not a field name"
                out[name] = ""
                current.append(name)
            for name in current:
                out[name] = head
        elif current:
            for name in current:
                out[name] += "\n" + line
    return out


def _nested(lines: list[str], name: str) -> list[str]:
    """The indented lines of the object (or list of objects) documented as ``name ... {`` ...
    ``}``: up to the closing brace at its own indent (or one deeper), past nested ones."""
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s*{re.escape(name)}\s", line))
    lead = len(lines[start]) - len(lines[start].lstrip(" "))
    end = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].strip().startswith("}")
        and len(lines[i]) - len(lines[i].lstrip(" ")) <= lead + 1
    )
    return lines[start + 1 : end]


def _inline(text: str, after: str, depth: int = 1) -> set[str]:
    """The quoted keys of the first ``{...}`` after ``after`` in ``text``, at brace ``depth``
    (values after a colon and anything in parentheses left out)."""
    at = text.index(after) + len(after)
    at = text.index("{", at)
    keys: set[str] = set()
    braces = parens = 0
    i = at
    while i < len(text):
        ch = text[i]
        if ch == "{":
            braces += 1
        elif ch == "}":
            braces -= 1
            if braces == 0:
                break
        elif ch == "(":
            parens += 1
        elif ch == ")":
            parens -= 1
        elif ch == '"':
            end = text.index('"', i + 1)
            before = text[:i].rstrip()
            if braces == depth and parens == 0 and not before.endswith(":"):
                keys.add(text[i + 1 : end])
            i = end
        i += 1
    return keys


def _fields(cls: type) -> set[str]:
    return set(documented_keys(cls))


def _section(heading: str) -> dict[str, str]:
    return _entries(_block_after(heading), 0)


def _documented() -> dict[type, set[str]]:
    top = _section("## Top level")
    inp = _section("### `input`")
    ceiling = _section("### `ceiling`")
    levels = _section("### `levels`")
    group_stats = _entries(_block_after("group-stats:"), 0)
    comparison_lines = _block_after("### `comparison`")
    comparison = _entries(comparison_lines, 0)
    figures = _entries(_nested(comparison_lines, "figures"), 3)
    quality_lines = _block_after("### `data_quality`")
    quality = _entries(quality_lines, 0)
    generator = _section("### `generator`")
    level_ref = next(line for line in _text().splitlines() if line.startswith("level-ref:"))
    overall = _text().split("### `overall`", 1)[1].split("###", 1)[0]
    assert '{"group", ...group-stats}' in overall
    settings = _section("### `settings`")
    usl = _section("### `usl`")
    incident_lines = _block_after("### `incidents`")
    incidents = _entries(incident_lines, 0)
    breach = _entries(_nested(incident_lines, "breach_windows"), 3)
    outage = _entries(_nested(incident_lines, "target_outages"), 3)
    series = _section("### `timeseries`")
    amp_lines = _block_after("### `amplification`")
    http = _entries(_nested(amp_lines, "http"), 3)
    ws = _entries(_nested(amp_lines, "websocket"), 3)
    recovery_lines = _block_after("### `recovery`")
    recovery = _entries(recovery_lines, 0)
    fault_lines = _nested(recovery_lines, "faults")
    fault = _entries(fault_lines, 3)
    in_flight = _entries(_nested(fault_lines, "orders_in_flight"), 6)
    lookups = _entries(_block_after("`reconciliation.order_status` (additive)"), 0)
    return {
        Recovery: set(recovery),
        Mark: _inline(recovery["marks"], "marks"),
        FaultRecord: set(fault),
        Rto: set(_entries(_nested(fault_lines, "rto"), 6)),
        FaultSpan: _inline(fault["span"], "span"),
        SpanGroup: set(_entries(_nested(fault_lines, "groups"), 6)),
        Logins: _inline(fault["logins"], "logins"),
        WebsocketToll: _inline(fault["websocket"], "websocket"),
        OrdersInFlight: set(in_flight),
        InFlightOrder: _inline(in_flight["orders"], "orders"),
        OrderCheckEntry: _inline(in_flight["orders"], "gives it:"),
        OrderStatus: set(lookups),
        LookupCounts: _inline(lookups["counts"], "counts"),
        InconsistentOrder: _inline(lookups["inconsistent_orders"], "inconsistent_orders"),
        LedgerAgreement: _inline(lookups["ledger_agreement"], "ledger_agreement"),
        Reconciliation: set(_entries(_block_after("### `reconciliation`"), 0)),
        Amplification: set(_entries(amp_lines, 0)),
        HttpAmplification: set(http),
        FactorEntry: _inline(http["by_group"], "by_group", depth=2),
        HttpPeak: _inline(http["peak"], "peak"),
        WebsocketAmplification: set(ws),
        ReconnectPeak: _inline(ws["peak"], "peak"),
        AmplificationSeries: set(_entries(_nested(amp_lines, "series"), 3)),
        Timeseries: set(series),
        GroupSeries: _inline(series["groups"], "groups", depth=2),
        ServerSeries: set(_entries(_block_after("`timeseries.server`"), 0)),
        WsConnects: _inline(series["ws_connects"], "ws_connects"),
        Incidents: set(incidents),
        BreachWindow: set(breach),
        OrderCounts: _inline(breach["orders"], "orders"),
        TargetOutage: set(outage),
        Pids: _inline(outage["pids"], "pids"),
        GatewayOutage: set(_entries(_nested(incident_lines, "gateway_outages"), 3)),
        Stall: _inline(incidents["stalls"], "stalls"),
        Usl: set(usl),
        UslPoint: _inline(usl["points"], "points"),
        CurvePoint: _inline(usl["curve"], "curve"),
        Withheld: _inline(usl["withheld"], "withheld"),
        Knee: set(_section("### `knee`")),
        ServerVsClient: set(_section("### `server_vs_client`")),
        Analysis: set(top),
        Settings: set(settings),
        SloSetting: _inline(settings["slos"], "slos"),
        Tolerance: _inline(settings["tolerance"], "tolerance"),
        JudgingSettings: set(_entries(settings["judging"].splitlines()[1:], 2)),
        Input: set(inp),
        RecordCounts: _inline(inp["records"], "records"),
        Scale: set(_section("### `scale`")),
        SloEntry: set(_section("### `slos`")),
        Verdict: set(_section("### `verdict`")),
        Ceiling: set(ceiling),
        LevelRef: _inline(level_ref, "level-ref:"),
        CeilingReal: _inline(ceiling["real"], "real"),
        FailedFirst: _inline(ceiling["failed_first"], "failed_first")
        | _inline(ceiling["failed_first"], "), or"),
        InconclusiveLevel: _inline(ceiling["inconclusive"], "list of"),
        Plateau: _inline(ceiling["plateau"], "plateau"),
        Level: set(levels),
        Breach: _inline(levels["breaches"], "list of"),
        Saturation: _inline(levels["saturation"], "saturation"),
        SaturationReference: _inline(levels["saturation"], '"reference" ('),
        LevelGenerator: _inline(levels["generator"], "generator"),
        GroupStats: set(group_stats),
        AnsweredSeconds: _inline(group_stats["seconds"], "seconds"),
        EndpointStats: set(group_stats) | {"group"},
        Overall: _inline(top["overall"], "overall"),
        JudgedRequirement: set(_section("### `requirements`")),
        Comparison: set(comparison),
        FigureComparison: set(figures),
        FigureRequirement: _inline(figures["requirement"], "requirement"),
        ModelEstimate: _inline(comparison["model_estimate"], "model_estimate"),
        DataQuality: set(quality),
        ShortfallWindow: set(_entries(_nested(quality_lines, "shortfall_windows"), 3)),
        RefusedMessages: _inline(quality["refused_messages"], "refused_messages"),
        RefusedEntry: _inline(quality["refused_messages"], '"entries": [', depth=1),
        Generator: set(generator),
        GeneratorSource: _inline(generator["sources"], "sources", depth=2),
    }


DOCUMENTED = _documented()


@pytest.mark.parametrize("record", list(DOCUMENTED), ids=lambda c: c.__name__)
def test_every_documented_field_is_typed_and_every_typed_field_documented(record):
    documented, typed = DOCUMENTED[record], _fields(record)
    assert documented - typed == set(), f"FORMAT.md documents {documented - typed}, not typed"
    assert typed - documented == set(), (
        f"{record.__name__} types {typed - documented}, undocumented"
    )


def test_every_record_of_the_contract_is_checked_against_the_document():
    import surgeproof.analysis.contract as contract
    from surgeproof.analysis.contract.record import Record

    modules = [
        m
        for name, m in vars(contract).items()
        if name
        in {
            "amplification",
            "ceiling",
            "incidents",
            "levels",
            "model",
            "quality",
            "recovery",
            "run",
            "series",
            "settings",
        }
    ]
    modules += [contract.document, contract.requirements]
    records = {
        obj
        for m in modules
        for obj in vars(m).values()
        if isinstance(obj, type) and issubclass(obj, Record) and obj is not Record
    }
    assert records - set(DOCUMENTED) == set()


def _optional(record: type) -> set[str]:
    from dataclasses import fields

    return {f.name for f in fields(record) if f.default is ABSENT}


def test_fields_that_may_be_absent_are_the_ones_documented_as_additive_or_absent():
    faults = _nested(_block_after("### `recovery`"), "faults")
    sections = {
        Analysis: _section("## Top level"),
        Input: _section("### `input`"),
        Scale: _section("### `scale`"),
        SloEntry: _section("### `slos`"),
        GroupStats: _entries(_block_after("group-stats:"), 0),
        DataQuality: _section("### `data_quality`"),
        Incidents: _entries(_block_after("### `incidents`"), 0),
        BreachWindow: _entries(_nested(_block_after("### `incidents`"), "breach_windows"), 3),
        TargetOutage: _entries(_nested(_block_after("### `incidents`"), "target_outages"), 3),
        Timeseries: _section("### `timeseries`"),
        Reconciliation: _entries(_block_after("### `reconciliation`"), 0),
        Recovery: _entries(_block_after("### `recovery`"), 0),
        SpanGroup: _entries(_nested(faults, "groups"), 6),
        OrderStatus: _entries(_block_after("`reconciliation.order_status` (additive)"), 0),
    }
    for record, entries in sections.items():
        for name in _optional(record):
            text = entries[name]
            assert "(additive)" in text or "absent" in text, f"{record.__name__}.{name}: {text}"
