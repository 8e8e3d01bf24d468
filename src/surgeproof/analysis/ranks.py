"""Exact order statistics per key in bounded memory: count first, then keep only what is needed.

:class:`~surgeproof.analysis.keyed.KeyedValues` keeps every sample (8 bytes each) and sorts;
at a billion records that is 8 GB a measure. :class:`RankedValues` gives the same numbers
(bit for bit) from counts instead, over repeated passes of the same samples:

1. a *histogram* pass counts each key's samples on a fixed log-linear grid (``GRID_BITS``
   significant bits: 64 bins an octave), so its memory is keys × bins, never samples;
2. each percentile needs one or two order statistics (``percentiles.needed_ranks``); the
   cumulative counts say which bin holds each wanted rank and how many samples lie below it;
3. a *select* pass keeps only the samples that fall in those bins and picks the wanted ones
   exactly — or, for a bin too full for the memory left, counts it again on a grid 2^10 times
   finer (a radix step), and the next pass selects inside that. A bin one nanosecond wide
   holds equal values: its rank is known without a pass.

Every count is a sum over samples, so partial results of separate record shards merge by
addition (and kept samples by concatenation) — worker processes run passes on their shards.
Keys are taken in *slabs* (ranges of the coarsest level's keys: windows, levels) sized so that
histograms and finer counts stay within the store's memory; a slab's passes read only the
records that can fall in it. Coarser levels (window·group → window, endpoint → group → all)
are declared up front: their histograms are sums of the finer ones, so they are exact too.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from surgeproof.analysis.pass_wire import travels
from surgeproof.analysis.percentiles import needed_ranks, ranked_percentiles

#: Significant bits of the first grid: bins 1/64 to 1/128 of their value wide.
GRID_BITS = 7
#: Finer bins a too-full bin is split into per pass (at most; fewer when memory is short).
SPLIT_BITS = 10
#: Bytes one kept sample costs while selecting (its value and its bin's index).
KEPT_BYTES = 16


@travels
class LogGrid:
    """Bins over ``[0, 2**vbits)``: exact below ``2**GRID_BITS``, then 2**(GRID_BITS-1) an
    octave; every bin's width is a power of two and its start a multiple of it."""

    def __init__(self, vbits: int, bits: int = GRID_BITS) -> None:
        self.m = bits
        self.half = 1 << (bits - 1)
        self.vbits = vbits
        top = max(vbits - bits, 0)
        self.n_bins = (top + 2) * self.half

    def bin(self, v: np.ndarray) -> np.ndarray:
        """Bin index of each value (uint64)."""
        e = np.maximum(_bit_length(v, self.vbits) - self.m, 0)
        mant = np.right_shift(v, e.astype(np.uint64)).astype(np.int64)
        return e * self.half + mant

    def start_width(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first value, width) of each bin, as uint64."""
        idx = np.asarray(idx, dtype=np.int64)
        e = np.where(idx < 2 * self.half, 0, idx // self.half - 1)
        mant = idx - e * self.half
        shift = e.astype(np.uint64)
        return np.left_shift(mant.astype(np.uint64), shift), np.left_shift(np.uint64(1), shift)


def _bit_length(v: np.ndarray, vbits: int) -> np.ndarray:
    """Bits of each uint64 (0 for 0): frexp's exponent, corrected where float rounding
    carried a value of more than 53 bits up to the next power of two."""
    _, exp = np.frexp(v.astype(np.float64))
    exp = exp.astype(np.int64)
    if vbits > 53:
        over = (exp > 0) & (np.right_shift(v, np.maximum(exp - 1, 0).astype(np.uint64)) == 0)
        exp = exp - over
    return exp


@travels
class RankedValues:
    """Integer samples in ``[lo, hi]`` per key in ``[0, n_keys)``: the percentiles ``qs`` of
    each key (and of each declared coarser key), exact, in memory bounded by ``memory``.

    The store is fed by passes over the same samples: ``add`` every chunk, then ``advance``;
    while ``pending`` it needs another pass (``add`` again with the same keys and values).
    """

    def __init__(
        self,
        n_keys: int,
        lo: int,
        hi: int,
        scale: float | None = 1e6,
        *,
        qs: Sequence[float],
        coarser: Sequence[tuple[np.ndarray, int]] = (),
        memory: int = 256 << 20,
    ) -> None:
        self.lo = int(lo)
        self.scale = scale
        self.qs = tuple(qs)
        self.vbits = max(int(hi) - self.lo, 0).bit_length()
        self.grid = LogGrid(self.vbits)
        n_keys = max(int(n_keys), 1)
        #: Per level: fine key -> that level's key (level 0: itself), and its number of keys.
        self.maps = [np.arange(n_keys, dtype=np.int64)]
        self.sizes = [n_keys]
        for mapping, n in coarser:
            self.maps.append(np.asarray(mapping, dtype=np.int64)[self.maps[-1]])
            self.sizes.append(max(int(n), 1))
        self.counts = [np.zeros(n, np.int64) for n in self.sizes]
        self._found: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [
            [] for _ in self.sizes
        ]
        self._lookup: list[tuple[np.ndarray, np.ndarray, int] | None] = [None] * len(self.sizes)
        self.level = 0
        self.memory = int(memory)
        self.slabs = self._slab_ranges()
        self.slab = 0
        self.phase = "count"
        self.plan: list[_Plan] = []
        self._clear()

    # -- feeding -----------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """More passes are needed before ``table``."""
        return self.phase != "done"

    def slab_top_keys(self) -> tuple[int, int] | None:
        """The coarsest level's keys the current pass is about (None when done)."""
        if self.phase == "done":
            return None
        k0, k1 = self.slabs[self.slab]
        top = self.maps[-1]
        return int(top[k0]), int(top[k1 - 1]) + 1

    def add_span(self, keys: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """``add(keys, end - start)``."""
        if self.phase != "done" and len(keys):
            self.add(keys, end - start)

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Feed samples (``keys`` and ``values`` aligned; values within ``[lo, hi]``)."""
        if self.phase == "done" or len(keys) == 0:
            return
        keys = np.asarray(keys, dtype=np.int64)
        k0, k1 = self.slabs[self.slab]
        if k0 > 0 or k1 < self.sizes[0]:
            inside = (keys >= k0) & (keys < k1)
            if not inside.all():
                keys, values = keys[inside], np.asarray(values)[inside]
                if not len(keys):
                    return
        v = (np.asarray(values, dtype=np.int64) - self.lo).view(np.uint64)
        if self.phase == "count":
            self._count(keys - k0, self.grid.bin(v))
        else:
            for plan in self.plan:
                plan.add(self.maps[plan.level][keys] - plan.key0, v)

    def _count(self, local: np.ndarray, bins: np.ndarray) -> None:
        n_bins = self.grid.n_bins
        if self._hist is None:
            k0, k1 = self.slabs[self.slab]
            self._hist = np.zeros((k1 - k0, n_bins), np.int64)
        lo, hi = int(local.min()), int(local.max())
        flat = (local - lo) * n_bins + bins
        span = (hi - lo + 1) * n_bins
        target = self._hist[lo : hi + 1].reshape(-1)
        if span <= 4 * len(flat) + (1 << 16):
            target += np.bincount(flat, minlength=span)
        else:  # keys spread far apart in one chunk (records far out of order)
            at, n = np.unique(flat, return_counts=True)
            target[at] += n
        self._touched = (min(self._touched[0], lo), max(self._touched[1], hi))

    # -- partial results of shards -----------------------------------------------------------

    def fresh(self) -> RankedValues:
        """A copy with the same plan and nothing counted, for a worker's shard."""
        out = copy.copy(self)
        out.plan = [p.fresh() for p in self.plan]
        out.counts, out._found, out._lookup = [], [], []
        out._clear()
        return out

    def compact(self) -> None:
        """Keep only the rows a shard touched (what a worker sends back): as they are, or as
        the positions and counts of their non-zero bins when that is smaller (a shard's keys
        rarely fill a log grid: most bins of a row are empty)."""
        if self._hist is None:
            return
        lo, hi = self._touched
        if hi < lo:
            self._hist = None
            return
        rows = self._hist[lo : hi + 1]
        flat = np.flatnonzero(rows)
        if len(flat) * 16 < rows.size * 8:
            self._hist = (lo, len(rows), flat.astype(np.int64), rows.reshape(-1)[flat])
        else:
            self._hist = (lo, rows.copy())

    def stores(self) -> list[RankedValues]:
        return [self]

    def merge(self, other: RankedValues, first: bool = False) -> None:
        """Add a shard's counts and kept samples (same pass) to this store's."""
        if self.phase == "done":
            return
        if self.phase == "count" and other._hist is not None:
            if self._hist is None:
                k0, k1 = self.slabs[self.slab]
                self._hist = np.zeros((k1 - k0, self.grid.n_bins), np.int64)
            part = other._hist if isinstance(other._hist, tuple) else (0, other._hist)
            n_rows = part[1] if len(part) == 4 else len(part[1])
            lo = part[0]
            if not (lo >= 0 and lo + n_rows <= len(self._hist)):
                raise ValueError(f"histogram rows {lo}..{lo + n_rows} outside the slab")
            target = self._hist[lo : lo + n_rows]
            if len(part) == 4:  # non-zero bins only (``compact``): positions are distinct
                flat, counts = part[2], part[3]
                if len(flat) and not 0 <= int(flat.min()) <= int(flat.max()) < target.size:
                    raise ValueError("histogram bins outside the rows")
                target.reshape(-1)[flat] += counts
            else:
                target += part[1]
        for mine, theirs in zip(self.plan, other.plan, strict=True):
            mine.merge(theirs)

    def _clear(self) -> None:
        self._hist: np.ndarray | tuple | None = None
        self._touched = (1 << 62, -1)
        for p in self.plan:
            p.clear()

    # -- planning ----------------------------------------------------------------------------

    def advance(self) -> None:
        """Close the pass just fed: find the wanted ranks' bins, select, or move on."""
        if self.phase == "done":
            return
        if self.phase == "count":
            self._plan_from_counts()
        else:
            pending = []
            for plan in self.plan:
                self._settle(plan, *plan.finish())
                if len(plan.rank_key):
                    pending.append(plan)
            self.plan = pending
        for plan in self.plan:
            plan.choose(self._plan_memory())
        if self.plan:
            self.phase = "select"
        else:
            self._next_slab()

    def _plan_memory(self) -> int:
        return max(self.memory // (2 * max(len(self.plan), 1)), 1 << 10)

    def _plan_from_counts(self) -> None:
        k0, k1 = self.slabs[self.slab]
        fine = (
            self._hist
            if self._hist is not None
            else np.zeros((k1 - k0, self.grid.n_bins), np.int64)
        )
        self._hist = None
        self.plan = []
        for level, mapping in enumerate(self.maps):
            keys = mapping[k0:k1]
            key0 = int(keys.min())
            if level == 0:
                hist = fine
            else:
                hist = np.zeros((int(keys.max()) - key0 + 1, self.grid.n_bins), np.int64)
                np.add.at(hist, keys - key0, fine)
            n = hist.sum(axis=1)
            self.counts[level][key0 : key0 + len(n)] += n
            present = np.flatnonzero(n)
            if not len(present):
                continue
            ranks = needed_ranks(n[present], self.qs)
            rk = np.repeat(present, ranks.shape[1])
            rr = ranks.reshape(-1)
            pairs = np.unique(rk * (int(n.max()) + 1) + rr)
            rk, rr = pairs // (int(n.max()) + 1), pairs % (int(n.max()) + 1)
            # Where each wanted rank falls: cumulative counts over the flattened (key, bin) grid.
            flat_counts = hist.reshape(-1)
            cum = np.cumsum(flat_counts)
            below_key = np.concatenate(([0], np.cumsum(n)))[rk]
            at = np.searchsorted(cum, below_key + rr, side="right")
            inside = below_key + rr - (cum[at] - flat_counts[at])
            start, width = self.grid.start_width(at % self.grid.n_bins)
            plan = _Plan(level, key0, self.vbits)
            plan.set(rk, rr, start, width, flat_counts[at], inside)
            self._settle(plan, *plan.resolve_exact())
            if len(plan.rank_key):
                self.plan.append(plan)

    def _settle(self, plan: _Plan, keys: np.ndarray, ranks: np.ndarray, values: np.ndarray) -> None:
        if len(keys):
            self._found[plan.level].append((keys + plan.key0, ranks, values))

    def _next_slab(self) -> None:
        self.slab += 1
        if self.slab >= len(self.slabs):
            self.phase = "done"
        else:
            self.phase = "count"
        self._clear()

    def _slab_ranges(self) -> list[tuple[int, int]]:
        """Fine-key ranges whose counting fits the memory (whole coarsest keys in each)."""
        n = self.sizes[0]
        per_key = self.grid.n_bins * 8 * len(self.sizes) * 2  # histograms and their cumsum
        fit = max(self.memory // 2 // per_key, 1)
        fit = min(fit, 1 << max(64 - self.vbits, 0))  # packed (key, value) codes fit 64 bits
        top = self.maps[-1]
        if fit >= n or (len(self.sizes) > 1 and np.any(np.diff(top) < 0)):
            return [(0, n)]  # everything at once (a non-monotone coarsening cannot be cut)
        out = []
        k0 = 0
        while k0 < n:
            k1 = min(k0 + fit, n)
            if k1 < n and len(self.sizes) > 1:
                # Never split a coarsest key: back off to where it starts (or past it).
                cut = int(np.searchsorted(top, top[k1], side="left"))
                k1 = cut if cut > k0 else int(np.searchsorted(top, top[k1], side="right"))
            out.append((k0, k1))
            k0 = k1
        return out

    # -- reading -----------------------------------------------------------------------------

    def table(self, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys present, their sample counts, percentiles ``qs`` per key), keys ascending."""
        if self.pending:
            raise RuntimeError("percentiles asked for before every pass was fed")
        if not set(qs) <= set(self.qs):
            raise ValueError(f"percentiles {qs} were not planned (only {self.qs})")
        counts = self.counts[self.level]
        present = np.flatnonzero(counts > 0)
        n = counts[present]
        starts = (np.cumsum(n) - n).astype(np.int64)
        codes, values, stride = self._index(self.level)

        def value_at(positions: np.ndarray) -> np.ndarray:
            i = np.searchsorted(starts, positions, side="right") - 1
            code = present[i] * stride + (positions - starts[i])
            j = np.searchsorted(codes, code)
            raw = values[j].view(np.int64) + self.lo
            return raw / self.scale if self.scale is not None else raw.astype(np.float64)

        table = ranked_percentiles(value_at, starts, starts + n, qs)
        return present, n, table

    def _index(self, level: int) -> tuple[np.ndarray, np.ndarray, int]:
        if self._lookup[level] is None:
            found = self._found[level]
            stride = int(self.counts[level].max(initial=0)) + 1
            if found:
                keys = np.concatenate([f[0] for f in found])
                ranks = np.concatenate([f[1] for f in found])
                values = np.concatenate([f[2] for f in found])
            else:
                keys = ranks = np.empty(0, np.int64)
                values = np.empty(0, np.uint64)
            codes = keys * stride + ranks
            order = np.argsort(codes, kind="stable")
            self._lookup[level] = (codes[order], values[order], stride)
        return self._lookup[level]

    def rekey(self, mapping: np.ndarray, n_keys: int) -> None:
        """Read the next declared coarser level (``mapping`` must be the one declared)."""
        if self.level + 1 >= len(self.sizes) or int(n_keys) != self.sizes[self.level + 1]:
            raise ValueError("rekey to a level that was not declared")
        self.level += 1

    def release(self) -> None:
        self.plan, self._found, self._lookup = (
            [],
            [[] for _ in self.sizes],
            [None] * len(self.sizes),
        )
        self._clear()


@travels
class _Plan:
    """One level's wanted ranks in a slab, and the value ranges (targets) they lie in."""

    def __init__(self, level: int, key0: int, vbits: int) -> None:
        self.level, self.key0, self.vbits = level, key0, vbits
        self.t_keep = np.zeros(0, bool)
        self.clear()

    def set(self, rank_key, rank, start, width, count, inside) -> None:
        """Wanted ranks (local key, rank) with, for each, the value range it lies in (start,
        width), the samples in that range, and the rank's position among them."""
        self.rank_key = np.asarray(rank_key, np.int64)
        self.rank = np.asarray(rank, np.int64)
        self.r_start = np.asarray(start, np.uint64)
        self.r_width = np.asarray(width, np.uint64)
        self.r_count = np.asarray(count, np.int64)
        self.r_inside = np.asarray(inside, np.int64)

    def resolve_exact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ranks whose target is one value wide are known: settle them, keep the rest."""
        one = self.r_width == 1
        out = (self.rank_key[one], self.rank[one], self.r_start[one])
        self._keep(~one)
        return out

    def _keep(self, mask: np.ndarray) -> None:
        self.set(
            self.rank_key[mask], self.rank[mask], self.r_start[mask], self.r_width[mask],
            self.r_count[mask], self.r_inside[mask],
        )  # fmt: skip

    def choose(self, memory: int) -> None:
        """Targets of this pass: keep the samples of the smallest ones while they fit
        ``memory``, split the others into finer bins."""
        code = np.left_shift(self.rank_key.astype(np.uint64), np.uint64(self.vbits)) | self.r_start
        self.t_lo, first = np.unique(code, return_index=True)
        self.r_target = np.searchsorted(self.t_lo, code)
        width = self.r_width[first]
        count = self.r_count[first]
        self.t_hi = self.t_lo + (width - np.uint64(1))
        order = np.argsort(count, kind="stable")
        fits = np.cumsum(count[order]) * KEPT_BYTES <= memory // 2
        self.t_keep = np.zeros(len(count), bool)
        self.t_keep[order[fits]] = True
        split = np.flatnonzero(~self.t_keep)
        # Split bins: as fine as memory allows, at most 2**SPLIT_BITS, at least halves.
        bits = np.log2(width[split].astype(np.float64)).astype(np.int64)
        room = max(memory // 2 // max(len(split), 1) // 8, 2)
        want = min(SPLIT_BITS, max(int(room).bit_length() - 1, 1))
        sub_bits = np.minimum(bits, want)
        self.t_shift = np.zeros(len(count), np.uint64)
        self.t_shift[split] = (bits - sub_bits).astype(np.uint64)
        self.t_sub0 = np.zeros(len(count), np.int64)
        sizes = np.left_shift(1, sub_bits)
        self.t_sub0[split] = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.t_subn = np.zeros(len(count), np.int64)
        self.t_subn[split] = sizes
        self.n_sub = int(sizes.sum())
        self.clear()

    def clear(self) -> None:
        self.sub: np.ndarray | None = None
        self.kept_t: list[np.ndarray] = []
        self.kept_v: list[np.ndarray] = []

    def fresh(self) -> _Plan:
        out = copy.copy(self)
        out.clear()
        return out

    def add(self, local_keys: np.ndarray, v: np.ndarray) -> None:
        code = np.left_shift(local_keys.astype(np.uint64), np.uint64(self.vbits)) | v
        t = np.searchsorted(self.t_lo, code, side="right") - 1
        ok = t >= 0
        t = np.maximum(t, 0)
        ok &= code <= self.t_hi[t]
        if not ok.any():
            return
        t, code = t[ok], code[ok]
        keep = self.t_keep[t]
        if keep.any():
            self.kept_t.append(t[keep])
            self.kept_v.append(v[ok][keep])
        split = ~keep
        if split.any():
            ts = t[split]
            sub = np.right_shift(code[split] - self.t_lo[ts], self.t_shift[ts]).astype(np.int64)
            counts = np.bincount(self.t_sub0[ts] + sub, minlength=self.n_sub)
            if self.sub is None:
                self.sub = counts
            else:
                self.sub += counts

    def merge(self, other: _Plan) -> None:
        self.kept_t += other.kept_t
        self.kept_v += other.kept_v
        if other.sub is not None:
            self.sub = other.sub.copy() if self.sub is None else self.sub + other.sub

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Settle the ranks whose samples were kept; narrow the others to their finer bin.
        Returns the settled (local key, rank, value)."""
        keep = self.t_keep[self.r_target]
        settled = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint64))
        if keep.any():
            kt = np.concatenate(self.kept_t) if self.kept_t else np.empty(0, np.int64)
            kv = np.concatenate(self.kept_v) if self.kept_v else np.empty(0, np.uint64)
            order = np.lexsort((kv, kt))
            kt, kv = kt[order], kv[order]
            first = np.searchsorted(kt, self.r_target[keep])
            settled = (self.rank_key[keep], self.rank[keep], kv[first + self.r_inside[keep]])
        split = ~keep
        if split.any():
            sub = self.sub if self.sub is not None else np.zeros(self.n_sub, np.int64)
            t = self.r_target[split]
            cum = np.cumsum(sub)
            base = self.t_sub0[t]
            below = np.where(base > 0, cum[np.maximum(base - 1, 0)], 0)
            at = np.searchsorted(cum, below + self.r_inside[split], side="right")
            j = at - base
            inside = below + self.r_inside[split] - (cum[at] - sub[at])
            width = np.left_shift(np.uint64(1), self.t_shift[t])
            start = self.r_start[split] + j.astype(np.uint64) * width
            self.set(self.rank_key[split], self.rank[split], start, width, sub[at], inside)
            more = self.resolve_exact()
            settled = tuple(np.concatenate(p) for p in zip(settled, more, strict=True))
        else:
            self._keep(np.zeros(len(self.rank), bool))
        self.clear()
        return settled
