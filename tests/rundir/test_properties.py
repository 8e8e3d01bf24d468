"""Property: any bytes in a records file and any lines in a names file give records that can
be true (or a RunDirError), with memory bounded by the data, never by a value in it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surgeproof.rundir.reader import open_record_sources, read_events
from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome, RunDirError
from surgeproof.rundir.writer import write_meta

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = 1_733_230_800_000_000_000
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**25), 10**25), st.floats(),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["id", "name", "group", "t_ns"]),
                                            inner, max_size=4)),
    max_leaves=10,
)  # fmt: skip
LINES = st.lists(
    st.one_of(JSONISH.map(lambda v: json.dumps(v, allow_nan=True)), st.text(max_size=20)),
    max_size=6,
)


def _run_dir(folder: Path, raw: bytes, names: list[str], t0: int | None) -> Path:
    (folder / "records").mkdir()
    write_meta(
        folder, {"status": "complete"} if t0 is None else {"status": "complete", "t0_ns": t0}
    )
    (folder / "records" / "local.bin").write_bytes(raw)
    (folder / "records" / "local.names.jsonl").write_text("\n".join(names))
    (folder / "events.jsonl").write_text("\n".join(names))
    return folder


@FAST
@given(
    st.binary(max_size=40 * 20),
    LINES,
    st.one_of(st.none(), st.just(T0)),
)
def test_records_and_names_are_trustworthy_or_refused(raw, names, t0):
    with tempfile.TemporaryDirectory() as tmp:
        run = _run_dir(Path(tmp), raw, names, t0)
        try:
            opened = open_record_sources(run)
            read_events(run)
        except RunDirError as exc:
            assert "\n" not in str(exc)
            return
        [src] = opened.sources
        assert len(src.records) <= len(raw) // RECORD_DTYPE.itemsize
        assert len(src.name_index) <= (1 << 16) + 1  # sized by the ids' range, not a value
        if len(src.records):
            assert (src.records["outcome"] < len(Outcome)).all()
            assert (src.records["kind"] < len(Kind)).all()
            ids = opened.global_ids(src, src.records["name_id"])
            assert (ids >= 0).all() and (ids < len(opened.names)).all()
            if t0 is not None:
                span = np.abs(src.records["intended_ns"].astype(np.float64) - T0)
                assert (span < 9 * 86_400e9).all()
