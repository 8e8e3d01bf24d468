"""Headless Chromium for tests that look at a page as a person's browser shows it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium() -> str:
    """The browser, or the test is skipped (``.ci/run`` installs it)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    return browser


def dump_dom(url: str, profile: Path, budget_ms: int = 4000) -> str:
    """The page's DOM after its scripts ran for ``budget_ms`` of virtual time (its fetches
    answered by the real server)."""
    done = subprocess.run(
        [
            chromium(),
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout
