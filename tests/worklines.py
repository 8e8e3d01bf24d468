"""Counting work, not time: the lines of surgeproof's own code a call executes.

Tests of "cost grows linearly with the run's length" compare the count for a run with the
count for one 4× as long. A clock would be noisy on shared cores; a count is exact. Python
lines are where a per-window or per-level loop over the whole run hides (a scan of every
timeline row for each level, a per-window check of every column), so a path quadratic in the
run's length multiplies the count by ~16 instead of ~4.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import surgeproof

PACKAGE = str(Path(surgeproof.__file__).parent)


def lines_executed(call: Callable[[], Any]) -> tuple[int, Any]:
    """(lines of the package's code executed by ``call()``, its result)."""
    count = 0

    def line(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return line

    def enter(frame, event, arg):
        # Only frames of the package are traced line by line (numpy, json and matplotlib's own
        # Python run untraced): the count is surgeproof's work.
        return line if frame.f_code.co_filename.startswith(PACKAGE) else None

    before = sys.gettrace()
    sys.settrace(enter)
    try:
        result = call()
    finally:
        sys.settrace(before)
    return count, result
