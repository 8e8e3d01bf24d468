"""What an authenticated worker's message may carry before the master uses it."""

from __future__ import annotations

import pytest

from surgeproof.load import messages
from surgeproof.load.fleet_auth import Refused
from surgeproof.rundir.schema import RECORD_DTYPE


def refused(match: str):
    return pytest.raises(Refused, match=match)


def test_records_are_whole_and_bytes():
    assert messages.records(b"\0" * RECORD_DTYPE.itemsize * 3) == b"\0" * 120
    with refused("whole 40-byte records"):
        messages.records(b"\0" * 41)
    with refused("whole"):
        messages.records("text")


def test_names_are_bounded_id_name_group_triples():
    assert messages.names([[1, "GET /v1/ticker", "quotation"]]) == {
        1: ("GET /v1/ticker", "quotation")
    }
    for bad in ([[1, "a"]], [["1", "a", "b"]], [[70_000, "a", "b"]], [[1, "a\nb", "g"]], "x"):
        with refused("names|name id|name"):
            messages.names(bad)
    with refused("at most"):
        messages.names([[i, "n", "g"] for i in range(messages.MAX_NAMES + 1)])


def test_a_sample_carries_the_sessions_source_whatever_it_says():
    s = messages.sample({"t_ns": 5, "source": "local", "sent": 3, "phase": "panic"}, "worker-ab")
    assert s == {"t_ns": 5, "source": "worker-ab", "sent": 3, "phase": "panic"}
    assert messages.sample(None, "worker-ab") is None
    for bad in ({"t_ns": "5"}, {"t_ns": 1, "x": float("nan")}, {"t_ns": 1, "x": [1]}, [1]):
        with refused("sample"):
            messages.sample(bad, "worker-ab")


def test_a_sample_carries_the_requests_its_worker_could_not_build_as_bounded_texts():
    # What a worker's sampler sends when a dialect template cannot be filled (never a value).
    noted = [{"endpoint": "login", "reason": "{password|number}: cannot go through |number"}]
    s = messages.sample({"t_ns": 5, "invalid_requests": noted}, "worker-ab")
    assert s is not None and s["invalid_requests"] == noted
    too_many = [{"endpoint": "e", "reason": "r"}] * (messages.MAX_INVALID_REQUESTS + 1)
    bad_items = ("x", [{"endpoint": "e"}], [{"endpoint": "e", "reason": 3}], too_many)
    for bad in (*bad_items, [{"endpoint": "e", "reason": "r", "value": "hunter2"}]):
        with refused("sample invalid_requests"):
            messages.sample({"t_ns": 5, "invalid_requests": bad}, "worker-ab")


def test_a_shard_chunk_names_a_known_part_and_is_bounded():
    assert messages.chunk({"part": "records", "offset": 0, "data": b"ab"}, 8) == (
        "records",
        0,
        b"ab",
    )
    with refused("shard part"):
        messages.chunk({"part": "../../x", "offset": 0, "data": b""}, 8)
    with refused("at most 8 bytes"):
        messages.chunk({"part": "names", "offset": 0, "data": b"\0" * 9}, 8)
    with refused("shard offset"):
        messages.chunk({"part": "names", "offset": -1, "data": b""}, 8)


def test_a_shard_description_keeps_known_fields_only():
    assert messages.shard(
        {"shared": True, "path": "/r", "host": "h", "records": 3, "evil": "x"}
    ) == {"shared": True, "path": "/r", "host": "h", "records": 3}
    with refused("control characters"):
        messages.shard({"path": "/r\x1b[2J"})
    with refused("shard bytes"):
        messages.shard({"bytes": {"records": 1, "../x": 2}})
