"""The live dashboard: the page a real run serves, read by headless Chromium, shows for a finished
second exactly what the run directory holds for it; it outlives a lost worker; its server
refuses what it does not serve."""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np
import pytest
from browser import dump_dom
from load_cli import run_meta, sigkill_a_local_worker, start_run, wait_for_t0

from surgeproof.load.dashboard import Dashboard
from surgeproof.load.dashboard_state import RunFacts, dashboard_state, target_label
from surgeproof.load.live_metrics import LiveTally
from surgeproof.load.live_seconds import MAX_SECONDS
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome
from surgeproof.scenario.model import Slo

NS = 1_000_000_000
T0 = 1_796_000_000 * NS
NAMES = {0: ("GET /v1/ticker", "quotation"), 1: ("POST /v1/orders", "orders")}


def _records(rows) -> bytes:
    """``(name_id, outcome, intended_s, latency_ms)`` rows as raw records."""
    rec = np.zeros(len(rows), dtype=RECORD_DTYPE)
    for i, (name_id, outcome, at_s, latency_ms) in enumerate(rows):
        unsent = outcome in (Outcome.MISSED, Outcome.BACKLOGGED, Outcome.CANCELLED)
        rec[i]["intended_ns"] = T0 + int(at_s * NS)
        rec[i]["sent_ns"] = 0 if unsent else T0 + int(at_s * NS)
        rec[i]["end_ns"] = 0 if unsent else T0 + int(at_s * NS) + int(latency_ms * 1e6)
        rec[i]["name_id"] = name_id
        rec[i]["kind"] = Kind.HTTP
        rec[i]["outcome"] = outcome
    return rec.tobytes()


# -- the second by second merge --------------------------------------------------------------


def test_a_closed_second_counts_calls_when_due_and_answers_when_they_ended():
    tally = LiveTally([Slo("quotation", "p99", 500.0)], settle_s=3.0)
    tally.start(T0)
    rows = [
        (0, Outcome.OK, 1.2, 100),
        (0, Outcome.OK, 1.9, 300),  # due in second 1, answered in second 2
        (1, Outcome.SERVER_ERROR, 1.5, 5),
        (1, Outcome.CANCELLED, 1.6, 0),  # never counted as offered
        (0, Outcome.MISSED, 2.1, 0),  # offered, no answer
        (0, Outcome.OK, 3.2, 10),  # a second still open at t=6
    ]
    tally.on_batch("local", _records(rows), NAMES, None)
    sample = {"t_ns": T0 + int(1.5 * NS), "target_users": 20, "active_users": 18, "cpu_percent": 30}
    tally.on_batch("local", b"", {}, sample)
    state = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 6 * NS)
    by_t = {r["t"]: r for r in state["rows"]}
    assert sorted(by_t) == [0, 1, 2]  # seconds 0-2 closed at t=6 with 3 s to settle
    one, two = by_t[1], by_t[2]
    assert (one["offered"], one["answered"], one["ok"]) == (3, 2, 1)
    assert one["errors"] == {"server_error": 1, "cancelled": 1}
    assert one["groups"]["quotation"]["count"] == 2 and one["groups"]["orders"]["count"] == 1
    assert one["error_ratio"] == pytest.approx(1 / 3)
    assert (one["users"], one["active"], one["cpu"]) == (20.0, 18.0, {"local": 30.0})
    assert (two["offered"], two["answered"], two["ok"]) == (1, 1, 1)
    assert two["errors"] == {"missed": 1}
    # The 300-ms call is the quotation group's p99 in second 1, within its bucket.
    assert 250 < one["groups"]["quotation"]["p99"] <= 300
    [still] = state["open"]
    assert still["t"] == 3 and not still["final"] and still["offered"] == 1


def test_a_call_arriving_for_a_closed_second_is_counted_late_never_rewriting_it():
    tally = LiveTally(settle_s=1.0)
    tally.start(T0)
    tally.on_batch("local", _records([(0, Outcome.OK, 0.5, 10)]), NAMES, None)
    first = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 5 * NS)["rows"]
    tally.on_batch("local", _records([(0, Outcome.TIMEOUT, 0.7, 4000)]), {}, None)
    again = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 6 * NS)
    assert again["rows"][0] == first[0] and again["late"] == 1
    # The run's totals (Prometheus) still hold it.
    assert tally.counts.sum() == 2


