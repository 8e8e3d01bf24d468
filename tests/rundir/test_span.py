"""The record check keeps exactly the records whose times lie in the run's span and whose
outcome and kind are known, however long the chunk it is handed."""

import numpy as np

from surgeproof.rundir import RECORD_DTYPE
from surgeproof.rundir.span import CHECK_RECORDS, valid_records

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def test_a_long_chunk_is_checked_record_by_record():
    n = CHECK_RECORDS * 2 + 123
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = T0 + np.arange(n)
    rec["sent_ns"] = rec["intended_ns"] + 5
    rec["end_ns"] = rec["intended_ns"] + 50
    bad = [0, CHECK_RECORDS - 1, CHECK_RECORDS, 2 * CHECK_RECORDS, n - 1]
    rec["intended_ns"][bad[0]] = 0  # 1970
    rec["end_ns"][bad[1]] = T0 + 10 * 86_400 * NS  # long after the span
    rec["outcome"][bad[2]] = 200  # no such outcome
    rec["kind"][bad[3]] = 9  # no such kind
    rec["sent_ns"][bad[4]] = 1  # sent in 1970
    rec["sent_ns"][7] = rec["end_ns"][7] = 0  # never sent, never ended: allowed
    span = (T0 - NS, T0 + 86_400 * NS)
    ok = valid_records(rec, span)
    assert ok.dtype == bool and len(ok) == n
    assert np.flatnonzero(~ok).tolist() == bad
    for i in (bad[1], 7, n // 2):
        assert ok[i] == valid_records(rec[i : i + 1], span)[0]
