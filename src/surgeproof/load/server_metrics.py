"""Copy the embedded exchange's per-second metrics into the run directory as they become final."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from surgeproof.load.target import fetch_json
from surgeproof.rundir.schema import SERVER_LEDGER, SERVER_METRICS
from surgeproof.rundir.writer import JsonlLog


class ServerMetricsPoller:
    """Appends each whole second of ``/admin/metrics`` once, in order, to server/metrics.jsonl."""

    def __init__(self, base_url: str, run_dir: Path, since_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.run_dir = run_dir
        self._log = JsonlLog(run_dir / SERVER_METRICS)
        self._next_t = int(since_s)
        #: The ``gateways`` list of the latest answer (None when it did not answer).
        self.gateways: list[dict] | None = None

    def poll(self, final: bool = False) -> int:
        """Fetch and append seconds that are final (all of them when ``final``)."""
        data = fetch_json(f"{self.base_url}/admin/metrics?since={self._next_t}")
        rows = _rows(data)
        gateways = data.get("gateways") if isinstance(data, dict) else None
        self.gateways = (
            [g for g in gateways if isinstance(g, dict)] if isinstance(gateways, list) else None
        )
        written = 0
        for row in sorted(rows, key=lambda r: r.get("t", 0)):
            t = int(row.get("t", -1))
            if t < self._next_t:
                continue
            complete = row.get("final", t < time.time() - 2)
            if not complete and not final:
                break
            self._log.append(row)
            self._next_t = t + 1
            written += 1
        return written

    def write_ledger(self) -> None:
        ledger = fetch_json(f"{self.base_url}/admin/ledger")
        if ledger is not None:
            path = self.run_dir / SERVER_LEDGER
            path.write_text(json.dumps(ledger, indent=2, sort_keys=True) + "\n")

    def close(self) -> None:
        self._log.close()


def _rows(data: Any) -> list[dict]:
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict):
        for key in ("seconds", "metrics", "rows"):
            if isinstance(data.get(key), list):
                return [r for r in data[key] if isinstance(r, dict)]
    return []