def test_records_with_impossible_times_stay_out_of_the_seconds():
    tally = LiveTally(settle_s=1.0)
    tally.start(T0)
    far = [(0, Outcome.OK, 10 * 365 * 86400.0, 1), (0, Outcome.OK, -86400.0, 1)]
    tally.on_batch("local", _records(far), NAMES, None)
    state = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 3 * NS)
    assert all(r["offered"] == 0 for r in state["rows"] + state["open"])
    assert tally.counts.sum() == 2


def test_a_page_polling_first_long_after_the_start_gets_the_last_kept_seconds():
    tally = LiveTally(settle_s=1.0)
    tally.start(T0)
    tally.on_batch("local", _records([(0, Outcome.OK, 0.5, 10)]), NAMES, None)
    state = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 10 * MAX_SECONDS * NS)
    rows = state["rows"]
    assert len(rows) == MAX_SECONDS and rows[-1]["t"] == 10 * MAX_SECONDS - 2
    assert rows[0]["t"] == rows[-1]["t"] - MAX_SECONDS + 1


def test_the_run_end_closes_every_second_and_a_step_search_shows_its_bracket():
    tally = LiveTally(settle_s=30.0)
    tally.start(T0)
    tally.on_batch("local", _records([(0, Outcome.OK, 3.5, 10)]), NAMES, None)
    for users, verdict in ((10, "pass"), (20, "fail"), (15, "pass")):
        tally.on_event(
            {"t_ns": T0, "type": "level", "label": f"level-{users}", "target_users": users,
             "verdict": verdict, "reasons": [] if verdict == "pass" else ["orders p99 > 500 ms"]}
        )  # fmt: skip
    tally.on_event({"t_ns": T0 + 4 * NS, "type": "worker_lost", "source": "worker-a"})
    tally.on_event({"t_ns": T0 + 5 * NS, "type": "run_end", "status": "complete"})
    state = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 5 * NS)
    assert [r["t"] for r in state["rows"]] == [0, 1, 2, 3] and state["open"] == []
    # Lingering after the end adds no empty seconds.
    later = dashboard_state(tally, RunFacts(), 3, now_ns=T0 + 90 * NS)
    assert later["rows"] == [] and later["closed_through"] == 3
    assert [lv["bracket"] for lv in state["levels"]] == [
        {"last_pass": 10, "first_fail": None},
        {"last_pass": 10, "first_fail": 20},
        {"last_pass": 15, "first_fail": 20},
    ]
    assert state["levels"][1]["reasons"] == ["orders p99 > 500 ms"]
    [mark] = state["marks"]
    assert mark == {"t": 4.0, "type": "worker_lost", "text": "worker worker-a lost"}
    workers = {w["source"]: w for w in state["workers"]}
    assert workers["worker-a"] == {
        "source": "worker-a",
        "state": "lost",
        "users": None,
        "cpu": None,
        "records": 0,
    }
    assert workers["local"]["state"] == "alive" and workers["local"]["records"] == 1


def test_an_external_mark_is_drawn_on_the_time_charts_with_its_text():
    tally = LiveTally(settle_s=30.0)
    tally.start(T0)
    tally.on_event({"t_ns": T0 + 7 * NS, "type": "mark", "text": "failover started", "via": "x"})
    [mark] = dashboard_state(tally, RunFacts(), None, now_ns=T0 + 8 * NS)["marks"]
    assert mark == {"t": 7.0, "type": "mark", "text": "mark: failover started"}


def test_the_target_is_named_without_credentials_or_path():
    assert target_label("https://user:secret@staging.example:8443/api?key=1") == (
        "https://staging.example:8443"
    )
    assert target_label("http://[::1]:9000/") == "http://[::1]:9000"


# -- the server ---------------------------------------------------------------------------


@pytest.fixture
def served():
    """A dashboard on an ephemeral loopback port, asked over raw sockets inside gevent (the
    conductor's server is a gevent server)."""
    tally = LiveTally([Slo("orders", "p99", 500.0)])
    tally.start(time.time_ns() - 30 * NS)
    facts = RunFacts(run_id="r1", scenario="s", target=target_label("http://u:pw@127.0.0.1:1"))
    board = Dashboard(tally, "127.0.0.1", 0, facts)
    board.start()
    yield board
    board.close()


