"""The pass wire form: a pass's plan and partial result as data that crosses hosts. It rebuilds
only the classes allowed, never runs code a message names, bounds what a message may declare,
and holds a partial result to the shape of the plan that was sent."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from surgeproof.analysis.groupstats import KeyedStats
from surgeproof.analysis.pass_wire import (
    MAGIC,
    TRAVELS,
    WireError,
    class_key,
    decode,
    decode_like,
    encode,
)
from surgeproof.analysis.scan import Census, CensusPass

MB = 1 << 20


def _craft(tree, body: bytes = b"") -> bytes:
    header = json.dumps(tree).encode()
    return MAGIC + len(header).to_bytes(8, "little") + header + body


def test_plain_data_and_arrays_round_trip_exactly():
    value = {
        "n": 3,
        "big": 10**30,
        "x": 0.1,
        "nan": float("nan"),
        "t": (1, "a", None, True),
        "l": [np.arange(5, dtype=np.uint64), np.zeros((2, 3), np.int64)],
        7: np.float64(2.5),
    }
    back = decode(encode(value), {}, max_bytes=MB)
    assert back["n"] == 3 and back["big"] == 10**30 and back["x"] == 0.1
    assert np.isnan(back["nan"]) and back["t"] == (1, "a", None, True)
    assert back["l"][0].dtype == np.uint64 and back["l"][0].tolist() == [0, 1, 2, 3, 4]
    assert back["l"][1].shape == (2, 3) and back[7] == 2.5 and back[7].dtype == np.float64
    back["l"][0][0] = 9  # writable: a partial result is merged into, not only read


def test_a_pass_travels_with_its_class_and_state():
    p = CensusPass(100.0)
    p.c.total = 5
    back = decode(encode(p), TRAVELS, max_bytes=MB)
    assert type(back) is CensusPass and type(back.c) is Census and back.c.total == 5


def test_a_class_not_allowed_is_refused_by_name_not_built():
    crafted = _craft({"o": "os.system", "v": {}})
    with pytest.raises(WireError, match="may not travel"):
        decode(crafted, TRAVELS, max_bytes=MB)
    # Pickle's own payloads are not this format at all.
    with pytest.raises(WireError, match="magic"):
        decode(pickle.dumps(CensusPass(1.0)), TRAVELS, max_bytes=MB)


def test_objects_arrays_and_numbers_that_cannot_be_true_are_refused():
    cases = {
        "array type": _craft({"a": ["|O", [1], 0, 8]}, b"\0" * 8),
        "does not match": _craft({"a": ["<i8", [4], 0, 8]}, b"\0" * 8),
        "message": _craft({"a": ["<i8", [1], 0, 8]}),  # its bytes are not there
        "whole numbers": _craft({"a": ["<i8", [-1], 0, 8]}, b"\0" * 8),
        "too long": _craft(10**500),
        "attribute name": _craft({"o": class_key(Census), "v": {"__class__": 1}}),
        "fields missing": _craft({"o": class_key(Census), "v": {"total": 1}}),
        "unknown part": _craft({"zz": 1}),
        "not nan or inf": _craft({"f": "1e999999"}),
    }
    for why, data in cases.items():
        with pytest.raises(WireError, match=why):
            decode(data, TRAVELS, max_bytes=MB)


def test_size_and_depth_are_bounded_before_anything_is_built():
    with pytest.raises(WireError, match="allowed"):
        decode(encode(np.zeros(1000, np.int64)), {}, max_bytes=100)
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    with pytest.raises(WireError, match="deep"):
        decode(_craft(deep), {}, max_bytes=MB)
    with pytest.raises(WireError, match="header"):
        decode(MAGIC + (1 << 40).to_bytes(8, "little") + b"{}", {}, max_bytes=MB)


def test_a_partial_must_have_the_shape_of_the_plan_sent():
    stats = KeyedStats(4, 100, ((0, 1000), (0, 1000)))
    like = stats.fresh()
    like.tally = np.zeros((4, 8), np.int64)
    good = stats.fresh()
    good.tally = np.ones((4, 8), np.int64)
    assert decode_like(encode(good), like, TRAVELS, max_bytes=MB).tally.sum() == 32
    bad = stats.fresh()
    bad.tally = np.ones((1, 8), np.int64)  # would broadcast into every key if merged
    with pytest.raises(WireError, match="shape"):
        decode_like(encode(bad), like, TRAVELS, max_bytes=MB)
    other = stats.fresh()
    other.extra = 1
    with pytest.raises(WireError, match="attributes differ"):
        decode_like(encode(other), like, TRAVELS, max_bytes=MB)
    wrong_type = stats.fresh()
    wrong_type.tally = np.ones((4, 8), np.float64)
    with pytest.raises(WireError, match="int64"):
        decode_like(encode(wrong_type), like, TRAVELS, max_bytes=MB)


def test_what_cannot_travel_says_so_when_encoding():
    with pytest.raises(TypeError, match="cannot travel"):
        encode({"f": lambda: 1})
    with pytest.raises(TypeError, match="cannot travel"):
        encode(np.zeros(2, dtype=object))


def test_every_record_pass_of_the_analysis_may_travel():
    import surgeproof.analysis.run  # noqa: F401 - every pass of an analysis is defined by now
    from surgeproof.analysis.shards import RecordPass

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    passes = {class_key(c) for c in subclasses(RecordPass)}
    assert len(passes) >= 7  # census, series, levels, endpoints, seconds, amplification, faults
    assert passes <= set(TRAVELS)
