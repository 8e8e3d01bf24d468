"""The target's own per-second metrics are laid onto the analysis windows beside the client's
records, and the totals counted by each side are compared."""

import json

import numpy as np
from synthetic import NS, T0_NS, Level, QueueModel, queue_run

from surgeproof.analysis import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0)]


def _server_metrics(run, lose_every=0):
    """One row per server second counting the requests that arrived in it (as the exchange
    does), optionally missing every ``lose_every``-th request."""
    sent = np.sort(run.records["sent_ns"])
    if lose_every:
        sent = np.delete(sent, np.arange(0, len(sent), lose_every))
    secs = sent // NS
    rows = []
    for t in range(int(secs.min()), int(secs.max()) + 1):
        n = int(np.count_nonzero(secs == t))
        rows.append(
            {"t": t, "requests": n, "served": n, "shed_503": 0, "rate_limited_429": 0,
             "blocked_418": 0, "client_errors": 0, "server_errors": 0, "ws_connections": 3,
             "active_sessions": t % 7, "utilisation": {"api": 0.5, "login": 0.25 + (t % 2) / 2},
             "final": True}
        )  # fmt: skip
    (run.path / "server").mkdir(exist_ok=True)
    (run.path / "server" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def test_server_seconds_align_with_client_windows_and_totals_agree(tmp_path):
    run = queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(60)])
    rows = _server_metrics(run)
    a = analyze_run(run.path, slos=SLOS)
    server = a["timeseries"]["server"]
    n_win = len(a["timeseries"]["t_s"])
    assert len(server["requests"]) == len(server["client_sent"]) == n_win
    # t0 is a whole second and windows are 1 s: each server second is exactly one window.
    for w, t in enumerate(a["timeseries"]["start_ns"]):
        row = next((r for r in rows if r["t"] * NS == t), None)
        assert server["requests"][w] == (row["requests"] if row else None)
        if row:
            assert server["active_sessions"][w] == row["t"] % 7
            assert server["utilisation_max"][w] == max(row["utilisation"].values())
            assert server["requests"][w] == server["client_sent"][w]
    vs = a["server_vs_client"]
    assert vs["available"]
    assert vs["client_requests"] == vs["server_requests"] == len(run.records)
    assert vs["difference"] == 0


def test_wider_windows_sum_their_seconds_and_lost_requests_show_as_a_difference(tmp_path):
    run = queue_run(tmp_path / "r", QueueModel(), [Level(40)])
    rows = _server_metrics(run, lose_every=10)
    a = analyze_run(run.path, slos=SLOS, window_s=2.0)
    server = a["timeseries"]["server"]
    by_second = {r["t"]: r["requests"] for r in rows}
    first = T0_NS // NS
    assert server["requests"][0] == by_second[first] + by_second[first + 1]
    vs = a["server_vs_client"]
    lost = len(range(0, len(run.records), 10))
    assert vs["difference"] == lost
    assert vs["difference_ratio"] == lost / len(run.records)
    assert f"+{lost:,}" in vs["note"]


def test_a_real_target_without_server_metrics_says_so(tmp_path):
    run = queue_run(tmp_path / "r", QueueModel(), [Level(40)])
    a = analyze_run(run.path, slos=SLOS)
    assert a["timeseries"]["server"] is None
    assert a["server_vs_client"]["available"] is False
    assert a["server_vs_client"]["server_requests"] is None
    assert a["server_vs_client"]["client_requests"] == len(run.records)
