"""Percentiles are exact order statistics, bit-identical to numpy's, per segment."""

import numpy as np
import pytest

from surgeproof.analysis.percentiles import exact_percentiles, grouped_percentiles

QS = [50, 90, 95, 99, 99.9, 100]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 999, 20_001])
def test_one_sample_equals_numpy_exactly(n):
    x = np.random.default_rng(n).lognormal(3, 1.2, n)
    assert list(exact_percentiles(x).values()) == list(np.percentile(x, QS))


def test_every_group_equals_numpy_on_its_own_samples():
    rng = np.random.default_rng(5)
    x = rng.pareto(1.5, 50_000) * 10
    keys = rng.integers(0, 300, 50_000)
    ukeys, counts, table = grouped_percentiles(x, keys)
    assert counts.sum() == len(x)
    for k, row in zip(ukeys, table, strict=True):
        assert list(row) == list(np.percentile(x[keys == k], QS))


def test_empty_sample_gives_none_not_zero():
    assert set(exact_percentiles(np.array([])).values()) == {None}
