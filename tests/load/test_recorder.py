"""Every intended call becomes one record; drained batches read back through the run format."""

from surgeproof.load.recorder import BUFFER_RECORDS, Recorder
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.rundir.writer import RecordFile


def test_records_and_names_survive_a_drain_into_a_record_file(tmp_path):
    rec = Recorder()
    tick = rec.name_id("GET /v1/ticker", "quotation")
    rec.record(1_000, 1_500, 9_000, tick, 200, Outcome.OK, user=3, concurrency=10)
    rec.unsent(2_000, tick, user=3, concurrency=10)
    raw, names = rec.drain()
    f = RecordFile(tmp_path, "local")
    f.add_names(names)
    f.append(raw)
    f.close()
    rs = read_records(tmp_path)
    assert rs.names == ["GET /v1/ticker"] and rs.groups == ["quotation"]
    r = rs.records
    assert list(r["outcome"]) == [Outcome.OK, Outcome.BACKLOGGED]
    assert r["end_ns"][0] - r["intended_ns"][0] == 8_000
    assert r["sent_ns"][1] == 0 and r["kind"][1] == Kind.HTTP


def test_a_full_buffer_is_kept_not_dropped():
    rec = Recorder()
    nid = rec.name_id("GET /v1/ticker", "quotation")
    n = BUFFER_RECORDS + 10
    for i in range(n):
        rec.record(i, i, i + 1, nid, 200, Outcome.OK)
    raw, _ = rec.drain()
    assert len(raw) == n * 40
    assert rec.drain()[0] == b""


def test_counters_tell_late_sends_backlogged_calls_and_errors_apart():
    rec = Recorder(late_after_ns=10)
    nid = rec.name_id("x", "quotation")
    rec.record(0, 5, 9, nid, 200, Outcome.OK)
    rec.record(0, 50, 90, nid, 503, Outcome.SERVER_ERROR)
    rec.unsent(0, nid, 1, 1)
    c = rec.take_counters()
    assert (c.sent, c.late_sends, c.errors, c.backlogged, c.missed) == (2, 1, 1, 1, 0)
    assert rec.take_counters().sent == 0
