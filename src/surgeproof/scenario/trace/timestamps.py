"""Timestamps as monitoring exports write them: ISO 8601 with or without offset, Unix epochs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timezone

from surgeproof.scenario.numbers import is_number_text


def parse_timestamp(text: str, naive_zone: timezone) -> tuple[datetime, bool]:
    """(aware time, whether the text stated its zone); ValueError with a reason otherwise."""
    raw = text.strip()
    if not raw:
        raise ValueError("empty timestamp")
    number = float(raw) if is_number_text(raw) else None  # not "١٢٣", "1_000" or "inf"
    if number is not None:
        if not math.isfinite(number) or not 1e8 <= number < 1e13:
            raise ValueError(f"{raw!r} is not a Unix time")
        # 13 digits are milliseconds; 10 are seconds (both unambiguous for years 1973–2286)
        # (and nothing beyond: datetime cannot hold year 10,000)
        seconds = number / 1000.0 if number >= 1e11 else number
        return datetime.fromtimestamp(seconds, UTC), True
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO 8601 time or a Unix time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=naive_zone), False
    return moment, True
