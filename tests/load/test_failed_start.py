"""A run that fails before its first request leaves its run directory marked "failed" with the
reason, never "running" (which readers take for a run whose writer died mid-way)."""

from __future__ import annotations

import json
import socket

from load_cli import surgeproof

NEEDS_LOGIN = """\
name: needs-login
description: App users log in; a target with no accounts cannot serve them.
timeline:
  - {phase: a, duration: 5s, users: 2, mix: {app_user: 1}}
"""


def test_a_run_refused_after_its_directory_was_made_is_marked_failed(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(NEEDS_LOGIN)
    with socket.socket() as s:  # a loopback port nothing listens on: no accounts to fetch
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = f"http://127.0.0.1:{port}"
    out = surgeproof(
        "run", str(scenario), "--target", target, "--reports-dir", str(tmp_path), "--run-id", "f",
        timeout=60,
    )  # fmt: skip
    [line] = out.stderr.strip().splitlines()
    assert out.returncode == 2 and "need accounts" in line and "Traceback" not in out.stderr
    meta = json.loads((tmp_path / "f" / "run.json").read_text())
    assert meta["status"] == "failed"
    assert "need accounts" in meta["failed_reason"]
    assert meta["ended_at_utc"] and meta["schema_version"] == 1
    # The analysis says what happened instead of analysing nothing.
    analysed = surgeproof("analyze", str(tmp_path / "f"), timeout=60)
    assert analysed.returncode == 2 and "Traceback" not in analysed.stderr
