"""Open-file limits: raise the soft limit to the hard one, and how many connections fit under it.

Every WebSocket holds a file descriptor; past the limit ``accept`` fails with EMFILE, which
asyncio survives only by pausing the listener. Each exchange process therefore keeps a reserve
of descriptors and answers connections beyond its budget with a clear 503 instead.
"""

from __future__ import annotations

import resource

#: Descriptors kept back for listeners, logs, the gateway channel and requests being refused.
RESERVED_FDS = 128


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit still has a kernel ceiling (fs.nr_open); 1M is its default.
    target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft if soft != resource.RLIM_INFINITY else target


def connection_budget(fd_limit: int) -> int:
    """Connections one process may hold open under ``fd_limit`` descriptors."""
    return max(fd_limit - RESERVED_FDS, 0)
