"""Fixtures: a real exchange on an ephemeral loopback port."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from surgeproof.exchange import build_config, exchange_in_thread

# Test folders are packages (unique module names); their helper modules import by bare name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def exchange() -> Iterator[Callable]:
    """``exchange(**config)`` starts a real exchange (in a thread, own loop) for this test."""
    started = []

    def start(**overrides):
        cm = exchange_in_thread(build_config(overrides))
        ex = cm.__enter__()
        started.append(cm)
        return ex

    yield start
    for cm in reversed(started):
        cm.__exit__(None, None, None)
