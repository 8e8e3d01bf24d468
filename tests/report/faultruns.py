"""A synthetic step run with faults injected the way the load layer records them: the embedded
exchange killed and restarted during the third step, a worker lost during the second."""

from __future__ import annotations

import json
from pathlib import Path

from stepruns import NS, T0_NS, write_step_run

from surgeproof.rundir.writer import JsonlLog, write_meta

#: Steps hold 0-4 s, 7-11 s, 14-18 s and 21-25 s (see stepruns.py).
DOWN_S, UP_S = 15.0, 16.5
LOST_S, SHORT_FROM_S, RESTORED_S = 8.2, 8.0, 9.0


def write_fault_run(path: Path) -> Path:
    """The step run with a target outage and a lost worker; its path."""
    write_step_run(path)
    events = JsonlLog(path / "events.jsonl")
    fault = {"fault": 0, "name": "target-outage-1", "kind": "target-outage"}
    events.append(
        {"t_ns": T0_NS + int(DOWN_S * NS), "type": "fault_start", **fault, "seconds": 1.5}
    )
    events.append(
        {
            "t_ns": T0_NS + int(DOWN_S * NS),
            "type": "target_down",
            "cause": "injected",
            "signal": "SIGKILL",
            "pid": 501,
        }
    )
    events.append(
        {"t_ns": T0_NS + int(UP_S * NS), "type": "target_up", "down_s": UP_S - DOWN_S, "pid": 502}
    )
    events.append({"t_ns": T0_NS + int(UP_S * NS), "type": "fault_end", **fault})
    events.close()
    meta = json.loads((path / "run.json").read_text())
    meta.pop("schema_version", None)
    meta["workers"]["lost"] = [
        {
            "source": "worker-b7",
            "t_ns": T0_NS + int(LOST_S * NS),
            "users": 25,
            "detected_by": "process exit",
            "last_batch_ns": T0_NS + int(SHORT_FROM_S * NS),
            "short_from_ns": T0_NS + int(SHORT_FROM_S * NS),
            "restored_t_ns": T0_NS + int(RESTORED_S * NS),
            "short_s": RESTORED_S - SHORT_FROM_S,
        }
    ]
    write_meta(path, meta)
    return path
