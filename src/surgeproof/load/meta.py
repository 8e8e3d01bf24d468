"""``run.json``: what was run, where, with what, and how it ended (FORMAT.md)."""

from __future__ import annotations

import platform
import socket
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

#: ``run.json`` ``driver.kind`` of a run conducted by ``surgeproof run`` / ``demo``.
DRIVER_SURGEPROOF = "surgeproof run"
#: ... and of one driven by plain Locust with ``loadtests/locustfile.py``.
DRIVER_PLAIN_LOCUST = "plain locust"

KST = timezone(timedelta(hours=9), "KST")


def iso_pair(t_ns: int) -> tuple[str, str]:
    """(UTC, KST) ISO 8601 strings of a Unix-ns instant."""
    dt = datetime.fromtimestamp(t_ns / 1e9, UTC)
    return dt.isoformat(timespec="milliseconds"), dt.astimezone(KST).isoformat(
        timespec="milliseconds"
    )


def end_status(stop_reason: str | None, records: int, sent: int) -> tuple[str, str | None]:
    """How a run that reached its end is marked in run.json: (status, why) — the one rule.

    ``failed`` when no call was sent at all (none was due, or every one failed before it could
    go: a dialect that cannot build its requests, a generator that fell behind from the start):
    there is nothing of the target to analyse. Otherwise ``partial`` when the run was cut short
    (``stop_reason``), else ``complete``.
    """
    cut = f"{stop_reason}; " if stop_reason else ""
    if records == 0:
        return "failed", f"{cut}no call was made"
    if sent == 0:
        return "failed", (
            f"{cut}none of its {records:,} calls was sent: each failed before it could go "
            "(see the invalid_request, missed and backlogged counts)"
        )
    if stop_reason:
        return "partial", stop_reason
    return "complete", None


def versions() -> dict[str, str]:
    out = {}
    for dist in ("surgeproof", "locust", "aiohttp", "numpy", "gevent", "websocket-client"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    out["python"] = platform.python_version()
    return out


def host_info() -> dict[str, Any]:
    import os

    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def git_commit() -> str | None:
    root = Path(__file__).resolve().parents[3]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_meta(
    *,
    run_id: str,
    started_ns: int,
    t0_ns: int,
    plan: Any,
    model: str,
    target: dict[str, Any],
    workers_expected: int,
    client: dict[str, Any] | None,
    driver: dict[str, Any],
    dialect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run.json fields known at the start of a run (FORMAT.md), for every driver alike."""
    utc, kst = iso_pair(started_ns)
    return {
        "run_id": run_id,
        "driver": driver,
        "started_at_utc": utc,
        "started_at_kst": kst,
        "t0_ns": t0_ns,
        "scenario": plan.to_dict(),
        "scenario_name": plan.scenario.name,
        "profile_name": plan.profile.name if plan.profile else None,
        "load_model": model,
        "dialect": dialect,
        "scale": {
            "time_scale": plan.time_scale,
            "user_scale": plan.user_scale,
            "assumption": "; ".join(plan.assumptions) or "unscaled",
        },
        "target": target,
        "workers": {"expected": workers_expected, "seen": [], "lost": []},
        "host": host_info(),
        "versions": versions(),
        "git_commit": git_commit(),
        "client": client,
    }
