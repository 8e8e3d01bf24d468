"""Bounded memory: analysing a run keeps a few bytes per record (the packed samples exact
percentiles need) plus fixed-size chunk temporaries — never a copy of the records."""

import tracemalloc

import numpy as np
import pytest
from synthetic import ENDPOINTS, NS, T0_NS

from surgeproof.analysis import analyze_run
from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome
from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta
from surgeproof.scenario.model import Slo

RECORDS = 2_000_000
#: Packed latency + service-time samples: 16 bytes per counted record; 4 B/record of slack.
PER_RECORD = 20
#: Chunk temporaries, per-window tables, JSON: independent of the run's size.
FIXED = 32 * 2**20


def _big_run(path, n):
    """``n`` records at 20,000 req/s over 5 levels, written straight from numpy (fast)."""
    path.mkdir()
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = T0_NS + np.arange(n, dtype=np.int64) * (NS // 20_000)
    rec["sent_ns"] = rec["intended_ns"] + 150_000
    rng = np.random.default_rng(1)
    rec["end_ns"] = rec["sent_ns"] + rng.integers(1_000_000, 90_000_000, n)
    rec["name_id"] = np.arange(n) % len(ENDPOINTS)
    rec["status"] = 200
    rec["outcome"] = Outcome.OK
    rec["kind"] = Kind.HTTP
    level = (rec["intended_ns"] - T0_NS) * 5 // (n * (NS // 20_000))
    rec["concurrency"] = 1000 * (level + 1)
    f = RecordFile(path, "local")
    f.add_names({i: (name, group) for i, (name, group, _) in enumerate(ENDPOINTS)})
    for lo in range(0, n, 1 << 20):
        f.append(rec[lo : lo + (1 << 20)])
    f.close()
    span = n * (NS // 20_000) // 5
    events = JsonlLog(path / "events.jsonl")
    for i in range(5):
        start = T0_NS + i * span
        events.append({"t_ns": start + span, "type": "level", "start_ns": start + NS,
                       "end_ns": start + span, "target_users": 1000 * (i + 1)})  # fmt: skip
    events.close()
    write_meta(path, {"status": "complete", "t0_ns": T0_NS, "load_model": "open"})
    return rec


@pytest.mark.slow
def test_peak_memory_is_a_few_bytes_per_record(tmp_path):
    rec = _big_run(tmp_path / "big", RECORDS)
    del rec  # the test's own copy is not the analyzer's
    # What the analyzer imports lazily (scipy.optimize for the USL fit: ~18 MiB of module
    # objects with scipy 1.17) is paid once per process, not per record: not what this bounds.
    import scipy.optimize  # noqa: F401

    tracemalloc.start()
    try:
        a = analyze_run(tmp_path / "big", slos=[Slo("*", "p99", 100.0)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert a["input"]["records"]["total"] == RECORDS
    assert a["overall"]["groups"]["*"]["count"] == RECORDS
    assert len(a["levels"]) == 5
    # The records file alone is 40 B per record: the analyzer must hold far less than a copy.
    assert peak < PER_RECORD * RECORDS + FIXED, f"{peak / RECORDS:.1f} B per record"
