"""Exact percentiles of raw samples, for many segments at once, equal to numpy's default method.

Percentiles are never averaged: every window/group gets the order statistics of its own samples.
The interpolation repeats numpy's "linear" method step for step (virtual index ``(n-1)·q``,
``_lerp`` from whichever neighbour is nearer) so results are bit-identical to ``np.percentile``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from surgeproof.scenario.slos.percentile import PERCENTILES as LATENCY_PERCENTILES

#: The percentiles every latency summary reports, as (key, percent): the latency SLO kind's.
PERCENTILES: tuple[tuple[str, float], ...] = LATENCY_PERCENTILES
PERCENTILE_KEYS = tuple(k for k, _ in PERCENTILES)


def segment_percentiles(
    sorted_values: np.ndarray, starts: np.ndarray, ends: np.ndarray, qs: tuple[float, ...]
) -> np.ndarray:
    """Percentiles ``qs`` (0–100) of each segment ``sorted_values[starts[i]:ends[i]]``.

    Each segment must already be sorted ascending and non-empty. Returns shape (segments, len(qs)).
    """
    values = np.asarray(sorted_values, dtype=np.float64)
    return ranked_percentiles(lambda at: values[at], starts, ends, qs)


def ranked_percentiles(
    value_at: Callable[[np.ndarray], np.ndarray],
    starts: np.ndarray,
    ends: np.ndarray,
    qs: tuple[float, ...],
) -> np.ndarray:
    """Like :func:`segment_percentiles`, reading only the needed order statistics via ``value_at``.

    ``value_at(positions)`` returns the float64 values at those positions of a sorted store, so a
    packed or compact store never has to be widened to float64 as a whole.
    """
    starts = np.asarray(starts, dtype=np.int64)
    n = np.asarray(ends, dtype=np.int64) - starts
    out = np.empty((len(starts), len(qs)), dtype=np.float64)
    if len(starts) == 0:
        return out
    for j, q in enumerate(qs):
        prev, nxt, gamma = rank_pair(n, q)
        a = value_at(starts + prev)
        b = value_at(starts + nxt)
        diff = b - a
        lerp = a + diff * gamma
        high = gamma >= 0.5
        lerp[high] = (b - diff * (1 - gamma))[high]
        out[:, j] = lerp
    return out


def rank_pair(n: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For segments of ``n`` sorted samples: the two order statistics (0-based ranks) the
    percentile ``q`` interpolates between, and the interpolation weight (numpy's "linear")."""
    n = np.asarray(n, dtype=np.int64)
    virtual = (n - 1) * np.true_divide(q, 100)
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev = np.where(above, n - 1, prev).astype(np.int64)
    nxt = np.where(above, n - 1, nxt).astype(np.int64)
    return prev, nxt, virtual - np.floor(virtual)


def needed_ranks(n: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Shape (segments, 2·len(qs)): every rank :func:`ranked_percentiles` reads for ``qs``."""
    cols = []
    for q in qs:
        prev, nxt, _ = rank_pair(n, q)
        cols += [prev, nxt]
    return np.stack(cols, axis=1) if cols else np.empty((len(n), 0), np.int64)


def exact_percentiles(values: np.ndarray) -> dict[str, float | None]:
    """The standard percentile set of one sample (None for every key when it is empty)."""
    if len(values) == 0:
        return dict.fromkeys(PERCENTILE_KEYS)
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    row = segment_percentiles(ordered, np.array([0]), np.array([len(ordered)]), _QS)[0]
    return {k: float(v) for k, v in zip(PERCENTILE_KEYS, row, strict=True)}


def grouped_percentiles(
    values: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct key: (keys, counts, percentiles of shape (keys, 6)), from one sort.

    Sorting by value first and then stably by key leaves every key's samples sorted, so one
    float sort and one integer (radix) sort serve every segment.
    """
    if len(values) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, len(_QS)))
    by_value = np.argsort(values, kind="stable")
    small = len(keys) == 0 or (keys.min() >= 0 and keys.max() < 2**31)
    keys_v = keys[by_value].astype(np.int32 if small else np.int64, copy=False)
    ordered_values = np.asarray(values, dtype=np.float64)[by_value]
    del by_value  # the transient index arrays dominate peak memory on 10M-record runs
    by_key = np.argsort(keys_v, kind="stable")
    ordered_keys = keys_v[by_key]
    del keys_v
    ordered_values = ordered_values[by_key]
    del by_key
    bounds = np.flatnonzero(np.diff(ordered_keys)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(ordered_keys)]))
    table = segment_percentiles(ordered_values, starts, ends, _QS)
    return ordered_keys[starts].astype(np.int64), ends - starts, table


#: The percents of ``PERCENTILES``, in order.
QS = tuple(q for _, q in PERCENTILES)
_QS = QS
