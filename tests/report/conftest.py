"""Shared runs for the report tests: one real short run (real Locust, embedded exchange)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from stepruns import write_step_run

REAL_RUN_ARGS = (
    "martial-law-2024-12-03",
    "--time-scale",
    "1/360",  # 3 h of scenario in 30 s
    "--user-scale",
    "1/10000",  # Upbit's 540,000 peak = 54 simulated users
    "--max-duration",
    "60",
    "--no-analyze",  # the report tests analyse it themselves (report analyses a bare run)
)


@pytest.fixture(scope="session")
def real_run(tmp_path_factory) -> Path:
    """The martial-law scenario, compressed, against the embedded exchange on loopback (~35 s)."""
    reports = tmp_path_factory.mktemp("reports")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "surgeproof.cli",
            "run",
            *REAL_RUN_ARGS,
            "--reports-dir",
            str(reports),
            "--run-id",
            "real-short",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    run_dir = reports / "real-short"
    if not (run_dir / "run.json").is_file():
        pytest.fail(f"surgeproof run made no run directory:\n{done.stderr[-3000:]}")
    return run_dir


@pytest.fixture
def real_run_copy(real_run, tmp_path) -> Path:
    """A private copy of the real run, for tests that write into it or alter it."""
    return Path(shutil.copytree(real_run, tmp_path / real_run.name))


@pytest.fixture
def step_run(tmp_path) -> Path:
    """A synthetic step run whose ceiling is exactly 600,000 real users (see stepruns.py)."""
    return write_step_run(tmp_path / "steps")
