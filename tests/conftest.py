"""Fixtures every hostile-input test shares: a working directory, and a sentinel folder beside
it that must be exactly as it was when the test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentinel import Sentinel


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory (files are named relative to it), with the sentinel beside it."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[Sentinel]:
    """A folder outside the test's run directories; unchanged at the end, or the test fails."""
    s = Sentinel(tmp_path / "sentinel")
    yield s
    s.assert_unchanged()
