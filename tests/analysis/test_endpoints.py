"""overall.endpoints: per endpoint name, counts and exact latency/service percentiles equal
numpy's on that endpoint's own records; groups and "*" from the same samples re-keyed."""

import numpy as np
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.endpoints import overall_stats
from surgeproof.analysis.scan import RecordScan

QS = [50, 90, 95, 99, 99.9, 100]
KEYS = ["p50", "p90", "p95", "p99", "p99.9", "max"]


def test_each_endpoint_equals_numpy_on_its_own_records(tmp_path):
    model = QueueModel(timeout_s=0.5)
    run = queue_run(
        tmp_path / "r", model, [Level(60), Level(110)], exp_service=True, sources=2, gap_s=0
    )
    endpoints, groups = overall_stats(RecordScan.open(run.path, chunk=5_000))
    rec = run.records
    name = np.array([run.names[i][0] for i in rec["name_id"]])
    group = np.array([run.names[i][1] for i in rec["name_id"]])
    lat = (rec["end_ns"] - rec["intended_ns"]) / 1e6
    svc = (rec["end_ns"] - rec["sent_ns"]) / 1e6
    assert set(endpoints) == {
        "GET /v1/ticker",
        "POST /v1/session",
        "GET /v1/orderbook",
        "POST /v1/orders",
    }
    for ep, st in endpoints.items():
        sel = name == ep
        assert st["count"] == sel.sum()
        assert st["group"] == group[sel][0]
        assert [st["latency_ms"][k] for k in KEYS] == list(np.percentile(lat[sel], QS))
        assert [st["service_ms"][k] for k in KEYS] == list(np.percentile(svc[sel], QS))
        timeouts = int(np.count_nonzero(rec["outcome"][sel] == 5))
        assert st["errors"]["timeout"] == timeouts
        assert st["error_ratio"] == timeouts / sel.sum()
    assert any(st["errors"]["timeout"] for st in endpoints.values())
    # Two endpoints share the quotation group: its percentiles come from both endpoints' samples.
    q = group == "quotation"
    assert groups["quotation"].count == q.sum()
    assert list(groups["quotation"].latency_ms.values()) == list(np.percentile(lat[q], QS))
    assert list(groups["*"].service_ms.values()) == list(np.percentile(svc, QS))
