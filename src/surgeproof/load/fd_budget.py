"""Open-file budget of a generator process: raise the soft limit, warn before a run that won't fit.

Every live websocket holds one descriptor, every user with its own HTTP connection another; a
process past its limit fails connects with EMFILE in the middle of a run. The soft limit is
raised to the hard one (all an unprivileged process may do), and the run says before it starts
when the users each process would hold need more than that (``fleet_check.warn_fleet`` prints
this line with the plan's other shortfalls; ``fleet`` sizes processes by the same rule).
"""

from __future__ import annotations

import math
import resource
from collections.abc import Mapping

#: Descriptors a generator process needs besides its users (Locust, ZeroMQ, logs, run files).
RESERVE_FDS = 256


def raise_fd_limit() -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; returns (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft, hard


def fds_per_user(mix: Mapping[str, float]) -> float:
    """Descriptors one user of ``mix`` holds on average (websocket + own HTTP connection)."""
    from surgeproof.load.users.registry import BEHAVIOUR_CLASSES

    total = sum(mix.values()) or 1.0
    fds = 0.0
    for name, share in mix.items():
        cls = BEHAVIOUR_CLASSES.get(name)
        if cls is None:
            continue
        per = (1 if cls.watches_websocket else 0) + (0 if cls.shares_connection else 1)
        fds += per * share / total
    return fds


def users_per_process_allowed(limit: int, per_user: float) -> int:
    """How many users of that kind fit under ``limit`` descriptors in one process."""
    if per_user <= 0:
        return 1 << 62
    return max(0, int((limit - RESERVE_FDS) / per_user))


def fd_budget_warning(
    mixes_users: list[tuple[Mapping[str, float], float]], processes: int, limit: int | None = None
) -> str | None:
    """One line when the peak users per process need more descriptors than ``limit`` allows."""
    if limit is None:
        limit = raise_fd_limit()[1]
    processes = max(1, processes)
    worst: tuple[float, float, float] | None = None  # (need, users, per_user)
    for mix, users in mixes_users:
        per_user = fds_per_user(mix)
        need = per_user * users / processes + RESERVE_FDS
        if worst is None or need > worst[0]:
            worst = (need, users, per_user)
    if worst is None or worst[0] <= limit:
        return None
    need, users, per_user = worst
    fit = users_per_process_allowed(limit, per_user)
    suggest = math.ceil(users / max(fit, 1))
    return (
        f"surgeproof run: WARNING {users:,.0f} users in {processes} generator process(es) need "
        f"~{need:,.0f} open files each, over the limit of {limit:,} per process "
        f"(~{fit:,} such users fit per process): use --workers {suggest} or more"
    )
