"""Live metrics: the conductor's merge of every generator, scraped while a real run goes."""

from __future__ import annotations

import itertools
import threading
import time
import urllib.request
from collections import Counter

import numpy as np
import pytest
from load_cli import run_meta, sigkill_a_local_worker, start_run
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from surgeproof.load.live_metrics import (
    BASE_BUCKETS_S,
    LiveTally,
    SourceTally,
    latency_buckets,
)
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import OUTCOME_NAMES, RECORD_DTYPE, Kind, Outcome
from surgeproof.scenario.model import Slo

MS = 1_000_000
T = 1_796_000_000 * 1_000_000_000


def scrape_text(tally: LiveTally) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(tally)
    return generate_latest(registry).decode()


def parse(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` via prometheus_client's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def records(rows: list[tuple]) -> bytes:
    """Raw records from ``(name_id, kind, outcome, latency_ms, attempt)`` rows."""
    rec = np.zeros(len(rows), dtype=RECORD_DTYPE)
    for i, (name_id, kind, outcome, latency_ms, attempt) in enumerate(rows):
        unsent = outcome in (Outcome.MISSED, Outcome.BACKLOGGED)
        rec[i]["intended_ns"] = T + i * MS
        rec[i]["sent_ns"] = 0 if unsent else T + i * MS
        rec[i]["end_ns"] = 0 if unsent else T + i * MS + int(latency_ms * MS)
        rec[i]["name_id"] = name_id
        rec[i]["kind"] = kind
        rec[i]["outcome"] = outcome
        rec[i]["attempt"] = attempt
    return rec.tobytes()


NAMES = {
    0: ("GET /v1/ticker", "quotation"),
    1: ("WS connect", "websocket"),
    2: ("WS gap", "websocket"),
}


def sample(source: str, users: int, **kw) -> dict:
    return {"t_ns": T, "source": source, "target_users": 20, "active_users": users, **kw}


def test_counters_and_histograms_merge_every_source_by_the_analysis_rules():
    tally = LiveTally([Slo("quotation", "p99", 333.0)])
    q, ws, gap = 0, 1, 2
    a = [(q, Kind.HTTP, Outcome.OK, 100, 0), (q, Kind.HTTP, Outcome.OK, 333, 0)]
    a += [(q, Kind.HTTP, Outcome.TIMEOUT, 3000, 0), (q, Kind.HTTP, Outcome.MISSED, 0, 0)]
    b = [(q, Kind.HTTP, Outcome.RATE_LIMITED, 5, 0), (q, Kind.HTTP, Outcome.CANCELLED, 50, 0)]
    b += [(ws, Kind.WS_CONNECT, Outcome.OK, 2, 0), (ws, Kind.WS_CONNECT, Outcome.OK, 3, 2)]
    b += [(ws, Kind.WS_CONNECT, Outcome.CONNECTION_ERROR, 1, 1)]
    b += [(gap, Kind.WS_GAP, Outcome.OK, 900, 0), (gap, Kind.WS_GAP, Outcome.TIMEOUT, 900, 0)]
    tally.on_batch("worker-a", records(a), NAMES, sample("worker-a", 6))
    tally.on_batch("worker-b", records(b), NAMES, sample("worker-b", 14))
    got = parse(scrape_text(tally))

    assert got[("surgeproof_records_total", (("source", "worker-a"),))] == 4
    assert got[("surgeproof_records_total", (("source", "worker-b"),))] == 7
    req = "surgeproof_requests_total"
    assert got[(req, (("group", "quotation"), ("outcome", "ok")))] == 2
    assert got[(req, (("group", "quotation"), ("outcome", "rate_limited")))] == 1
    assert got[(req, (("group", "quotation"), ("outcome", "missed")))] == 1
    # ws_gap records are silences, not requests (analysis/FORMAT.md)
    assert got[(req, (("group", "websocket"), ("outcome", "ok")))] == 2
    assert got[(req, (("group", "websocket"), ("outcome", "timeout")))] == 0
    # offered: every request that came due but the cancelled one; answered: responses only
    assert got[("surgeproof_requests_offered_total", (("group", "quotation"),))] == 5
    assert got[("surgeproof_requests_answered_total", (("group", "quotation"),))] == 3
    assert got[("surgeproof_ws_reconnects_total", (("outcome", "ok"),))] == 1
    assert got[("surgeproof_ws_reconnects_total", (("outcome", "connection_error"),))] == 1
    assert got[("surgeproof_ws_sessions_lost_total", ())] == 1

    # Latency histogram: the SLO limit is an exact bound (333 ms is within it), missed and
    # cancelled calls have no latency, a timeout counts with its time to give up.
    hist = "surgeproof_request_latency_seconds"
    q_lab = (("group", "quotation"),)
    assert got[(hist + "_count", q_lab)] == 4
    assert got[(hist + "_bucket", (("group", "quotation"), ("le", "0.005")))] == 1
    assert got[(hist + "_bucket", (("group", "quotation"), ("le", "0.1")))] == 2
    assert got[(hist + "_bucket", (("group", "quotation"), ("le", "0.333")))] == 3
    assert got[(hist + "_bucket", (("group", "quotation"), ("le", "2.5")))] == 3
    assert got[(hist + "_bucket", (("group", "quotation"), ("le", "5.0")))] == 4
    assert got[(hist + "_sum", q_lab)] == pytest.approx(0.1 + 0.333 + 3.0 + 0.005)

    assert got[("surgeproof_active_users", ())] == 20
    assert got[("surgeproof_offered_users", ())] == 20
    assert got[("surgeproof_generator_share_ratio", (("source", "worker-b"),))] == 0.7
    assert got[("surgeproof_slo_latency_seconds", (("group", "quotation"), ("percentile", "p99")))]


def test_a_lost_worker_stops_counting_in_gauges_but_its_records_stay():
    tally = LiveTally()
    for source in ("worker-a", "worker-b"):
        tally.on_event({"t_ns": T, "type": "worker_joined", "source": source})
    ok = [(0, Kind.HTTP, Outcome.OK, 10, 0)] * 3
    tally.on_batch("worker-a", records(ok), NAMES, sample("worker-a", 10, cpu_percent=40.0))
    tally.on_batch("worker-b", records(ok), NAMES, sample("worker-b", 10, cpu_percent=30.0))
    assert parse(scrape_text(tally))[("surgeproof_workers_alive", ())] == 2
    tally.on_event({"t_ns": T, "type": "worker_lost", "source": "worker-a"})
    # A batch still in transit from the dead worker: its records count, its sample does not.
    tally.on_batch("worker-a", records(ok), {}, sample("worker-a", 10))
    got = parse(scrape_text(tally))
    assert got[("surgeproof_workers_alive", ())] == 1
    assert got[("surgeproof_active_users", ())] == 10
    assert got[("surgeproof_generator_share_ratio", (("source", "worker-b"),))] == 1.0
    assert ("surgeproof_generator_cpu_percent", (("source", "worker-a"),)) not in got
    assert got[("surgeproof_records_total", (("source", "worker-a"),))] == 6
    assert got[("surgeproof_events_total", (("type", "worker_lost"),))] == 1


def test_phases_become_gauges_and_annotation_timestamps():
    tally = LiveTally()
    tally.on_event({"t_ns": T, "type": "phase", "name": "shock", "index": 1})
    tally.on_event({"t_ns": T + 5_000_000_000, "type": "phase", "name": "panic", "index": 2})
    got = parse(scrape_text(tally))
    assert got[("surgeproof_phase", (("index", "2"), ("phase", "panic")))] == 1
    assert ("surgeproof_phase", (("index", "1"), ("phase", "shock"))) not in got
    start = "surgeproof_phase_start_timestamp_seconds"
    assert got[(start, (("index", "1"), ("phase", "shock")))] == T / 1e9
    assert got[(start, (("index", "2"), ("phase", "panic")))] == T / 1e9 + 5
    assert got[("surgeproof_phase_index", ())] == 2


def test_undeclared_names_count_under_other_like_the_reader_files_them():
    tally = LiveTally()
    tally.on_batch("local", records([(7, Kind.HTTP, Outcome.OK, 1, 0)]), {}, None)
    got = parse(scrape_text(tally))
    assert got[("surgeproof_requests_total", (("group", "other"), ("outcome", "ok")))] == 1


def test_shard_keeping_workers_tallies_scrape_exactly_as_their_raw_records_would():
    """--record-shards: a worker tallies its own records; the merge is the same as from raw."""
    slos = [Slo("quotation", "p99", 333.0)]
    rng = np.random.default_rng(7)
    n = 500
    rows = list(
        zip(
            rng.integers(0, 4, n).tolist(),  # name id 3 is never declared: "other"
            rng.choice([Kind.HTTP, Kind.WS_CONNECT, Kind.WS_GAP], n).tolist(),
            rng.integers(0, len(Outcome), n).tolist(),
            rng.uniform(1, 5000, n).tolist(),
            rng.integers(0, 3, n).tolist(),
            strict=True,
        )
    )
    from_raw, from_tally = LiveTally(slos), LiveTally(slos)
    workers = {
        "worker-a": SourceTally(from_tally.bounds_s),
        "worker-b": SourceTally(from_tally.bounds_s),
    }
    for i, chunk in enumerate(rows[k : k + 70] for k in range(0, n, 70)):
        source = "worker-a" if i % 2 else "worker-b"
        raw = records(list(chunk))
        names = NAMES if i < 2 else {}
        s = sample(source, 3 + i)
        from_raw.on_batch(source, raw, names, s)
        workers[source].declare(names)
        from_tally.on_counts(source, len(chunk), workers[source].message(raw), s)
    assert parse(scrape_text(from_tally)) == parse(scrape_text(from_raw))
    # A tally of other buckets (another scenario's SLOs) adds counts of nothing rather than lie.
    other = SourceTally(latency_buckets([Slo("orders", "p99", 420.0)]))
    other.declare(NAMES)
    before = from_tally.buckets.copy()
    from_tally.on_counts("worker-c", 1, other.message(records(rows[:1])), None)
    assert (from_tally.buckets == before).all()


def test_buckets_are_dense_at_the_slo_limits_and_contain_them():
    bounds = latency_buckets([Slo("orders", "p99", 420.0), Slo("*", "error_ratio", 0.01)])
    assert 0.42 in bounds and 0.01 in bounds and bounds == tuple(sorted(bounds))
    between = [b for b in BASE_BUCKETS_S if 0.1 <= b <= 2.0]
    # No two neighbours between 100 ms and 2 s are more than 25% apart: p99 within one bucket.
    assert max(hi / lo for lo, hi in itertools.pairwise(between)) <= 1.25


# -- a real run ---------------------------------------------------------------------------

LIVE = """\
name: live
description: Two phases on two workers, one of them killed in the second.
model: open
slos:
  - {group: quotation, p99: 500ms}
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: warm
    duration: 3s
    users: 12
    ramp: 2s
    mix: {market_watcher: 0.5, app_user: 0.5}
  - phase: hold
    duration: 4s
    users: 12
    mix: {market_watcher: 0.5, app_user: 0.5}
"""
#: The Prometheus scrape interval the counters must keep up with (the test samples faster).
SCRAPE_INTERVAL_S = 2.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scraper(threading.Thread):
    """GET /metrics every 0.25 s: (wall ns before, wall ns after, parsed samples)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.scrapes: list[tuple[int, int, dict]] = []
        self.target: list[dict] = []  # the embedded exchange's /metrics, relayed
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            before = time.time_ns()
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    text = r.read().decode()
            except OSError:
                text = None
            if text is not None:
                self.scrapes.append((before, time.time_ns(), parse(text)))
            try:
                with urllib.request.urlopen(self.url + "/target", timeout=2) as r:
                    self.target.append(parse(r.read().decode()))
            except OSError:
                pass  # not up yet, or the run and its exchange have ended
            self.stop.wait(0.25)


def _done_at(rec: np.ndarray) -> np.ndarray:
    """When each record existed at the latest (a record is shipped after it is complete)."""
    return np.maximum(np.maximum(rec["intended_ns"], rec["sent_ns"]), rec["end_ns"])


@pytest.mark.slow
def test_scraped_counters_agree_with_the_run_directory_through_a_worker_kill(tmp_path):
    scenario = tmp_path / "live.yaml"
    scenario.write_text(LIVE)
    port = _free_port()
    proc = start_run(
        str(scenario),
        "--workers", "2",
        "--reports-dir", str(tmp_path),
        "--run-id", "live",
        "--timeout", "3",
        "--metrics-port", str(port),
        "--metrics-linger", "2",
    )  # fmt: skip
    scraper = Scraper(f"http://127.0.0.1:{port}/metrics")
    scraper.start()
    run_dir = tmp_path / "live"
    try:
        killed_ns = sigkill_a_local_worker(proc, run_dir, after_s=4)
        _, stderr = proc.communicate(timeout=90)
    finally:
        scraper.stop.set()
        scraper.join(5)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    meta = run_meta(run_dir)
    [lost] = meta["workers"]["lost"]
    rs = read_records(run_dir)
    starts = np.cumsum([0, *rs.per_source.values()])
    per_source = {
        s: rs.records[a:b] for s, a, b in zip(rs.per_source, starts, starts[1:], strict=False)
    }
    # A record exists once complete; a ws_gap (recorded when its 5 s interval closes) and a
    # missed call (recorded when noticed) may be written well after their own times, so they
    # bound a counter from above only.
    done = {s: np.sort(_done_at(r)) for s, r in per_source.items()}
    prompt = {s: np.sort(_done_at(r[_prompt(r)])) for s, r in per_source.items()}
    req = rs.records[rs.records["kind"] != Kind.WS_GAP]
    req_done = np.sort(_done_at(req))
    req_prompt = np.sort(_done_at(req[_prompt(req)]))
    scrapes = scraper.scrapes
    assert len(scrapes) >= 20, len(scrapes)

    # Every scrape: each counter lies between what the run directory held one scrape interval
    # earlier and what it could hold at the scrape — before and after the kill.
    after_kill = 0
    for before, after, got in scrapes:
        at = (before - meta["t0_ns"]) / 1e9
        earlier = before - SCRAPE_INTERVAL_S * 1e9
        for source in done:
            n = got.get(("surgeproof_records_total", (("source", source),)), 0)
            lo = np.searchsorted(prompt[source], earlier, side="right")
            hi = np.searchsorted(done[source], after, side="right")
            assert lo <= n <= hi, (source, at, lo, n, hi)
        n = sum(v for (name, _), v in got.items() if name == "surgeproof_requests_total")
        lo = np.searchsorted(req_prompt, earlier, side="right")
        hi = np.searchsorted(req_done, after, side="right")
        assert lo <= n <= hi, ("requests", at, lo, n, hi)
        if before > lost["t_ns"] + 0.5e9:
            after_kill += 1
            assert got[("surgeproof_workers_alive", ())] == 1
    assert after_kill >= 5
    alive = [got[("surgeproof_workers_alive", ())] for b, _, got in scrapes if b < killed_ns]
    assert 2 in alive

    # The last scrape (lingering after the end) holds exactly the run directory's records.
    _, _, final = scrapes[-1]
    assert final[("surgeproof_run_info", _info_labels(final))] == 1
    assert dict(_info_labels(final))["status"] == "complete"
    for source, n in meta["counts"]["records"].items():
        assert (
            final[("surgeproof_records_total", (("source", source),))] == n == rs.per_source[source]
        )
    groups = np.array(rs.groups)[req["name_id"]]
    expected = Counter(zip(groups.tolist(), req["outcome"].tolist(), strict=True))
    for (group, outcome), n in expected.items():
        key = ("surgeproof_requests_total", (("group", group), ("outcome", OUTCOME_NAMES[outcome])))
        assert final[key] == n, (group, outcome)
    # Phases as the run played them, the killed worker's share gone.
    assert final[("surgeproof_phase", (("index", "1"), ("phase", "hold")))] == 1
    # The embedded exchange's own counters, relayed on the same port while it served.
    assert scraper.target, "no /metrics/target scrape answered"
    seen_by_target = scraper.target[-1][
        ("surgeproof_exchange_requests_total", (("family", "quotation"),))
    ]
    assert seen_by_target > 0
    survivor = next(s for s in meta["workers"]["seen"] if s != lost["source"])
    assert final[("surgeproof_generator_share_ratio", (("source", survivor),))] == 1.0


def _prompt(rec: np.ndarray) -> np.ndarray:
    """Records written as soon as they are complete (not ws_gap, not missed)."""
    return (rec["kind"] != Kind.WS_GAP) & (rec["outcome"] != Outcome.MISSED)


def _info_labels(got: dict) -> tuple:
    [labels] = [labels for name, labels in got if name == "surgeproof_run_info"]
    return labels
