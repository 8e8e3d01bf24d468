"""A person holds one app session: never two logins at once, and a leaver ends what it opened.

The member DB here is slow (1.5 s a login) but wide (40 at once), and the users call every
~100 ms, so several calls fall due while each login is out; half the users leave two
seconds in, many of them mid-login. The exchange's own session count is the judge: a session
cap of N must mean N people.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml
from load_cli import surgeproof

from surgeproof.rundir.reader import read_records
from surgeproof.scenario.catalog import scenarios_dir

SCENARIO = """\
name: app-sessions
description: 20 app users log in through a slow member DB; 10 leave two seconds in.
model: open
timeline:
  - {phase: arrive, duration: 2s, users: 20, mix: {app_user: 1.0}, intensity: 20, steady: false}
  - {phase: stay, duration: 5s, users: 10, mix: {app_user: 1.0}, intensity: 20}
"""


@pytest.mark.slow
def test_one_login_per_person_and_no_session_outlives_the_run(tmp_path):
    config = yaml.safe_load((scenarios_dir() / "targets" / "default.yaml").read_text())
    config.update({"member_db_time_ms": 1500, "member_db_workers": 40, "limits": "off"})
    target = tmp_path / "target.yaml"
    target.write_text(yaml.safe_dump(config))
    scenario = tmp_path / "sessions.yaml"
    scenario.write_text(SCENARIO)
    out = surgeproof(
        "run", str(scenario), "--target-config", str(target), "--reports-dir", str(tmp_path),
        "--run-id", "a", "--no-analyze", timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    rs = read_records(tmp_path / "a")
    r = rs.records
    login = r["name_id"] == rs.names.index("POST /v1/session")
    logout = r["name_id"] == rs.names.index("DELETE /v1/session")
    opened = Counter(r["user"][login & (r["status"] == 201)].tolist())
    tried = Counter(r["user"][logout].tolist())
    assert len(opened) >= 10  # the stayers got in, and some of the leavers
    assert max(opened.values()) == 1, opened  # ... once, though calls fell due mid-login
    assert tried == opened  # and everyone who got in logged out, leavers mid-login too
    # The exchange's own count: every session left open is one whose logout it refused (a
    # busy exchange may shed a logout; it answered all the others).
    refused = int((logout & (r["status"] != 200)).sum())
    seconds = [json.loads(x) for x in (tmp_path / "a" / "server" / "metrics.jsonl").open()]
    assert seconds[-1]["active_sessions"] == refused