def _ask(board: Dashboard, request: bytes) -> tuple[str, bytes]:
    import gevent
    from gevent import socket

    def talk():
        with socket.create_connection((board.host, board.port), timeout=10) as s:
            s.sendall(request)
            chunks = []
            while data := s.recv(65536):
                chunks.append(data)
        return b"".join(chunks)

    reply = gevent.spawn(talk).get(timeout=15)
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), body


def _get(path: str, host: str = "127.0.0.1", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n".encode()


def test_the_page_its_script_and_plotly_come_from_the_run_itself(served):
    status, page = _ask(served, _get("/"))
    assert status.endswith("200 OK")
    scripts = re.findall(rb'<script src="([^"]+)"', page)
    assert scripts == [b"/plotly.min.js", b"/dashboard.js"]  # nothing from the internet
    for path in scripts:
        status, body = _ask(served, _get(path.decode()))
        assert status.endswith("200 OK") and len(body) > 1000
    status, body = _ask(served, _get("/api/state?after=-1"))
    state = json.loads(body)
    assert state["run"]["id"] == "r1" and state["run"]["target"] == "http://127.0.0.1:1"
    assert b"pw" not in body and b"u:" not in body


def _raw(first_line: str, host: str = "127.0.0.1", body: bytes = b"") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    head = f"{first_line} HTTP/1.1\r\nHost: {host}\r\n{length}Connection: close\r\n\r\n"
    return head.encode() + body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (_raw("GET /../../../etc/passwd"), "404"),
        (_raw("GET /%2e%2e/%2e%2e/etc/passwd"), "404"),
        (_raw("GET /dashboard_page/index.html"), "404"),
        (_raw("GET /report"), "404"),  # no report before the run has one
        (_raw("GET /", host="attacker.example"), "421"),  # DNS rebinding onto loopback
        (_raw("GET /", host="attacker.example:80"), "421"),
        (_raw("POST /api/state", body=b"{}"), "405"),
        (_raw("GET /api/state", body=b"hello"), "413"),
        (_raw("GET /api/state?" + "a" * 500), "414"),
        (_raw("GET /" + "a" * 5000), "414"),
    ],
)
def test_what_it_does_not_serve_is_refused(served, request_bytes, status):
    got, body = _ask(served, request_bytes)
    assert got.split(" ")[1] == status, got
    assert b"root:" not in body


def test_a_bad_cursor_is_read_as_no_cursor(served):
    for query in ("after=abc", "after=1e99", "after=1&after=2&after=3", "after=-5"):
        status, body = _ask(served, _get(f"/api/state?{query}"))
        assert status.endswith("200 OK") and "rows" in json.loads(body), query


def test_the_report_is_served_only_once_the_run_has_one(served, tmp_path):
    report = tmp_path / "report.html"
    report.write_text("<html>the report</html>")
    served.finish({"status": "pass", "headline": "PASS", "lines": []}, report)
    status, body = _ask(served, _get("/report"))
    assert status.endswith("200 OK") and body == b"<html>the report</html>"
    state = json.loads(_ask(served, _get("/api/state"))[1])
    assert state["final"]["report"] == "/report" and state["final"]["status"] == "pass"


def test_a_busy_port_is_one_line(served):
    from surgeproof.errors import UserError

    with pytest.raises(UserError, match=rf"--dashboard {served.port}: cannot listen on 127.0.0.1"):
        Dashboard(served.tally, "127.0.0.1", served.port, RunFacts())


# -- a real run, in a real browser -------------------------------------------------------------

LIVE = """\
name: live-page
description: A short steady run for the dashboard test.
model: open
slos:
  - {group: quotation, p99: 500ms}
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: warm
    duration: 3s
    users: 12
    ramp: 2s
    mix: {market_watcher: 0.4, app_user: 0.4, api_bot: 0.2}
  - phase: hold
    duration: 27s
    users: 16
    mix: {market_watcher: 0.4, app_user: 0.4, api_bot: 0.2}
"""


