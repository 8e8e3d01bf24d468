"""A pass's state as bytes that cross to another host and back: data, never code.

A record pass (``shards.RecordPass``) travels twice when its records lie on a worker's host:
its plan to the host (what to count, which ranks to look for) and its partial result back.
Pickle would run whatever a crafted message names, so this form holds only numbers, strings,
lists, tuples, dicts, numeric arrays and objects of the classes the reader allows, rebuilt
attribute by attribute without calling any of their code. A partial coming back is also held
against the plan the master sent (``decode_like``): same classes in the same places, same
attributes, same array types and, where the plan fixed it, the same shape.

Layout: ``MAGIC``, the JSON header's length (8 bytes, little-endian), the header, then the
arrays' bytes, each where the header says.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

MAGIC = b"surgeproof-pass/1\n"
#: Bounds on what one message may declare (a plan is a few KB; a partial's arrays are bounded
#: by ``max_bytes``, its structure never by more than these).
MAX_HEADER_BYTES = 16 << 20
MAX_DEPTH = 24
MAX_NODES = 1 << 20
MAX_INT_DIGITS = 400
MAX_DIMS = 4
#: Array element kinds that may travel: booleans, integers, floats.
_KINDS = frozenset("biuf")


#: The classes whose objects may travel, by ``class_key``: every record pass (``RecordPass``
#: registers its subclasses) and the stores and plans they hold (``@travels``).
TRAVELS: dict[str, type] = {}


def travels(cls: type) -> type:
    """Let objects of ``cls`` travel (a class decorator)."""
    TRAVELS[class_key(cls)] = cls
    return cls


class WireError(ValueError):
    """The bytes are not a pass this reader accepts; the message says where and why."""


def class_key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def encode(obj: Any) -> bytes:
    """``obj`` (a pass, a store, plain data) as bytes; TypeError for anything else."""
    buffers: list[bytes] = []
    offset = [0]

    def array(a: np.ndarray) -> dict[str, Any]:
        if a.dtype.kind not in _KINDS or a.dtype.fields is not None:
            raise TypeError(f"an array of {a.dtype} cannot travel")
        raw = np.ascontiguousarray(a).tobytes()
        node = {"a": [a.dtype.str, list(a.shape), offset[0], len(raw)]}
        buffers.append(raw)
        offset[0] += len(raw)
        return node

    def walk(x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise TypeError("nested too deep to travel")
        if isinstance(x, np.generic):  # before float: numpy's float64 is a float too
            return {"s": array(np.asarray(x))["a"]}
        if x is None or isinstance(x, bool | str):
            return x
        if isinstance(x, int):
            return x
        if isinstance(x, float):
            return x if math.isfinite(x) else {"f": repr(x)}
        if isinstance(x, np.ndarray):
            return array(x)
        if isinstance(x, list):
            return [walk(v, depth + 1) for v in x]
        if isinstance(x, tuple):
            return {"t": [walk(v, depth + 1) for v in x]}
        if isinstance(x, dict):
            for k in x:
                if not isinstance(k, str | int) or isinstance(k, bool):
                    raise TypeError(f"a dict key of type {type(k).__name__} cannot travel")
            return {"d": [[k, walk(v, depth + 1)] for k, v in x.items()]}
        if hasattr(x, "__dict__") and not callable(x):
            state = {k: walk(v, depth + 1) for k, v in vars(x).items()}
            return {"o": class_key(type(x)), "v": state}
        raise TypeError(f"a {type(x).__name__} cannot travel")

    header = json.dumps(walk(obj, 0), separators=(",", ":"), allow_nan=False).encode()
    return b"".join([MAGIC, len(header).to_bytes(8, "little"), header, *buffers])


def decode(data: bytes, classes: Mapping[str, type], *, max_bytes: int) -> Any:
    """The object ``data`` holds, built only from ``classes`` (by ``class_key``)."""
    return _Reader(data, classes, max_bytes).read()


def decode_like(data: bytes, like: Any, classes: Mapping[str, type], *, max_bytes: int) -> Any:
    """As ``decode``, and shaped as ``like`` (what the reader sent, started): WireError if not."""
    value = decode(data, classes, max_bytes=max_bytes)
    _same_shape(value, like, "pass")
    return value


class _Reader:
    def __init__(self, data: bytes, classes: Mapping[str, type], max_bytes: int) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise WireError("expected bytes")
        if len(data) > max_bytes:  # before anything is copied
            raise WireError(f"{len(data):,} bytes, more than the {max_bytes:,} allowed")
        data = data if isinstance(data, bytes) else bytes(data)
        head = len(MAGIC) + 8
        if len(data) < head or not data.startswith(MAGIC):
            raise WireError("not a surgeproof pass (bad magic)")
        size = int.from_bytes(data[len(MAGIC) : head], "little")
        if size > min(MAX_HEADER_BYTES, len(data) - head):
            raise WireError("header longer than the message")
        try:
            self.tree = json.loads(data[head : head + size].decode("utf-8"))
        except (ValueError, RecursionError):
            raise WireError("header is not JSON") from None
        self.body = memoryview(data)[head + size :]
        self.classes = classes
        self.nodes = 0

    def read(self) -> Any:
        return self.node(self.tree, 0)

    def node(self, x: Any, depth: int) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise WireError("nested too deep or too many parts")
        if x is None or isinstance(x, bool | str):
            return x
        if isinstance(x, int):
            if len(str(abs(x))) > MAX_INT_DIGITS:
                raise WireError("an integer too long")
            return x
        if isinstance(x, float):
            if not math.isfinite(x):
                raise WireError("a float that is not finite outside its marker")
            return x
        if isinstance(x, list):
            return [self.node(v, depth + 1) for v in x]
        if not isinstance(x, dict) or len(x) not in (1, 2):
            raise WireError("an unknown part")
        if "a" in x and len(x) == 1:
            return self.array(x["a"])
        if "s" in x and len(x) == 1:
            a = self.array(x["s"])
            if a.shape != ():
                raise WireError("a scalar with a shape")
            return a[()]
        if "f" in x and len(x) == 1:
            if x["f"] not in ("nan", "inf", "-inf"):
                raise WireError("a float marker that is not nan or inf")
            return float(x["f"])
        if "t" in x and len(x) == 1 and isinstance(x["t"], list):
            return tuple(self.node(v, depth + 1) for v in x["t"])
        if "d" in x and len(x) == 1 and isinstance(x["d"], list):
            out = {}
            for item in x["d"]:
                if not (isinstance(item, list) and len(item) == 2):
                    raise WireError("a dict item that is not [key, value]")
                key = item[0]
                if not isinstance(key, str | int) or isinstance(key, bool):
                    raise WireError("a dict key that is not a string or an integer")
                out[key] = self.node(item[1], depth + 1)
            return out
        if set(x) == {"o", "v"} and isinstance(x["o"], str) and isinstance(x["v"], dict):
            cls = self.classes.get(x["o"])
            if cls is None:
                raise WireError(f"class {x['o'][:80]!r} may not travel")
            obj = cls.__new__(cls)
            state = {}
            for k, v in x["v"].items():
                if not k.isidentifier() or k.startswith("__"):
                    raise WireError(f"attribute name {k[:40]!r} refused")
                state[k] = self.node(v, depth + 1)
            if dataclasses.is_dataclass(cls):
                names = {f.name for f in dataclasses.fields(cls)}
                if not names <= set(state):
                    raise WireError(f"{cls.__name__}: fields missing")
            obj.__dict__.update(state)
            return obj
        raise WireError("an unknown part")

    def array(self, spec: Any) -> np.ndarray:
        if not (isinstance(spec, list) and len(spec) == 4):
            raise WireError("an array without [dtype, shape, offset, size]")
        dtype, shape, offset, size = spec
        try:
            dt = np.dtype(dtype) if isinstance(dtype, str) and len(dtype) <= 4 else None
        except TypeError:
            dt = None
        if dt is None or dt.kind not in _KINDS or dt.fields is not None:
            raise WireError(f"array type {str(dtype)[:20]!r} refused")
        ok = isinstance(shape, list) and len(shape) <= MAX_DIMS
        ok = ok and all(type(n) is int and n >= 0 for n in shape)
        ok = ok and all(type(n) is int and n >= 0 for n in (offset, size))
        if not ok:
            raise WireError("an array's shape, offset or size is not whole numbers")
        if math.prod(shape) * dt.itemsize != size or offset + size > len(self.body):
            raise WireError("an array's size does not match its shape or the message")
        out = np.frombuffer(self.body[offset : offset + size], dtype=dt).reshape(shape)
        return out.copy()  # writable, and independent of the message


def _same_shape(value: Any, like: Any, where: str) -> None:
    """``value`` has ``like``'s structure (``like`` None: anything that decoded)."""
    if like is None:
        return
    if isinstance(like, np.ndarray):
        if not isinstance(value, np.ndarray) or value.dtype != like.dtype:
            raise WireError(f"{where}: expected an array of {like.dtype}")
        if value.ndim != like.ndim or (like.size and value.shape != like.shape):
            raise WireError(f"{where}: expected shape {like.shape}, got {value.shape}")
        return
    if isinstance(like, np.generic):
        if not isinstance(value, np.generic) or value.dtype != like.dtype:
            raise WireError(f"{where}: expected a {like.dtype} number")
        return
    if type(value) is not type(like):
        if not (isinstance(like, float) and type(value) is int):  # a whole number is a float too
            raise WireError(f"{where}: expected {type(like).__name__}")
        return
    if isinstance(like, tuple):
        if len(value) != len(like):
            raise WireError(f"{where}: expected {len(like)} items")
        for i, (v, w) in enumerate(zip(value, like, strict=True)):
            _same_shape(v, w, f"{where}[{i}]")
    elif isinstance(like, list):
        # A list as long as the plan's is that list, item by item; a list that grew (kept
        # samples, one array per chunk) holds items like the plan's first, if it had any.
        for i, v in enumerate(value):
            if len(value) == len(like):
                _same_shape(v, like[i], f"{where}[{i}]")
            elif like:
                _same_shape(v, like[0], f"{where}[{i}]")
    elif isinstance(like, dict):
        if set(value) != set(like):
            raise WireError(f"{where}: expected keys {sorted(map(str, like))[:8]}")
        for k, w in like.items():
            _same_shape(value[k], w, f"{where}.{k}")
    elif hasattr(like, "__dict__"):
        mine, theirs = vars(like), vars(value)
        if set(mine) != set(theirs):
            extra = sorted(set(theirs) ^ set(mine))[:4]
            raise WireError(f"{where}: attributes differ from the plan sent ({extra})")
        for k, w in mine.items():
            _same_shape(theirs[k], w, f"{where}.{k}")
