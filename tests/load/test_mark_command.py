"""``surgeproof mark`` against a real run started with ``--mark-port``: a mark sealed with the
fleet key becomes a ``mark`` event on the run's clock; no key, a wrong key, a replay and a
target off this host are refused, each in one line (exit 2), and the run says what it refused."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import pytest
from load_cli import FLEET_KEY, events, fleet_env, start_run, surgeproof

from surgeproof.load.marks import sealed_mark
from surgeproof.secret import Secret

SCENARIO = """\
name: marked
description: a quiet hold to mark
slos:
  - {group: "*", error_ratio: 100%}
timeline:
  - phase: hold
    duration: 10s
    users: 4
    mix: {market_watcher: 1.0}
    steady: false
"""


def _post(url: str, body: bytes) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with opener.open(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_rejects_without_a_key_before_the_run_starts(tmp_path):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    env = {k: v for k, v in os.environ.items() if k != "SURGEPROOF_FLEET_KEY"}
    done = surgeproof("run", str(tmp_path / "s.yaml"), "--mark-port", "0", "--reports-dir",
                      str(tmp_path / "r"), env=env)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--mark-port 0: no fleet key" in done.stderr
    assert not (tmp_path / "r").exists()
    done = surgeproof("mark", str(tmp_path), "failover", env=env)
    assert done.returncode == 2 and "mark: no fleet key" in done.stderr


def test_marks_are_events_of_the_run_and_refusals_are_said(tmp_path):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    run_dir = tmp_path / "r" / "marked"
    proc = start_run(str(tmp_path / "s.yaml"), "--mark-port", "0", "--reports-dir",
                     str(tmp_path / "r"), "--run-id", "marked", "--no-analyze",
                     env=fleet_env())  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (run_dir / "mark-endpoint.json").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        endpoint = json.loads((run_dir / "mark-endpoint.json").read_text())
        url = endpoint["url"]
        assert url.startswith("http://127.0.0.1:") and endpoint["run_id"] == "marked"
        ok = surgeproof("mark", str(run_dir), "failover started", env=fleet_env())
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "surgeproof mark: run marked: marked 'failover started'\n"
        assert surgeproof("mark", url, "db back", env=fleet_env()).returncode == 0
        wrong = {**os.environ, "SURGEPROOF_FLEET_KEY": "w" * 64}
        bad = surgeproof("mark", str(run_dir), "forged", env=wrong)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1
        assert f"mark: {url} refused the mark (HTTP 401: bad_mac" in bad.stderr
        body = sealed_mark(Secret(FLEET_KEY), "marked", "sent twice")
        assert [_post(url, body), _post(url, body)] == [200, 409]
        far = surgeproof("mark", "http://192.0.2.1:8080/mark", "x", env=fleet_env())
        assert far.returncode == 2 and "expected a loopback mark endpoint" in far.stderr
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    assert not (run_dir / "mark-endpoint.json").exists()  # gone with the endpoint
    evs = events(run_dir)
    marks = [e for e in evs if e["type"] == "mark"]
    assert [m["text"] for m in marks] == ["failover started", "db back", "sent twice"]
    start = next(e["t_ns"] for e in evs if e["type"] == "run_start")
    end = next(e["t_ns"] for e in evs if e["type"] == "run_end")
    assert all(start < m["t_ns"] < end for m in marks)
    [refusals] = [e for e in evs if e["type"] == "marks_refused"]
    assert refusals["counts"] == {"bad_mac": 1, "replay": 1}
    assert "surgeproof run: marks refused: 1 bad_mac, 1 replay" in out
    assert FLEET_KEY not in (run_dir / "events.jsonl").read_text() + out + err
    assert FLEET_KEY not in (run_dir / "run.json").read_text()


pytestmark = pytest.mark.slow
