"""The bounds of ``surgeproof run``'s numeric flags, and the one check each flag goes through.

``check_options`` (options.py) calls these for every flag before anything starts, so a value
outside its bounds is one line naming the flag, what was given and what is expected — never a
run that silently does nothing (``--inject-stall nan:nan``), runs forever (``--max-duration
inf``) or forks a hundred thousand processes (``--workers 100000``).
"""

from __future__ import annotations

import math
import os

from surgeproof.errors import UserError
from surgeproof.scenario.bounds import MAX_DURATION_S

#: Local worker processes per CPU without ``--allow-many-workers``: one Locust worker saturates
#: a core, so more than a few per core only adds context switches.
WORKERS_PER_CPU = 4
#: Local worker processes even with ``--allow-many-workers``: a fleet larger than this runs on
#: several machines (``surgeproof worker --master HOST``, counted by ``--expect-workers``).
MAX_LOCAL_WORKERS = 1024
#: Workers started elsewhere that one run may wait for.
MAX_EXPECTED_WORKERS = 10_000
#: Longest client timeout per call (s).
MAX_TIMEOUT_S = 600.0
#: Longest injected stall or target outage (s).
MAX_INJECTED_S = 86_400.0
#: Slowest progress line and longest abort window (s).
MAX_PROGRESS_S = 3_600.0
MAX_ABORT_AFTER_S = MAX_DURATION_S
#: Websocket gateway ids an injected crash may name (the exchange runs far fewer).
MAX_GATEWAY_ID = 1_023


def default_worker_cap() -> int:
    """Local workers allowed without ``--allow-many-workers`` on this machine."""
    return WORKERS_PER_CPU * (os.cpu_count() or 1)


def check_number(
    flag: str,
    value: float | None,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    what: str = "",
) -> None:
    """Refuse ``value`` unless finite and within ``[low, high]`` (``(low, high]`` if open)."""
    if value is None:
        return
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        lower = f"> {low:g}" if low_open else f">= {low:g}"
        unit = f" {what}" if what else ""
        raise UserError(f"{flag} {value:g}: expected{unit} {lower} and <= {high:g}")


def check_port(flag: str, port: int, *, zero_picks: bool) -> None:
    """A TCP port: 1-65535, or 0 when ``zero_picks`` (a free one is chosen)."""
    low = 0 if zero_picks else 1
    if not low <= port <= 65535:
        hint = " (0 picks a free one)" if zero_picks else ""
        raise UserError(f"{flag} {port}: expected a port from {low} to 65535{hint}")


def check_workers(workers: int, expect_workers: int, allow_many: bool) -> None:
    """Local and remote worker counts, checked before any process is started."""
    cap = MAX_LOCAL_WORKERS if allow_many else min(default_worker_cap(), MAX_LOCAL_WORKERS)
    if workers < 0:
        raise UserError(f"--workers {workers}: expected 0 (in-process) or more")
    if workers > cap:
        if allow_many or cap >= MAX_LOCAL_WORKERS:
            raise UserError(
                f"--workers {workers}: at most {MAX_LOCAL_WORKERS} local worker processes; "
                "run more on other machines (surgeproof worker --master HOST, --expect-workers N)"
            )
        raise UserError(
            f"--workers {workers}: more than {cap} local processes ({WORKERS_PER_CPU} per CPU "
            f"of this machine's {os.cpu_count() or 1}); pass --allow-many-workers to start "
            "them anyway"
        )
    if not 0 <= expect_workers <= MAX_EXPECTED_WORKERS:
        raise UserError(
            f"--expect-workers {expect_workers}: expected 0 to {MAX_EXPECTED_WORKERS:,}"
        )
