"""Per-window series: latency percentiles equal numpy's exact percentiles of the same records;
errors are counted by cause; offered vs achieved rate shows saturation."""

import numpy as np
from synthetic import NS, T0_NS, Level, QueueModel, queue_run

from surgeproof.analysis.samples import load_samples
from surgeproof.analysis.timeseries import build_series
from surgeproof.scenario.model import Slo

QS = [50, 90, 95, 99, 99.9, 100]
KEYS = ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99.9_ms", "max_ms"]


def test_window_percentiles_equal_numpy_on_the_same_samples(tmp_path):
    run = queue_run(
        tmp_path / "r", QueueModel(), [Level(60), Level(90)], exp_service=True, sources=2
    )
    series = build_series(load_samples(tmp_path / "r"), [], T0_NS, 1.0, [])
    rec = run.records
    lat = (rec["end_ns"] - rec["intended_ns"]) / 1e6
    win = (rec["intended_ns"] - T0_NS) // NS
    group = np.array([run.names[i][1] for i in rec["name_id"]])
    checked = 0
    for g in ("quotation", "orders"):
        cols = series.groups[g]
        for w in np.unique(win):
            sel = (win == w) & (group == g)
            assert cols["count"][w] == sel.sum()
            assert [cols[k][w] for k in KEYS] == list(np.percentile(lat[sel], QS))
            checked += 1
    all_cols = series.groups["*"]
    for w in np.unique(win):
        assert [all_cols[k][w] for k in KEYS] == list(np.percentile(lat[win == w], QS))
    assert checked > 40


def test_window_service_time_equals_numpy_beside_latency(tmp_path):
    run = queue_run(tmp_path / "r", QueueModel(), [Level(70), Level(95)], exp_service=True)
    series = build_series(load_samples(tmp_path / "r"), [], T0_NS, 1.0, [])
    rec = run.records
    svc = (rec["end_ns"] - rec["sent_ns"]) / 1e6
    lat = (rec["end_ns"] - rec["intended_ns"]) / 1e6
    win = (rec["intended_ns"] - T0_NS) // NS
    group = np.array([run.names[i][1] for i in rec["name_id"]])
    for g in ("login", "*"):
        cols = series.groups[g]["service_ms"]
        for w in np.unique(win):
            sel = (win == w) & ((group == g) if g != "*" else True)
            assert [cols["p50"][w], cols["p99"][w]] == list(np.percentile(svc[sel], [50, 99]))
    # Latency runs from the intended send, service time from the actual one (0.2 ms later here).
    both = series.groups["*"]
    seen = both["count"] > 0
    assert (both["p50_ms"][seen] >= both["service_ms"]["p50"][seen]).all()
    last = int(win.max())
    assert both["p99_ms"][last] == np.percentile(lat[win == last], 99)
    assert (
        series.to_dict()["groups"]["*"]["service_ms"]["p99"][last]
        == both["service_ms"]["p99"][last]
    )


def test_offered_and_achieved_rate_and_timeouts_by_cause(tmp_path):
    model = QueueModel(timeout_s=1.0)
    queue_run(tmp_path / "r", model, [Level(120, hold_s=8)], gap_s=0)
    series = build_series(
        load_samples(tmp_path / "r"), [], T0_NS, 1.0, [Slo("*", "error_ratio", 0.01)]
    )
    # 120 users x 2 req/s offered; the target completes at most 160 req/s.
    assert series.offered_rps[3] == 240
    assert series.achieved_rps[3] <= model.capacity_rps
    assert series.errors["timeout"].sum() > 0
    assert series.errors["timeout"][:1].sum() == 0
    assert series.breach[-2]
    assert not series.breach[0]
    d = series.to_dict()
    assert d["errors"]["timeout"] == [int(v) for v in series.errors["timeout"]]
    assert len(d["t_s"]) == len(d["breach"]) == len(d["groups"]["orders"]["p99_ms"])
