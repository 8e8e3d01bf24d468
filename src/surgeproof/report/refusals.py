"""The report's account of worker-channel messages the master refused (read from analysis.json
``data_quality.refused_messages``): a table when there were any, nothing otherwise."""

from __future__ import annotations

from surgeproof.analysis.contract import Doc, as_analysis
from surgeproof.report.table import Table

TITLE = "Refused worker-channel messages"


def refused_messages_tables(analysis: Doc) -> list[Table]:
    """``[table]`` when the master refused anything, else ``[]``."""
    refused = as_analysis(analysis).data_quality.refused_messages
    if not refused or not refused.messages:
        return []
    rows = []
    for e in refused.entries:
        rows.append(
            (
                e.peer or "–",
                e.claimed_source or "–",
                e.message or "–",
                f"{e.reason or '–'}: {e.why or ''}".rstrip(": "),
                f"{e.count:,}",
                _span(e.first_t_s, e.last_t_s),
            )
        )
    return [
        Table(
            TITLE,
            ("peer (node id)", "claimed source", "message", "refused because", "count", "at"),
            rows,
            f"{refused.messages:,} message(s) from {refused.peers:,} "
            "peer(s) that could not prove the fleet key, or were not sealed by their own "
            "session, were refused: nothing they carried is in this run's records, samples or "
            "figures. A peer's node id and claimed source are what it said, shown, not believed.",
        )
    ]


def _span(first: float | None, last: float | None) -> str:
    if first is None:
        return "–"
    if last is None or last == first:
        return f"t={first:,.1f} s"
    return f"t={first:,.1f}–{last:,.1f} s"
