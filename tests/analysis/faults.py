"""Fault records injected into synthetic run directories the way the load layer writes them:
``target_down``/``target_up`` and ``worker_lost``/``rebalanced`` events, run.json ``workers.lost``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthetic import NS, T0_NS, Level, QueueModel, queue_run

from surgeproof.rundir.schema import FLAG_ORDER_SUBMIT
from surgeproof.rundir.writer import JsonlLog, write_meta


def at(t_s: float) -> int:
    """Unix ns of ``t_s`` seconds into a synthetic run."""
    return T0_NS + int(t_s * NS)


def add_events(run_dir: Path, *events: dict[str, Any]) -> None:
    """Append events to the run's events.jsonl with the real writer."""
    log = JsonlLog(run_dir / "events.jsonl")
    for e in events:
        log.append(e)
    log.close()


def target_outage(run_dir: Path, down_s: float, up_s: float | None) -> None:
    """An injected SIGKILL of the embedded exchange at ``down_s``, back at ``up_s`` (or never)."""
    events = [
        {
            "t_ns": at(down_s),
            "type": "target_down",
            "cause": "injected",
            "signal": "SIGKILL",
            "pid": 4100,
        },
    ]
    if up_s is not None:
        events.append({"t_ns": at(up_s), "type": "target_up", "down_s": up_s - down_s, "pid": 4200})
    add_events(run_dir, *events)


def lost_worker(
    source: str, lost_s: float, short_from_s: float, restored_s: float | None, users: int = 10
) -> dict[str, Any]:
    """A run.json ``workers.lost[]`` entry as the load layer writes it."""
    entry: dict[str, Any] = {
        "source": source,
        "t_ns": at(lost_s),
        "users": users,
        "detected_by": "process exit",
        "last_batch_ns": at(short_from_s),
    }
    if restored_s is not None:
        entry.update(
            short_from_ns=at(short_from_s),
            restored_t_ns=at(restored_s),
            short_s=restored_s - short_from_s,
        )
    return entry


def set_lost_workers(run_dir: Path, *lost: dict[str, Any]) -> None:
    """Rewrite run.json with ``workers.lost`` = ``lost`` (atomically, with the real writer)."""
    meta = json.loads((run_dir / "run.json").read_text())
    meta.pop("schema_version", None)
    meta["workers"] = dict(meta.get("workers") or {}, lost=list(lost))
    write_meta(run_dir, meta)


def fault(
    run_dir: Path,
    index: int,
    start_s: float,
    end_s: float | None,
    *,
    name: str = "failover",
    kind: str = "command",
    **end_fields: Any,
) -> None:
    """A fault as the load layer's schedule writes it: ``fault_start`` and (unless ``end_s`` is
    None: still going when the run ended) ``fault_end``."""
    events = [
        {"t_ns": at(start_s), "type": "fault_start", "fault": index, "name": name, "kind": kind,
         "argv": ["./failover.sh"], "origin": "--fault-command 6:./failover.sh"},
    ]  # fmt: skip
    if end_s is not None:
        events.append(
            {"t_ns": at(end_s), "type": "fault_end", "fault": index, "name": name, "kind": kind,
             "exit_status": 0, "output_tail": ["switched to standby"], **end_fields}
        )  # fmt: skip
    add_events(run_dir, *events)


def journal(run_dir: Path, source: str, lines: list[dict[str, Any]]) -> None:
    """The client side's order journal of one source (``orders/<source>.jsonl``)."""
    log = JsonlLog(run_dir / "orders" / f"{source}.jsonl")
    for line in lines:
        log.append(line)
    log.close()


def lookups(run_dir: Path, answers: list[dict[str, Any]]) -> None:
    """Order lookups as ``order_lookup`` writes them (``reconciliation/order_status.jsonl``)."""
    log = JsonlLog(run_dir / "reconciliation" / "order_status.jsonl")
    for a in answers:
        log.append({"t_ns": T0_NS + 3600 * NS, **a})
    log.close()


def drill_run(path: Path, output_tail: list[str] | None = None) -> int:
    """A 20 s hold at 40 users whose exchange stalls from 6 s to 9 s, with a fault command
    ("failover") started at 6 s and over at 6.3 s; the number of order submissions in flight
    when it began."""
    run = queue_run(path, QueueModel(workers=16, service_s=0.1, timeout_s=1.0),
                    [Level(40, hold_s=20.0, settle_s=0.0)], stalls=[(6.0, 9.0)])  # fmt: skip
    rec = run.records
    orders = (rec["flags"] & FLAG_ORDER_SUBMIT) != 0
    flying = rec[orders & (rec["sent_ns"] < at(6)) & (rec["end_ns"] >= at(6))]
    fault(path, 0, 6.0, 6.3, output_tail=output_tail or ["switched"])
    return len(flying)
