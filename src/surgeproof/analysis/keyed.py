"""Exact order statistics per key with 8 bytes a sample: key and value packed into one uint64.

A sample's key (window, group, level, endpoint, ...) goes in the high bits and its integer value
(nanoseconds, offset by the smallest value) in the low bits, so one in-place integer sort orders
the samples by key and, within each key, by value. Every key's percentiles are then read from a
few positions; nothing is widened to float64 as a whole and no sort index is materialised.
Coarser keys (window·group → window) are made by rewriting the key bits in place and sorting
again. When key and value bits do not fit 64, keys and values are kept side by side instead
(16 bytes a sample, lexsort) — the same results, more memory.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from surgeproof.analysis.pass_wire import travels
from surgeproof.analysis.percentiles import QS, ranked_percentiles
from surgeproof.analysis.ranks import RankedValues

if TYPE_CHECKING:
    from surgeproof.analysis.shards import Execution

#: Samples rewritten per step when keys are coarsened in place (bounds the temporaries).
REKEY_STEP = 1 << 20
#: Most key runs that sorted samples are re-keyed run by run (one slice operation each).
REKEY_RUNS = 1 << 16
#: Sample buffers of released stores kept for the next stores of this process (at most).
SPARES = 4

#: Released sample buffers, pages already resident: the analysis's passes run one after another,
#: each with stores of about the run's size, and faulting fresh pages in for every pass cost more
#: than filling them (0.2 s per 80 MB on this machine's VM). ``drop_spares`` frees them.
_spares: list[np.ndarray] = []


def drop_spares() -> None:
    """Free the buffers released stores left for reuse (at the end of an analysis)."""
    _spares.clear()


def _buffer(capacity: int) -> np.ndarray:
    """A uint64 buffer of ``capacity`` (not zeroed): the smallest spare that holds it, else new."""
    fits = [i for i, b in enumerate(_spares) if len(b) >= capacity]
    if not fits:
        return np.empty(capacity, dtype=np.uint64)
    best = min(fits, key=lambda i: len(_spares[i]))
    return _spares.pop(best)[:capacity]


def _spare(buf: np.ndarray | None) -> None:
    """Keep a released store's buffer (the whole allocation) for the next store."""
    if buf is None:
        return
    whole = buf if buf.base is None else buf.base
    if isinstance(whole, np.ndarray) and whole.dtype == np.uint64 and whole.ndim == 1:
        _spares.append(whole)
        if len(_spares) > SPARES:  # by position: arrays do not compare as one value
            _spares.pop(min(range(len(_spares)), key=lambda i: len(_spares[i])))


def exact_store(
    capacity: int,
    estimate: int,
    n_keys: int,
    lo: int,
    hi: int,
    scale: float | None = 1e6,
    *,
    qs: tuple[float, ...] = QS,
    coarser: Sequence[tuple[np.ndarray, int]] = (),
    execution: Execution,
    stores: int = 1,
) -> KeyedValues | RankedValues:
    """A store for exact percentiles ``qs`` of about ``estimate`` samples (at most
    ``capacity``): kept as samples when they fit this store's share of the memory, else
    counted over repeated passes (``RankedValues``). Both merge the partial stores of shards
    run in worker processes: samples by concatenation (the parent holds them all, within its
    share), counts by addition."""
    share = execution.share(stores)
    vbits = max(int(hi) - int(lo), 0).bit_length()
    kbits = (max(int(n_keys), 1) - 1).bit_length()
    per_sample = 8 if vbits + kbits <= 64 else 16
    if estimate * per_sample <= share:
        return KeyedValues(capacity, n_keys, lo, hi, scale, qs=qs)
    return RankedValues(n_keys, lo, hi, scale, qs=qs, coarser=coarser, memory=share)


