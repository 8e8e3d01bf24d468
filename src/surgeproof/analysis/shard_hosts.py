"""Analysis where the record shards lie: each host runs the passes over its own shard and the
master merges their partial results, instead of gathering every raw record first.

The master plans every pass as it does for records it holds (``scan.RecordScan``) and sends
each host, per round, the pass's plan and the blocks of the host's shard it must read; the host
feeds them to the plan and sends the partial result back. Passes merge exactly whatever the
split of their records (``shards.RecordPass``), so ``analysis.json`` is the same byte for byte
as gathering everything and analysing it in one place. What crosses is data in the pass wire
form (``pass_wire``): the plan of a round (kilobytes; for a count round of an exact store, its
targets) and its partial result (tallies and histograms; kept samples only while they fit the
analysis's memory), never a record.

A host's answer is held against the plan it was sent and merged into a scratch copy first: one
that does not fit is refused whole, in one line, and never half-merged.

How the bytes travel is the transport's (``ShardHosts.send``): the worker channel of a run's
fleet (``load/shard_service.py``), or, for tests and benchmarks, calls in this process
(``LocalHosts``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof.analysis.pass_wire import TRAVELS, WireError, decode, decode_like, encode
from surgeproof.analysis.scan import Block, RecordScan
from surgeproof.analysis.shards import RecordPass
from surgeproof.rundir.reader import (
    BLOCK_RECORDS,
    Blocks,
    RecordSource,
    RecordSources,
    SourceIndex,
    Span,
    index_source,
    map_records,
)
from surgeproof.rundir.schema import RECORD_DTYPE, RunDirError

#: Largest answer a host may send (a round's partial result: counts, or samples that fit the
#: master's analysis memory).
MAX_ANSWER_BYTES = 1 << 31
#: Largest request the master may send a host (a round's plan).
MAX_ASK_BYTES = 256 << 20
#: Memory a host lets one pass's tallies take before it refuses the plan (a plan is the
#: master's, and a master may be crafted).
HOST_PASS_MEMORY = 4 << 30
INDEX, PASS = "index", "pass"
#: Kinds of request a host answers.
KINDS = (INDEX, PASS)

Waiter = Callable[[], bytes]


class ShardHostError(RunDirError):
    """A host could not answer, or its answer was refused: the analysis cannot be exact."""


class ShardHosts:
    """Record sources that lie on other hosts, and how to reach them."""

    #: The sources (``<source>.bin`` names) that lie elsewhere.
    sources: Collection[str] = ()

    def send(self, source: str, kind: str, payload: bytes) -> Waiter:
        """Send ``kind`` with ``payload`` to the host of ``source``; the waiter returns its
        answer (or raises ShardHostError). Requests to several hosts run at the same time."""
        raise NotImplementedError

    # -- the master's side ---------------------------------------------------------------------

    def index(self, source: str, span: Span | None, block: int) -> SourceIndex:
        """``source``'s file checked and indexed on its host (``open_record_sources``'s
        ``elsewhere``)."""
        ask = encode({"span": list(span) if span is not None else None, "block": block})
        answer = self.send(source, INDEX, ask)()
        return read_index(answer, source, block)

    def run_round(self, scan: RecordScan, p: RecordPass, blocks: list[Block], first: bool) -> None:
        """One round of ``p``: blocks held here are fed here, each host feeds its own; every
        host's partial result is merged (in source order) once it is checked."""
        far = {i for i, src in enumerate(scan.opened.sources) if src.elsewhere is not None}
        here = [b for b in blocks if b.source not in far]
        ranges: dict[int, list[tuple[int, int]]] = {}
        for b in blocks:
            if b.source in far:
                ranges.setdefault(b.source, []).append((b.lo, b.hi))
        template = p.fresh()
        waiting = {
            i: self.send(
                scan.opened.sources[i].name,
                PASS,
                encode(
                    {
                        "scan": _scan_setup(scan, i),
                        "pass": template,
                        "first": first,
                        "ranges": np.array(rs, dtype=np.int64).reshape(-1, 2),
                    }
                ),
            )
            for i, rs in sorted(ranges.items())
        }
        # Merged in the order of the sources, as one process reading them all would feed them
        # (a kept list, such as the orders in flight at a fault, keeps that order).
        steps = sorted(
            [(b.source, b.lo, b) for b in here] + [(i, -1, None) for i in waiting],
            key=lambda t: (t[0], t[1]),
        )
        run: list[Block] = []
        for i, _, b in steps:
            if b is not None:
                run.append(b)
                continue
            scan.feed_here(p, run, first)
            run = []
            name = scan.opened.sources[i].name
            p.merge(take_partial(waiting[i](), template, first, name), first)
        scan.feed_here(p, run, first)


