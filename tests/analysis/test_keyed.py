"""Packed (key, value) samples give every key's exact percentiles, bit-identical to numpy's,
before and after coarsening keys in place — packed in 8 bytes, or side by side when too wide."""

import numpy as np
import pytest

from surgeproof.analysis.keyed import SPARES, KeyedValues, drop_spares

QS = (50.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def _fill(keys, values, n_keys, hi):
    kv = KeyedValues(1000, n_keys, int(values.min()), hi)  # grows past its first capacity
    for lo in range(0, len(keys), 7_000):
        kv.add(keys[lo : lo + 7_000], values[lo : lo + 7_000])
    return kv


@pytest.mark.parametrize("wide", [False, True])
def test_every_key_and_every_coarser_key_equals_numpy(wide):
    rng = np.random.default_rng(11)
    keys = rng.integers(0, 60, 40_000)
    values = rng.integers(-3_000, 9_000_000_000, 40_000)  # ns, a few negative (clock skew)
    hi = int(values.max()) + (2**62 if wide else 0)
    kv = _fill(keys, values, 60, hi)
    assert kv.packed is not wide
    present, counts, table = kv.table(QS)
    assert list(present) == sorted(set(keys.tolist()))
    for k, c, row in zip(present, counts, table, strict=True):
        assert c == np.count_nonzero(keys == k)
        assert list(row) == list(np.percentile(values[keys == k] / 1e6, QS))
    kv.rekey(np.arange(60) // 6, 10)
    present, _, table = kv.table(QS)
    for k, row in zip(present, table, strict=True):
        assert list(row) == list(np.percentile(values[keys // 6 == k] / 1e6, QS))
    kv.rekey(np.zeros(10, dtype=np.int64), 1)
    _, counts, table = kv.table(QS)
    assert counts[0] == len(values)
    assert list(table[0]) == list(np.percentile(values / 1e6, QS))


def test_packed_samples_take_eight_bytes_each():
    kv = KeyedValues(100, 5_000, 0, 10**12)
    assert kv.packed and kv.buf.itemsize == 8


def test_keys_cannot_be_refined_in_place():
    kv = KeyedValues(10, 4, 0, 10)
    with pytest.raises(ValueError):
        kv.rekey(np.arange(4), 8)


@pytest.mark.parametrize("wide", [False, True])
def test_samples_added_as_spans_equal_samples_added_as_differences(wide):
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 40, 20_000).astype(np.int64)
    start = rng.integers(10**18, 10**18 + 10**9, 20_000)
    end = start + rng.integers(-2_000, 6_000_000_000, 20_000)
    hi = int((end - start).max()) + (2**62 if wide else 0)
    lo = int((end - start).min())
    spans, values = KeyedValues(100, 40, lo, hi), KeyedValues(100, 40, lo, hi)
    for at in range(0, 20_000, 3_000):
        part = slice(at, at + 3_000)
        spans.add_span(keys[part], start[part], end[part])
        values.add(keys[part], end[part] - start[part])
    for a, b in zip(spans.table(QS), values.table(QS), strict=True):
        assert a.tolist() == b.tolist()


def test_a_store_on_a_released_stores_buffer_holds_only_its_own_samples():
    drop_spares()  # none left by other tests
    rng = np.random.default_rng(3)
    old = KeyedValues(50_000, 4, 0, 10**9)
    old.add(rng.integers(0, 4, 50_000), rng.integers(0, 10**9, 50_000))
    buffer = old.buf
    old.release()  # its buffer is kept for the process's next store
    keys, values = rng.integers(0, 3, 20_000), rng.integers(5, 10**6, 20_000)
    new = KeyedValues(20_000, 3, 5, 10**6)
    assert np.shares_memory(new.buf, buffer)
    new.add(keys, values)
    present, counts, table = new.table(QS)
    assert present.tolist() == [0, 1, 2] and counts.sum() == 20_000
    for k, row in zip(present, table, strict=True):
        assert list(row) == list(np.percentile(values[keys == k] / 1e6, QS))
    drop_spares()
    assert KeyedValues(20_000, 3, 5, 10**6).buf is not buffer


def test_no_more_spare_buffers_are_kept_than_allowed():
    drop_spares()
    sizes = [1_000 * (i + 1) for i in range(SPARES + 3)]
    for n in sizes:
        kv = KeyedValues(n, 2, 0, 10**6)
        kv.add(np.zeros(n, dtype=np.int64), np.arange(n))
        kv.release()
    kept = [KeyedValues(1, 2, 0, 10**6).buf.base for _ in range(SPARES + 1)]
    assert sorted(len(b) for b in kept[:SPARES]) == sizes[-SPARES:]  # the largest are kept
    assert kept[SPARES] is None  # then a new buffer
    drop_spares()


def test_a_pass_read_again_for_a_counting_store_beside_it_adds_no_sample_twice():
    """A pass holding a counting store (more rounds) and a sample store reads its records once
    per round: the sample store, complete after the first round, must keep what it had (2x10^7
    martial-law records with --jobs 2 counted every websocket gap twice before this)."""
    store = KeyedValues(10, 2, 0, 1000)
    store.add(np.array([0, 1, 1]), np.array([5, 7, 9]))
    store.advance()
    store.add(np.array([0, 1, 1]), np.array([5, 7, 9]))
    store.add_span(np.array([0], np.int64), np.array([0]), np.array([5]))
    shard = store.fresh()
    shard.add(np.array([0]), np.array([6]))
    store.merge(shard)
    keys, counts, _ = store.table((50.0,))
    assert keys.tolist() == [0, 1] and counts.tolist() == [1, 2]