@travels
class KeyedValues:
    """Integer samples in ``[lo, hi]``, each with a key in ``[0, n_keys)``."""

    def __init__(
        self,
        capacity: int,
        n_keys: int,
        lo: int,
        hi: int,
        scale: float | None = 1e6,
        *,
        qs: tuple[float, ...] = QS,
    ):
        self.qs = tuple(qs)
        self.n_keys = max(int(n_keys), 1)
        self.lo = int(lo)
        self.scale = scale
        self.vbits = max(int(hi) - self.lo, 0).bit_length()
        kbits = (self.n_keys - 1).bit_length()
        self.packed = self.vbits + kbits <= 64
        self.n = 0
        self._sorted = True
        self._runs = False
        #: Fed its one pass: a pass that reads its records again (for a counting store beside
        #: this one) must not add them twice.
        self._closed = False
        # np.empty does not touch its pages: capacity is only an upper bound on resident memory.
        if self.packed:
            self.buf = _buffer(capacity)
            self.keys = self.vals = None
        else:
            self.buf = None
            self.keys = np.empty(capacity, dtype=np.int64)
            self.vals = np.empty(capacity, dtype=np.int64)

    @property
    def _mask(self) -> np.uint64:
        return np.uint64((1 << self.vbits) - 1)

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Append samples (``keys`` and ``values`` aligned, values within ``[lo, hi]``)."""
        m = len(keys)
        if m == 0 or self._closed:
            return
        self._reserve(self.n + m)
        at = slice(self.n, self.n + m)
        if self.packed:
            # Written in place: the value's offset, then the key's bits or-ed in above it.
            word = self.buf[at]
            np.subtract(
                values, np.int64(self.lo), out=word.view(np.int64), dtype=np.int64, casting="unsafe"
            )
            if self.vbits < 64:
                high = np.asarray(keys).astype(np.uint64)
                np.left_shift(high, np.uint64(self.vbits), out=high)
                np.bitwise_or(word, high, out=word)
        else:
            offset = np.asarray(values, dtype=np.int64) - self.lo
            self.keys[at] = keys
            self.vals[at] = offset
        self.n += m
        self._sorted = self._runs = False

    def add_span(self, keys: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """``add(keys, end - start)``, the differences written straight into the samples."""
        if self._closed:
            return
        m = len(keys)
        if not (self.packed and 0 < self.vbits < 64 and keys.dtype == np.int64) or m == 0:
            self.add(keys, end - start)
            return
        self._reserve(self.n + m)
        word = self.buf[self.n : self.n + m]
        signed = word.view(np.int64)
        np.subtract(end, start, out=signed)
        if self.lo:
            np.subtract(signed, np.int64(self.lo), out=signed)
        # Keys here are at least 0, so their uint64 view is exact.
        np.bitwise_or(word, np.left_shift(keys.view(np.uint64), np.uint64(self.vbits)), out=word)
        self.n += m
        self._sorted = self._runs = False

    def table(self, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys present, their sample counts, percentiles ``qs`` per key), keys ascending."""
        self._sort()
        starts = self._key_starts()
        ends = np.append(starts[1:], self.n)
        counts = ends - starts
        present = np.flatnonzero(counts > 0)
        table = ranked_percentiles(self._value_at, starts[present], ends[present], qs)
        return present, counts[present], table

    def rekey(self, mapping: np.ndarray, n_keys: int) -> None:
        """Replace every key ``k`` by ``mapping[k]`` (coarser: ``n_keys`` no more than before)."""
        mapping = np.asarray(mapping, dtype=np.int64)
        if n_keys > self.n_keys:
            raise ValueError("rekey only coarsens: more keys than before")
        if self.packed and self._sorted and 0 < self.vbits < 64 and self._rekey_runs(mapping):
            self.n_keys = max(int(n_keys), 1)
            self._runs, self._sorted = True, False
            return
        self.n_keys = max(int(n_keys), 1)
        if self.packed:
            shift = np.uint64(self.vbits)
            # Each key's new high bits, ready to be or-ed in: one gather and two in-place
            # operations a sample (the key bits are below 2**63, so the view is exact).
            table = mapping.astype(np.uint64) << shift
            mask = self._mask
            for lo in range(0, self.n, REKEY_STEP):
                part = self.buf[lo : min(lo + REKEY_STEP, self.n)]
                if self.vbits < 64:
                    high = table[(part >> shift).view(np.int64)]
                    np.bitwise_and(part, mask, out=part)
                    np.bitwise_or(part, high, out=part)
        else:
            for lo in range(0, self.n, REKEY_STEP):
                part = self.keys[lo : min(lo + REKEY_STEP, self.n)]
                part[:] = mapping[part]
        # Samples sorted by the finer key are now sorted runs, one per finer key: a merging
        # sort (timsort) orders them in fewer steps than sorting from scratch.
        self._runs = self._sorted
        self._sorted = False

    def _rekey_runs(self, mapping: np.ndarray) -> bool:
        """Sorted samples hold each key in one run: move each run's key bits by one addition
        (old key out, new key in; exact modulo 2**64) instead of rewriting every sample's.
        False (nothing done) when there are too many runs for a loop over them to pay."""
        starts = self._key_starts()
        ends = np.append(starts[1:], self.n)
        present = np.flatnonzero(ends > starts)
        if len(present) > REKEY_RUNS:
            return False
        shift = np.uint64(self.vbits)
        delta = (mapping[present].astype(np.uint64) << shift) - (present.astype(np.uint64) << shift)
        for lo, hi, d in zip(starts[present].tolist(), ends[present].tolist(), delta, strict=True):
            if d:
                self.buf[lo:hi] += d
        return True

    def release(self) -> None:
        """Free the samples (their buffer is kept for the process's next store)."""
        if self.packed:
            _spare(self.buf)
        self.buf = self.keys = self.vals = None
        self.n = 0

    # One pass holds every sample: nothing is pending after it (``ranks.RankedValues`` is the
    # store that needs more passes).
    pending = False

    def advance(self) -> None:
        """Every sample is here: later rounds of the same pass add nothing."""
        self._closed = True

    def stores(self) -> list[KeyedValues]:
        return [self]

    def fresh(self) -> KeyedValues:
        """An empty store with the same keys and range, for a worker's shard (grows as fed)."""
        out = copy.copy(self)
        out.n, out._sorted = 0, True
        if self.packed:
            out.buf = np.empty(0, dtype=np.uint64)
        else:
            out.keys, out.vals = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return out

    def compact(self) -> None:
        """Trim to the samples held (what a worker sends back)."""
        if self.packed:
            self.buf = self.buf[: self.n].copy()
        else:
            self.keys, self.vals = self.keys[: self.n].copy(), self.vals[: self.n].copy()

    def merge(self, other: KeyedValues, first: bool = False) -> None:
        """Add a shard's samples (sorting later makes their order irrelevant)."""
        m = other.n
        if not m:
            return
        self._reserve(self.n + m)
        at = slice(self.n, self.n + m)
        if self.packed:
            self.buf[at] = other.buf[:m]
        else:
            self.keys[at], self.vals[at] = other.keys[:m], other.vals[:m]
        self.n += m
        self._sorted = self._runs = False

    def _reserve(self, need: int) -> None:
        have = len(self.buf) if self.packed else len(self.keys)
        if need <= have:
            return
        grow = max(need, have + have // 2)
        if self.packed:
            self.buf = _grown(self.buf, grow, self.n)
        else:
            self.keys = _grown(self.keys, grow, self.n)
            self.vals = _grown(self.vals, grow, self.n)

    def _sort(self) -> None:
        if self._sorted:
            return
        if self.packed:
            self.buf[: self.n].sort(kind="stable" if self._runs else None)
        else:
            order = np.lexsort((self.vals[: self.n], self.keys[: self.n]))
            self.keys[: self.n] = self.keys[: self.n][order]
            self.vals[: self.n] = self.vals[: self.n][order]
        self._sorted = True

    def _key_starts(self) -> np.ndarray:
        firsts = np.arange(self.n_keys, dtype=np.int64)
        if not self.packed:
            return np.searchsorted(self.keys[: self.n], firsts).astype(np.int64)
        if self.vbits >= 64:
            return np.zeros(1, dtype=np.int64)
        bounds = firsts.astype(np.uint64) << np.uint64(self.vbits)
        return np.searchsorted(self.buf[: self.n], bounds).astype(np.int64)

    def _value_at(self, positions: np.ndarray) -> np.ndarray:
        if self.packed:
            raw = (self.buf[positions] & self._mask).view(np.int64) + self.lo
        else:
            raw = self.vals[positions] + self.lo
        # The same int64 → float64 division numpy does for ``(end_ns - start_ns) / 1e6``, so the
        # result is bit-identical to percentiles of the float array.
        return raw / self.scale if self.scale is not None else raw.astype(np.float64)


def _grown(arr: np.ndarray, size: int, used: int) -> np.ndarray:
    out = np.empty(size, dtype=arr.dtype)
    out[:used] = arr[:used]
    return out
