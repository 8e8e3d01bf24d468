"""Real, short, bounded `surgeproof run` invocations against the embedded exchange on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test folders are packages (unique module names); their helper modules import by bare name.
sys.path.insert(0, str(Path(__file__).parent))

SMALL_SURGE = """\
name: small-surge
description: A short surge for tests; baseline then a surge with retries.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: baseline
    duration: 4s
    users: 8
    ramp: 2s
    mix: {market_watcher: 0.4, app_user: 0.4, api_bot: 0.2}
  - phase: surge
    duration: 5s
    users: 20
    ramp: 2s
    mix: {market_watcher: 0.3, panic_seller: 0.3, retrying_client: 0.2, api_bot: 0.2}
    intensity: 2
    sell_bias: 0.9
    retry: {max_attempts: 3, backoff: 0s}
"""


@pytest.fixture
def small_surge(tmp_path: Path) -> Path:
    path = tmp_path / "small-surge.yaml"
    path.write_text(SMALL_SURGE)
    return path