class Output(threading.Thread):
    """The run's standard output, read as it comes (the dashboard's URL is printed there)."""

    def __init__(self, proc) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.lines: list[str] = []

    def run(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def url(self, within_s: float = 60) -> str:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for line in self.lines:
                m = re.search(r"live dashboard on (http://127\.0\.0\.1:\d+/)", line)
                if m:
                    return m.group(1)
            time.sleep(0.1)
        raise AssertionError("no dashboard URL printed:\n" + "".join(self.lines))


def _shown_second(dom: str) -> tuple[int, dict[str, int]]:
    """The page's last complete second and the counts it shows for it."""
    m = re.search(r'id="second"[^>]*data-second="(-?\d+)"', dom)
    assert m, "the page shows no complete second yet"
    shown = {}
    for key, value in re.findall(r'data-key="([^"]+)">([^<]*)<', dom):
        n = int(value.replace(",", ""))
        if n or key in ("offered", "answered", "ok"):  # a group listed for its answers alone
            shown[key] = n
    return int(m.group(1)), shown


def _expected(run_dir, second: int) -> dict[str, int]:
    """That second's counts as the analysis makes them from the run directory (1-s windows from
    t0), checked against the raw records for the calls due."""
    a = json.loads((run_dir / "analysis.json").read_text())
    ts = a["timeseries"]
    assert ts["window_s"] == 1.0
    i = ts["t_s"].index(float(second))
    out = {
        "offered": round(ts["offered_rps"][i]),
        "answered": round(ts["achieved_rps"][i]),
        "ok": round(ts["ok_rps"][i]),
    }
    out.update({f"errors.{c}": n[i] for c, n in ts["errors"].items() if n[i]})
    out.update(
        {
            f"groups.{g}.count": s["count"][i]
            for g, s in ts["groups"].items()
            if g != "*" and s["count"][i]
        }
    )
    rec = read_records(run_dir).records
    due = (rec["intended_ns"] - run_meta(run_dir)["t0_ns"]) // NS == second
    calls = due & (rec["kind"] != Kind.WS_GAP) & (rec["outcome"] != Outcome.CANCELLED)
    assert int(calls.sum()) == out["offered"]
    return out


def _start(tmp_path, *extra: str):
    scenario = tmp_path / "live.yaml"
    scenario.write_text(LIVE)
    proc = start_run(
        str(scenario),
        "--reports-dir", str(tmp_path),
        "--run-id", "live",
        "--timeout", "3",
        "--dashboard", "0",
        "--metrics-linger", "3",
        "--no-report",
        *extra,
    )  # fmt: skip
    out = Output(proc)
    out.start()
    return proc, out, tmp_path / "live"


@pytest.mark.slow
def test_the_page_shows_a_finished_second_as_the_run_directory_counts_it(tmp_path):
    proc, out, run_dir = _start(tmp_path)
    try:
        url = out.url()
        wait_for_t0(run_dir, 24)
        dom = dump_dom(url, tmp_path / "profile")
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    second, shown = _shown_second(dom)
    assert second >= 5  # a second of the steady part, seconds before the page was read
    assert shown == _expected(run_dir, second)
    assert "quotation" in dom and ">hold<" in dom  # the phase being played
    assert 'id="chart-load"' in dom and "main-svg" in dom  # plotly drew the charts


@pytest.mark.slow
def test_the_page_survives_a_worker_lost_mid_run(tmp_path):
    proc, out, run_dir = _start(tmp_path, "--workers", "2")
    try:
        url = out.url()
        sigkill_a_local_worker(proc, run_dir, after_s=6)
        wait_for_t0(run_dir, 26)
        dom = dump_dom(url, tmp_path / "profile")
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    [lost] = run_meta(run_dir)["workers"]["lost"]
    assert re.search(r'id="workers-alive">1 alive, 1 lost<', dom)
    assert f"worker {lost['source']} lost" in dom
    second, shown = _shown_second(dom)
    # A second after the loss, once the survivor runs the lost worker's users: still exact.
    lost_at = (lost["t_ns"] - run_meta(run_dir)["t0_ns"]) / NS
    assert second > lost_at + 1
    assert shown == _expected(run_dir, second)
