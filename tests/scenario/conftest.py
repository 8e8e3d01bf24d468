"""Helpers for scenario tests: write a scenario file and load it."""

from pathlib import Path

import pytest


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write ``text`` to ``<tmp>/<name>.yaml`` and return its path."""

    def write(text: str, name: str = "s") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
