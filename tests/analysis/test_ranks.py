"""RankedValues: exact percentiles from counts — the same numbers as sorting every sample, in
the memory it is given, however the samples are split into shards and passes."""

import numpy as np
import pytest

from surgeproof.analysis.keyed import KeyedValues
from surgeproof.analysis.percentiles import QS
from surgeproof.analysis.ranks import KEPT_BYTES, LogGrid, RankedValues


def _values(kind, n, rng):
    if kind == "lognormal":  # latencies: a long tail over many octaves
        return rng.lognormal(17, 1.5, n).astype(np.int64)
    if kind == "equal":  # a constant service time: every sample the same nanosecond
        return np.full(n, 25_200_000, np.int64)
    if kind == "few":  # a handful of values far apart: bins split down to one value
        return rng.choice(np.array([5, 1_000_000_007, 3 << 40]), n)
    return rng.integers(-(1 << 50), 1 << 50, n)  # the widest range a run's span allows


def _fill(store, keys, values, shards):
    """Feed the store pass after pass, each pass split into ``shards`` merged partials."""
    passes = 0
    parts = np.array_split(np.arange(len(keys)), 2 * shards)
    while store.pending:
        partials = [store.fresh() for _ in range(shards)]
        for i, part in enumerate(parts):
            partials[i % shards].add(keys[part], values[part])
        for partial in partials:
            kept = sum(len(v) for plan in partial.plan for v in plan.kept_v)
            assert kept * KEPT_BYTES <= store.memory  # a shard keeps what the plan allowed
            partial.compact()
            store.merge(partial)
        store.advance()
        passes += 1
    return passes


@pytest.mark.parametrize(
    "kind,n,n_keys,memory,shards",
    [
        ("lognormal", 60_000, 40, 1 << 30, 1),
        ("lognormal", 60_000, 40, 1 << 16, 3),  # too little room: bins split, more passes
        ("lognormal", 80_000, 1_500, 1 << 22, 2),  # keys in slabs
        ("equal", 20_000, 10, 1 << 16, 2),
        ("few", 20_000, 12, 1 << 16, 1),
        ("wide", 40_000, 30, 1 << 16, 2),
    ],
)
def test_every_level_of_keys_equals_sorting_all_samples(kind, n, n_keys, memory, shards):
    rng = np.random.default_rng(n_keys)
    keys = np.sort(rng.integers(0, n_keys, n))
    values = _values(kind, n, rng)
    lo, hi = int(values.min()), int(values.max())
    by_five = np.arange(n_keys) // 5
    levels = [(by_five, int(by_five.max()) + 1)]
    exact = KeyedValues(n, n_keys, lo, hi)
    exact.add(keys, values)
    ranked = RankedValues(n_keys, lo, hi, qs=QS, coarser=levels, memory=memory)
    passes = _fill(ranked, keys, values, shards)
    assert passes >= 2 or kind == "equal"
    for level in range(2):
        if level:
            exact.rekey(*levels[0])
            ranked.rekey(*levels[0])
        k1, n1, t1 = exact.table(QS)
        k2, n2, t2 = ranked.table(QS)
        assert np.array_equal(k1, k2) and np.array_equal(n1, n2)
        assert np.array_equal(t1, t2)  # bit for bit, not approximately


def test_slabs_keep_the_histograms_within_memory():
    ranked = RankedValues(10_000, 0, 1 << 33, qs=QS, coarser=[(np.arange(10_000) // 8, 1250)],
                          memory=1 << 22)  # fmt: skip
    per_key = ranked.grid.n_bins * 8 * 2 * 2
    assert len(ranked.slabs) > 1
    for k0, k1 in ranked.slabs:
        assert (k1 - k0) * per_key <= ranked.memory // 2 or k1 - k0 == 8
        assert k0 % 8 == 0  # a coarser key (8 finer ones) is never cut between slabs


def test_the_grid_is_ordered_and_its_bins_tile_the_values():
    grid = LogGrid(40)
    v = np.unique(np.random.default_rng(1).integers(0, 1 << 40, 50_000).astype(np.uint64))
    b = grid.bin(v)
    assert (np.diff(b) >= 0).all()
    start, width = grid.start_width(b)
    assert ((start <= v) & (v < start + width)).all()
    assert (width <= np.maximum(v // 64, 1)).all()  # at most 1/64 of the value wide
