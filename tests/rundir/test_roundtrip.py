"""The run directory written by the load side reads back whole, and survives being cut short."""

import json

import numpy as np
import pytest

from surgeproof.rundir import RECORD_DTYPE, SCHEMA_VERSION, Outcome, RunDirError
from surgeproof.rundir.reader import read_jsonl, read_meta, read_records
from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta


def _records(n: int, name_id: int = 0) -> np.ndarray:
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = np.arange(n) * 1_000_000
    rec["sent_ns"] = rec["intended_ns"] + 10
    rec["end_ns"] = rec["sent_ns"] + 5_000_000
    rec["name_id"] = name_id
    rec["status"] = 200
    rec["outcome"] = Outcome.OK
    return rec


def test_records_from_two_sources_share_one_name_table(tmp_path):
    a = RecordFile(tmp_path, "worker-a")
    a.add_names({0: ("GET /v1/ticker", "quotation")})
    a.append(_records(3))
    b = RecordFile(tmp_path, "worker-b")
    b.add_names({0: ("POST /v1/session", "login"), 1: ("GET /v1/ticker", "quotation")})
    b.append(_records(2, name_id=1))
    b.append(_records(1, name_id=0))
    a.close()
    b.close()

    rs = read_records(tmp_path)

    assert len(rs.records) == 6
    assert rs.per_source == {"worker-a": 3, "worker-b": 3}
    names = [rs.names[i] for i in rs.records["name_id"]]
    assert names.count("GET /v1/ticker") == 5
    assert names.count("POST /v1/session") == 1
    assert rs.damage == []


def test_half_written_record_is_dropped_and_reported(tmp_path):
    f = RecordFile(tmp_path, "local")
    f.add_names({0: ("GET /v1/ticker", "quotation")})
    f.append(_records(4))
    f.close()
    with open(tmp_path / "records" / "local.bin", "ab") as fh:
        fh.write(b"\x01" * 17)

    rs = read_records(tmp_path)

    assert len(rs.records) == 4
    assert any("17 trailing bytes" in d for d in rs.damage)


def test_half_written_last_jsonl_line_is_dropped(tmp_path):
    log = JsonlLog(tmp_path / "events.jsonl")
    log.append({"t_ns": 1, "type": "run_start"})
    log.close()
    with open(tmp_path / "events.jsonl", "a") as fh:
        fh.write('{"t_ns": 2, "ty')

    rows, damage = read_jsonl(tmp_path / "events.jsonl")

    assert rows == [{"t_ns": 1, "type": "run_start"}]
    assert damage and "half-written" in damage[0]


def test_meta_round_trips_and_wrong_schema_is_refused(tmp_path):
    write_meta(tmp_path, {"run_id": "r1", "status": "complete"})
    assert read_meta(tmp_path)["schema_version"] == SCHEMA_VERSION

    (tmp_path / "run.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(RunDirError, match="schema_version 99"):
        read_meta(tmp_path)


def test_missing_run_json_is_a_clear_error(tmp_path):
    with pytest.raises(RunDirError, match="missing"):
        read_meta(tmp_path)


def test_batch_that_is_not_whole_records_is_refused(tmp_path):
    f = RecordFile(tmp_path, "local")
    with pytest.raises(ValueError, match="not whole records"):
        f.append(b"\x00" * 41)
    f.close()
