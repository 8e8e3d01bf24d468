"""Helpers: run the real command line in a child process and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def surgeproof(*args: str, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    """Run the real command line in a child process (Locust monkey-patches its process)."""
    return subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ},
        **kw,
    )


def run_meta(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