def take_partial(answer: bytes, template: RecordPass, first: bool, source: str) -> RecordPass:
    """A host's partial result of ``template``, checked against it and merged into a scratch
    copy (what the caller then merges): ShardHostError if it does not fit."""
    like = template.fresh()
    like.start()
    like._unstarted = False
    try:
        part = decode_like(answer, like, TRAVELS, max_bytes=MAX_ANSWER_BYTES)
        scratch = template.fresh()
        scratch.start()
        scratch._unstarted = False
        scratch.merge(part, first)
    except WireError as exc:
        raise ShardHostError(f"{source}: its host's partial result refused: {exc}") from None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, MemoryError) as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ShardHostError(f"{source}: its host's partial result does not merge: {why}") from None
    return scratch


def read_index(answer: bytes, source: str, block: int) -> SourceIndex:
    """A host's index of its shard (``index_source``), every array checked."""
    try:
        d = decode(answer, {}, max_bytes=64 << 20)
        if not isinstance(d, dict):
            raise WireError("expected an object")
        whole, trailing = d.get("whole"), d.get("trailing")
        if not all(type(n) is int and 0 <= n < 1 << 48 for n in (whole, trailing)):
            raise WireError("whole and trailing must be counts")
        n = -(-whole // block)
        arrays = {}
        for key, dtype, size in (
            ("valid", np.int64, n),
            ("rejected", np.int64, n),
            ("t_lo", np.int64, n),
            ("t_hi", np.int64, n),
            ("flags", np.uint8, n),
            ("whole_counts", np.int64, 1 << 16),
            ("id_counts", np.int64, 1 << 16),
        ):
            a = d.get(key)
            if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != (size,):
                raise WireError(f"{key}: expected {size} values of {np.dtype(dtype)}")
            arrays[key] = a
        sizes = np.full(n, block, np.int64)
        if n:
            sizes[-1] = whole - block * (n - 1)
        v, r = arrays["valid"], arrays["rejected"]
        if (v < 0).any() or (r < 0).any() or (v + r != sizes).any():
            raise WireError("each block's trustworthy and rejected records must add up to it")
        if (arrays["id_counts"] < 0).any() or int(arrays["id_counts"].sum()) != int(v.sum()):
            raise WireError("records per name must add up to the trustworthy records")
    except WireError as exc:
        raise ShardHostError(f"{source}: its host's index refused: {exc}") from None
    blocks = Blocks(
        v, r, arrays["t_lo"], arrays["t_hi"], arrays["flags"], arrays["whole_counts"], block
    )
    return SourceIndex(whole, trailing, blocks, arrays["id_counts"])


def _scan_setup(scan: RecordScan, i: int) -> dict[str, Any]:
    """What a host needs to read its shard as the master reads records: the run-wide names and
    groups, its name ids' places among them, the run's span."""
    src = scan.opened.sources[i]
    return {
        "index": i,
        "whole": src.whole,
        "span": list(src.span) if src.span is not None else None,
        "block": src.blocks.size,
        "names": list(scan.names),
        "groups": list(scan.groups),
        "name_groups": list(scan.opened.groups),
        "name_group": scan.name_group,
        "name_index": src.name_index,
        "per_source": dict(scan.per_source),
    }


# -- a host's side --------------------------------------------------------------------------


class ShardAnswerer:
    """Answers a master's requests about one record shard on this host."""

    def __init__(self, path: Path, memory: int = HOST_PASS_MEMORY) -> None:
        self.path = Path(path)
        self.memory = memory
        self._index: SourceIndex | None = None
        self._index_key: tuple | None = None
        self._scan: RecordScan | None = None
        self._scan_key: bytes | None = None

    def answer(self, kind: str, payload: bytes) -> bytes:
        """The answer to one request; ShardHostError (one line) when it cannot be given."""
        try:
            if kind == INDEX:
                return self._answer_index(payload)
            if kind == PASS:
                return self._answer_pass(payload)
            raise WireError(f"unknown request {str(kind)[:20]!r}")
        except WireError as exc:
            raise ShardHostError(f"request refused: {exc}") from None
        except (ValueError, TypeError, IndexError, KeyError, AttributeError, MemoryError) as exc:
            why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ShardHostError(f"request failed: {why}") from None

    def _answer_index(self, payload: bytes) -> bytes:
        d = decode(payload, {}, max_bytes=1 << 16)
        span, block = _span(d.get("span") if isinstance(d, dict) else None), d.get("block")
        if type(block) is not int or not 1 <= block <= 1 << 24:
            raise WireError("block: expected a record count")
        found = self._indexed(span, block)
        b = found.blocks
        return encode(
            {
                "whole": found.whole,
                "trailing": found.trailing,
                "valid": b.valid,
                "rejected": b.rejected,
                "t_lo": b.t_lo,
                "t_hi": b.t_hi,
                "flags": b.flags,
                "whole_counts": b.id_counts,
                "id_counts": found.id_counts,
            }
        )

    def _indexed(self, span: Span | None, block: int) -> SourceIndex:
        key = (span, block)
        if self._index is None or self._index_key != key:
            self._index, self._index_key = index_source(self.path, span, block), key
            self._scan = None
        return self._index

    def _answer_pass(self, payload: bytes) -> bytes:
        d = decode(payload, TRAVELS, max_bytes=MAX_ASK_BYTES)
        if not isinstance(d, dict) or set(d) != {"scan", "pass", "first", "ranges"}:
            raise WireError("expected scan, pass, first and ranges")
        p, first, ranges = d["pass"], d["first"], d["ranges"]
        if not isinstance(p, RecordPass) or type(first) is not bool:
            raise WireError("pass: expected a record pass")
        scan = self._scan_for(d["scan"])
        whole = scan.opened.sources[-1].whole
        if not isinstance(ranges, np.ndarray) or ranges.dtype != np.int64 or ranges.ndim != 2:
            raise WireError("ranges: expected [lo, hi) pairs")
        if ranges.shape[1] != 2 or ((ranges[:, 0] < 0) | (ranges[:, 1] > whole)).any():
            raise WireError("ranges: outside the shard")
        if (ranges[:, 0] >= ranges[:, 1]).any():
            raise WireError("ranges: empty or reversed")
        p.start()
        p._unstarted = False
        if _nbytes(p) > self.memory:
            raise WireError(f"the plan's tallies need more than {self.memory:,} bytes")
        i = len(scan.opened.sources) - 1
        for lo, hi in ranges.tolist():
            block = Block(i, lo, hi, 0, 0, hi - lo)
            p.feed(scan.rows(block), first)
            scan.release(block)
        p.compact()
        return encode(p)

    def _scan_for(self, setup: Any) -> RecordScan:
        raw = encode(setup)
        key = hashlib.sha256(raw).digest()
        if self._scan is not None and self._scan_key == key:
            return self._scan
        if not isinstance(setup, dict):
            raise WireError("scan: expected an object")
        i, whole, block = setup.get("index"), setup.get("whole"), setup.get("block")
        if type(i) is not int or not 0 <= i < 1 << 16:
            raise WireError("scan.index: expected a source's place")
        if type(block) is not int or not 1 <= block <= 1 << 24:
            raise WireError("scan.block: expected a record count")
        found = self._indexed(_span(setup.get("span")), block)
        if whole != found.whole:
            raise WireError(f"scan.whole: the shard holds {found.whole} records, not {whole}")
        names, groups = _texts(setup.get("names"), "names"), _texts(setup.get("groups"), "groups")
        name_groups = _texts(setup.get("name_groups"), "name_groups")
        name_group, name_index = setup.get("name_group"), setup.get("name_index")
        ok = isinstance(name_group, np.ndarray) and name_group.dtype == np.int16
        ok = ok and name_group.ndim == 1 and len(name_group) >= max(len(names), 1)
        ok = ok and bool(((name_group >= 0) & (name_group < max(len(groups), 1))).all())
        if not ok:
            raise WireError("scan.name_group: expected each name's group")
        ok = isinstance(name_index, np.ndarray) and name_index.dtype == np.int64
        ok = ok and name_index.ndim == 1 and 1 <= len(name_index) <= (1 << 16) + 1
        ok = ok and bool(((name_index >= -1) & (name_index < len(name_group))).all())
        if not ok:
            raise WireError("scan.name_index: expected each name id's place among the names")
        per_source = setup.get("per_source")
        if not isinstance(per_source, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in per_source.items()
        ):
            raise WireError("scan.per_source: expected records per source")
        mapped, mapping = (
            map_records(self.path, whole) if whole else (np.empty(0, dtype=RECORD_DTYPE), None)
        )
        src = RecordSource(
            self.path.name, mapped, name_index, mapping, _span(setup.get("span")), found.blocks,
            self.path,
        )  # fmt: skip
        opened = RecordSources([None] * i + [src], names, name_groups)  # type: ignore[list-item]
        self._scan = RecordScan([], names, groups, name_group, per_source, [], opened=opened)
        self._scan_key = key
        return self._scan


def _span(value: Any) -> Span | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise WireError("span: expected [lo, hi] ns")
    return (value[0], value[1])


def _texts(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or len(value) > 1 << 16:
        raise WireError(f"scan.{what}: expected a list of names")
    if not all(isinstance(v, str) and len(v) <= 500 for v in value):
        raise WireError(f"scan.{what}: expected names of at most 500 characters")
    return value


def _nbytes(x: Any, depth: int = 0) -> int:
    """Bytes of the arrays an object holds (a plan's tallies, once started)."""
    if depth > 24:
        return 0
    if isinstance(x, np.ndarray):
        return x.nbytes
    if isinstance(x, list | tuple):
        return sum(_nbytes(v, depth + 1) for v in x)
    if isinstance(x, dict):
        return sum(_nbytes(v, depth + 1) for v in x.values())
    if hasattr(x, "__dict__"):
        return sum(_nbytes(v, depth + 1) for v in vars(x).values())
    return 0


# -- in this process ------------------------------------------------------------------------


class LocalHosts(ShardHosts):
    """Hosts that are answerers in this process: every request and answer still crosses as
    bytes in the wire form (tests, benchmarks, and a run directory's own shards)."""

    def __init__(self, shards: Mapping[str, Path], memory: int = HOST_PASS_MEMORY) -> None:
        self.sources = tuple(shards)
        self.answerers = {s: ShardAnswerer(Path(p), memory) for s, p in shards.items()}
        self.sent: list[tuple[str, str, int]] = []

    def send(self, source: str, kind: str, payload: bytes) -> Waiter:
        self.sent.append((source, kind, len(payload)))
        answer = self.answerers[source].answer(kind, payload)
        self.sent.append((source, "answer", len(answer)))
        return lambda: answer


def shard_paths(folder: Path, sources: Sequence[str]) -> dict[str, Path]:
    """``folder/records/<source>.bin`` for each source (a worker's shard directory)."""
    from surgeproof.rundir.schema import RECORDS_DIR, RECORDS_SUFFIX

    return {s: Path(folder) / RECORDS_DIR / f"{s}{RECORDS_SUFFIX}" for s in sources}


__all__ = [
    "BLOCK_RECORDS",
    "KINDS",
    "LocalHosts",
    "ShardAnswerer",
    "ShardHostError",
    "ShardHosts",
    "read_index",
    "shard_paths",
    "take_partial",
]
