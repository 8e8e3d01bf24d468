"""step-to-break finds the embedded exchange's configured ceiling, bracketed to the resolution.

The target holds at most 30 app sessions (``max_sessions: 30``): the 31st concurrent app user
cannot log in, so every level above 30 breaks the error-ratio SLO and every level up to 30
holds (a person never holds two sessions, and one who leaves logs out what it opened). The
search must bracket 30 within 5% without going far past it. Intensity 15 gives every endpoint
group at least the 100 calls per 5-s window that an error-ratio limit of 1% needs to claim a
pass (the analyzer's tail rule: one error alone must not break it), from 10 users on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from load_cli import events, run_meta, surgeproof

CEILING = 30

SEARCH = """\
name: step-to-break-test
description: Step search over app users against a 30-session target.
model: open
slos:
  - {group: "*", error_ratio: 1%}
search:
  start: 10
  max: 80
  step_factor: 1.5
  settle: 2s
  hold: 5s
  resolution: 5%
  mix: {app_user: 1.0}
  intensity: 15
"""


@pytest.mark.slow
def test_step_to_break_brackets_the_session_ceiling(tmp_path):
    default = Path(__file__).resolve().parents[2] / "scenarios/targets/default.yaml"
    config = yaml.safe_load(default.read_text())
    config.update({"max_sessions": CEILING, "limits": "off"})
    target = tmp_path / "target.yaml"
    target.write_text(yaml.safe_dump(config))
    scenario = tmp_path / "search.yaml"
    scenario.write_text(SEARCH)
    out = surgeproof(
        "run",
        str(scenario),
        "--target-config",
        str(target),
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "stb",
        "--timeout",
        "2",
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    meta = run_meta(tmp_path / "stb")
    search = meta["search"]
    assert search["complete"]
    b = search["bracket"]
    # 30 people hold 30 sessions; the 31st cannot log in, and its failed logins break the 1%
    # limit although it alone makes too few calls to claim a pass (analysis.slo.decides).
    assert b["last_pass"] <= CEILING < b["first_fail"], search["levels"]
    assert b["first_fail"] - b["last_pass"] <= 1 or b["width"] <= 0.05
    assert max(lv["users"] for lv in search["levels"]) <= CEILING * 1.5 + 1
    level_events = [e for e in events(tmp_path / "stb") if e["type"] == "level"]
    assert [e["verdict"] for e in level_events] == [lv["verdict"] for lv in search["levels"]]
