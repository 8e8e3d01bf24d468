"""Which level holds each time: a chunk's answer is the same whether it lies inside one level,
between two, before the first, after the last, or across several."""

import numpy as np

from surgeproof.analysis.level_passes import LevelWindows
from surgeproof.analysis.level_verdict import LevelSpec


def _row_by_row(specs, t):
    out = []
    for x in t.tolist():
        hit = [i for i, s in enumerate(specs) if s.start_ns <= x < s.end_ns]
        out.append(hit[0] if hit else -1)
    return out


def test_every_chunk_gets_each_times_level_or_none():
    specs = [LevelSpec(100, 200, 10.0, "a"), LevelSpec(200, 250, 20.0, "b"),
             LevelSpec(300, 400, 30.0, "c")]  # fmt: skip
    win = LevelWindows(specs)
    chunks = {
        "inside one": [120, 199, 100, 150],
        "between two": [250, 260, 299],
        "before the first": [0, 50, 99],
        "after the last": [400, 10**9],
        "across levels": [150, 200, 249, 250, 300],
        "from before into one": [90, 110],
        "a level's last ns and the next start": [199, 200],
        "one time": [300],
    }
    for what, times in chunks.items():
        t = np.array(times, dtype=np.int64)
        got = win.of(t)
        assert got.tolist() == _row_by_row(specs, t), what
        assert got.dtype == np.intp
    assert win.of(np.empty(0, dtype=np.int64)).tolist() == []
