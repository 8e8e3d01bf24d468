"""The report's account of worker-channel messages the master refused (read from analysis.json
``data_quality.refused_messages``): a table when there were any, nothing otherwise."""

from __future__ import annotations

from typing import Any

from surgeproof.report.table import Table

TITLE = "Refused worker-channel messages"


def refused_messages_tables(analysis: dict[str, Any]) -> list[Table]:
    """``[table]`` when the master refused anything, else ``[]``."""
    refused = (analysis.get("data_quality") or {}).get("refused_messages") or {}
    if not refused.get("messages"):
        return []
    rows = []
    for e in refused.get("entries") or []:
        rows.append(
            (
                str(e.get("peer") or "–"),
                str(e.get("claimed_source") or "–"),
                str(e.get("message") or "–"),
                f"{e.get('reason') or '–'}: {e.get('why') or ''}".rstrip(": "),
                f"{int(e.get('count') or 0):,}",
                _span(e.get("first_t_s"), e.get("last_t_s")),
            )
        )
    return [
        Table(
            TITLE,
            ("peer (node id)", "claimed source", "message", "refused because", "count", "at"),
            rows,
            f"{int(refused['messages']):,} message(s) from {int(refused.get('peers') or 0):,} "
            "peer(s) that could not prove the fleet key, or were not sealed by their own "
            "session, were refused: nothing they carried is in this run's records, samples or "
            "figures. A peer's node id and claimed source are what it said, shown, not believed.",
        )
    ]


def _span(first: Any, last: Any) -> str:
    if not isinstance(first, int | float):
        return "–"
    if not isinstance(last, int | float) or last == first:
        return f"t={first:,.1f} s"
    return f"t={first:,.1f}–{last:,.1f} s"
