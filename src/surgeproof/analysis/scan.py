"""Chunked passes over a run's records: memory-mapped sources read a block at a time.

Every analysis pass walks the records as :class:`Samples` chunks of at most ``CHUNK_RECORDS``
rows (views of the mapped file, plus run-wide name and group indices) and keeps only compact
per-key results, so memory does not grow with the run beyond what exact percentiles need (see
``keyed.py`` and ``ranks.py``). Pages of a mapped chunk are released once it is processed.

Each block of each source is indexed by the reader (``rundir.reader.Blocks``: the times it
holds), so a pass about a time window reads only the blocks that can touch it — a level of a
step search costs its own records, not the run's. A pass runs here or, with an
``Execution`` of several jobs, over shards in worker processes (``shards.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from surgeproof.analysis.causes import has_latency
from surgeproof.analysis.pass_wire import travels
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.shards import (
    SHARDS_PER_JOB,
    Execution,
    RecordPass,
    new_token,
    shard,
)
from surgeproof.rundir.reader import (
    BLOCK_RECORDS,
    Blocks,
    RecordSource,
    RecordSources,
    map_records,
    open_record_sources,
)
from surgeproof.rundir.schema import FLAG_CLOSED_MODEL, Kind, Outcome

if TYPE_CHECKING:
    from surgeproof.analysis.shard_hosts import ShardHosts

#: Records per chunk: small enough that a pass's temporaries (128 KB a column) stay in the CPU's
#: cache between one operation and the next (10M records: 3.8 s at a block's 131,072 records a
#: chunk, 3.1 s at 16,384, the same at 8,192; 3.4 s at 4,096, where calls cost more than rows).
CHUNK_RECORDS = 1 << 14

Bounds = tuple[int, int]


def settle_allocator() -> None:
    """Let the C allocator reuse a chunk's temporaries (up to a few MB each) instead of mapping
    fresh pages for them at every chunk. glibc maps allocations above a threshold and raises
    the threshold only when it frees one that large: one large array, freed at once, does it
    (measured on 10M records without it: 480,000 more page faults, +1.3 s of system time)."""
    spare = np.empty(BLOCK_RECORDS * 32, dtype=np.uint8)
    del spare


@dataclass(frozen=True)
class Block:
    """Records ``[lo, hi)`` of source ``source`` (-1: rows of an in-memory ``Samples``), the
    times they hold (``t_lo > t_hi``: none) and how many are trustworthy."""

    source: int
    lo: int
    hi: int
    t_lo: int
    t_hi: int
    count: int


@travels
@dataclass
class Census:
    """Facts about every record, from one pass: counts, time span, value ranges per measure."""

    total: int = 0
    counted: int = 0
    missed: int = 0
    cancelled: int = 0
    #: Records with a send time (any kind), and those sent later than ``late_ms`` after intended.
    sent: int = 0
    late: int = 0
    late_ms: float = 100.0
    closed_model: bool = False
    first_intended: int | None = None
    last_intended: int | None = None
    last_end: int | None = None
    #: Websocket gap records.
    gaps: int = 0
    #: Integer (ns) ranges: latency and service time of counted records that were sent, send
    #: lag of sent requests, websocket gaps, offered concurrency.
    latency: Bounds = (0, 0)
    service: Bounds = (0, 0)
    lag: Bounds = (0, 0)
    gap: Bounds = (0, 0)
    concurrency: Bounds = (0, 0)


@dataclass
class ScanSpec:
    """What a worker process needs to read a run's blocks as the parent does (picklable)."""

    token: str
    sources: list[tuple[str, str, int, np.ndarray, Any, np.ndarray, int]]
    names: list[str]
    groups: list[str]
    name_groups: list[str]
    name_group: np.ndarray
    per_source: dict[str, int]


class RecordScan:
    """A run's records as blocks, with the run-wide endpoint names and groups."""

    def __init__(
        self,
        blocks: list[Block],
        names: list[str],
        groups: list[str],
        name_group: np.ndarray,
        per_source: dict[str, int],
        damage: list[str],
        *,
        opened: RecordSources | None = None,
        memory: Samples | None = None,
        execution: Execution | None = None,
        hosts: ShardHosts | None = None,
    ) -> None:
        self.blocks = blocks
        self.names = names
        self.groups = groups
        #: ``name_group[name index]`` = group index.
        self.name_group = name_group
        self.per_source = per_source
        self.damage = damage
        self.opened = opened
        self._memory = memory
        self.execution = execution or Execution()
        #: Where the sources this process does not hold lie (``shard_hosts``).
        self.hosts = hosts
        self._census: Census | None = None
        self._spec: ScanSpec | None = None
        self._by_id: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        settle_allocator()

    @classmethod
    def open(
        cls,
        run_dir: str | Path,
        chunk: int = CHUNK_RECORDS,
        *,
        execution: Execution | None = None,
        opened: RecordSources | None = None,
        hosts: ShardHosts | None = None,
    ) -> RecordScan:
        """Map every source of ``run_dir`` (nothing is read until a pass); ``opened``: the
        sources already open (``open_record_sources``)."""
        opened = opened if opened is not None else open_record_sources(Path(run_dir))
        return cls.of_sources(opened, chunk, execution=execution, hosts=hosts)

    @classmethod
    def of_sources(
        cls,
        opened: RecordSources,
        chunk: int = CHUNK_RECORDS,
        *,
        execution: Execution | None = None,
        hosts: ShardHosts | None = None,
    ) -> RecordScan:
        group_index: dict[str, int] = {}
        for g in opened.groups:
            group_index.setdefault(g, len(group_index))
        name_group = np.array([group_index[g] for g in opened.groups] or [0], dtype=np.int16)
        blocks: list[Block] = []
        per_source: dict[str, int] = {}
        for i, src in enumerate(opened.sources):
            per_source[src.name] = src.count
            ix = src.blocks
            step = max(1, min(int(chunk), ix.size))
            for b in range(len(ix)):
                if not ix.valid[b]:
                    continue
                lo_b = b * ix.size
                hi_b = min(lo_b + ix.size, src.whole)
                t = (int(ix.t_lo[b]), int(ix.t_hi[b]))
                for lo in range(lo_b, hi_b, step):
                    hi = min(lo + step, hi_b)
                    share = int(ix.valid[b]) * (hi - lo) // (hi_b - lo_b)
                    blocks.append(Block(i, lo, hi, *t, share))
        return cls(
            blocks,
            list(opened.names),
            list(group_index),
            name_group,
            per_source,
            list(opened.damage),
            opened=opened,
            execution=execution,
            hosts=hosts,
        )

    @classmethod
    def of(cls, s: Samples, chunk: int = CHUNK_RECORDS) -> RecordScan:
        """Records already in memory (a level's window, a test's sample)."""
        if s.name is None:
            names, name_group = list(s.groups), np.arange(max(len(s.groups), 1), dtype=np.int16)
            s = Samples(**{**_columns(s), "name": s.group.astype(np.int32), "names": names})
        else:
            names = list(s.names)
            name_group = np.zeros(max(len(names), 1), dtype=np.int16)
            name_group[s.name] = s.group  # every name present maps to its group
        blocks = []
        for lo in range(0, len(s), chunk):
            hi = min(lo + chunk, len(s))
            blocks.append(Block(-1, lo, hi, *_time_bounds(s.rows(lo, hi)), hi - lo))
        return cls(
            blocks, names, list(s.groups), name_group, dict(s.per_source), list(s.damage), memory=s
        )

    @classmethod
    def from_spec(cls, spec: ScanSpec) -> RecordScan:
        """A worker's view of the parent's scan (blocks come with each task)."""
        sources = []
        for name, path, whole, name_index, span, rejected, size in spec.sources:
            mapped, mapping = map_records(Path(path), whole)
            blocks = Blocks.empty(size)
            blocks.rejected = rejected
            sources.append(
                RecordSource(name, mapped, name_index, mapping, span, blocks, Path(path))
            )
        opened = RecordSources(sources, list(spec.names), list(spec.name_groups))
        return cls([], spec.names, spec.groups, spec.name_group, spec.per_source, [], opened=opened)

    def spec(self) -> ScanSpec:
        if self._spec is None:
            if self.opened is None:
                raise RuntimeError("records in memory are not read by worker processes")
            self._spec = ScanSpec(
                new_token(),
                [
                    (
                        s.name,
                        str(s.path),
                        s.whole,
                        s.name_index,
                        s.span,
                        s.blocks.rejected,
                        s.blocks.size,
                    )
                    for s in self.opened.sources
                ],
                self.names,
                self.groups,
                list(self.opened.groups),
                self.name_group,
                self.per_source,
            )
        return self._spec

    # -- reading -----------------------------------------------------------------------------

    def rows(self, block: Block) -> Samples:
        """The trustworthy records of ``block`` as columns (views where possible)."""
        if block.source < 0:
            return self._memory.rows(block.lo, block.hi)
        src = self.opened.sources[block.source]
        rec = src.chunk(block.lo, block.hi)
        names, groups = self._tables(block.source)
        # One contiguous copy of the strided ids makes both lookups below about twice as fast.
        ids = np.ascontiguousarray(rec["name_id"])
        return Samples(
            rec["intended_ns"],
            rec["sent_ns"],
            rec["end_ns"],
            groups.take(ids),
            rec["outcome"],
            rec["kind"],
            rec["flags"],
            rec["concurrency"],
            self.groups,
            name=names.take(ids),
            names=self.names,
            attempt=rec["attempt"],
            user=rec["user"],
            source=block.source,
        )

    def _tables(self, source: int) -> tuple[np.ndarray, np.ndarray]:
        """Run-wide name and group index of each of the source's 65,536 possible name ids."""
        tables = self._by_id.get(source)
        if tables is None:
            src = self.opened.sources[source]
            all_ids = np.arange(1 << 16, dtype=np.int64)
            names = self.opened.global_ids(src, all_ids).astype(np.int32)
            tables = self._by_id[source] = (names, self.name_group[names])
        return tables

    def release(self, block: Block) -> None:
        if block.source >= 0:
            self.opened.sources[block.source].release(block.lo, block.hi)

    def blocks_within(self, within: Bounds | None) -> list[Block]:
        """The blocks that may hold records intended, sent or ending in ``[start, end)``."""
        if within is None:
            return list(self.blocks)
        lo, hi = within
        return [b for b in self.blocks if b.t_lo < hi and b.t_hi >= lo]

    def restricted(self, within: Bounds) -> RecordScan:
        """This scan with only the blocks that may touch ``within`` (its own census)."""
        out = RecordScan(
            self.blocks_within(within),
            self.names,
            self.groups,
            self.name_group,
            self.per_source,
            self.damage,
            opened=self.opened,
            memory=self._memory,
            execution=self.execution,
            hosts=self.hosts,
        )
        out._spec = self._spec
        return out

    def records_within(self, within: Bounds | None) -> int:
        """Trustworthy records in the blocks a pass over ``within`` reads."""
        return sum(b.count for b in self.blocks_within(within))

    def chunks(self, within: Bounds | None = None) -> Iterator[Samples]:
        """Every chunk in turn; with ``within`` = (start, end) ns, only chunks that may hold
        records intended or ending in it."""
        for block in self.blocks_within(within):
            yield self.rows(block)
            self.release(block)

    def run(self, p: RecordPass) -> RecordPass:
        """Feed ``p`` every block it needs, in as many rounds as its exact stores ask for."""
        self._round(p, self.blocks_within(p.within), first=True)
        while True:
            for st in p.stores():
                st.advance()
            if not any(st.pending for st in p.stores()):
                return p
            self._round(p, self.blocks_within(p.round_within()), first=False)

    def _round(self, p: RecordPass, blocks: list[Block], first: bool) -> None:
        if self.hosts is not None:
            self.hosts.run_round(self, p, blocks, first)
        else:
            self.feed_here(p, blocks, first)

    def feed_here(self, p: RecordPass, blocks: list[Block], first: bool) -> None:
        """Feed ``p`` the blocks this process holds: itself, or by shards in worker processes."""
        exe = self.execution
        if not exe.parallel or self.opened is None or len(blocks) < 2:
            for block in blocks:
                p.feed(self.rows(block), first)
                self.release(block)
            return
        template = p.fresh()
        spec = self.spec()
        tasks = [(spec, template, part, first) for part in shard(blocks, exe.jobs * SHARDS_PER_JOB)]
        for part in exe.map(feed_shard, tasks):
            p.merge(part, first)

    def census(self, late_ms: float | None = None) -> Census:
        """The :class:`Census` (one pass, then cached); ``late_ms`` defines a late send
        (default: the cached census's, else 100 ms)."""
        if self._census is not None and late_ms in (None, self._census.late_ms):
            return self._census
        late_ms = 100.0 if late_ms is None else late_ms
        self._census = self.run(CensusPass(late_ms)).census()
        return self._census


class CensusPass(RecordPass):
    """Counts, time span and value ranges of every record."""

    accumulators = ("c", "ranges")

    def __init__(self, late_ms: float) -> None:
        self.late_ms = late_ms
        self.start()

    def start(self) -> None:
        self.c = Census(late_ms=self.late_ms)
        self.ranges: dict[str, list] = {
            k: [None, None] for k in ("latency", "service", "lag", "gap", "concurrency")
        }

    def feed(self, s: Samples, first: bool) -> None:
        c = self.c
        n = len(s)
        if not n:
            return
        c.total += n
        intended, end = s.intended_ns, s.end_ns
        lo_i, hi_i, hi_e = int(intended.min()), int(intended.max()), int(end.max())
        c.first_intended = lo_i if c.first_intended is None else min(c.first_intended, lo_i)
        c.last_intended = hi_i if c.last_intended is None else max(c.last_intended, hi_i)
        if hi_e > 0:
            c.last_end = hi_e if c.last_end is None else max(c.last_end, hi_e)
        tally = np.bincount(s.outcome, minlength=16)
        c.missed += int(tally[Outcome.MISSED])
        c.cancelled += int(tally[Outcome.CANCELLED])
        req = s.kind != Kind.WS_GAP
        counted = s.counted()
        n_counted = int(np.count_nonzero(counted))
        c.counted += n_counted
        c.closed_model |= bool(np.any(s.flags & FLAG_CLOSED_MODEL))
        sent = s.sent_ns > 0
        n_sent = int(np.count_nonzero(sent))
        c.sent += n_sent
        sent_ns = s.sent_ns
        # The usual chunk: every row counted and sent, no websocket gap — no column is copied.
        lag = sent_ns - intended if n_sent == n else sent_ns[sent] - intended[sent]
        c.late += int(np.count_nonzero(lag / 1e6 > self.late_ms))
        n_gaps = n - int(np.count_nonzero(req))
        c.gaps += n_gaps
        r = self.ranges
        # Only calls that were sent have a latency: a backlogged call (never sent, end 0) would
        # stretch the range to 2**61 ns, and the exact stores sized by it would pack fewer keys
        # per word and count in slabs of a few keys (thousands of rounds on a large run).
        timed = counted & has_latency(s.outcome)
        if int(np.count_nonzero(timed)) == n:
            _widen(r["latency"], end - intended)
            _widen(r["service"], end - sent_ns)
        else:
            _widen(r["latency"], end[timed] - intended[timed])
            _widen(r["service"], end[timed] - sent_ns[timed])
        if n_gaps == 0:
            _widen(r["lag"], lag if n_sent == n else sent_ns[sent] - intended[sent])
            _widen(r["concurrency"], s.concurrency)
        else:
            gaps = ~req
            sent_req = sent & req
            _widen(r["lag"], sent_ns[sent_req] - intended[sent_req])
            _widen(r["gap"], end[gaps] - sent_ns[gaps])
            _widen(r["concurrency"], s.concurrency[req].astype(np.int64))

    def merge_tallies(self, other: CensusPass) -> None:
        c, o = self.c, other.c
        for key in ("total", "counted", "missed", "cancelled", "sent", "late", "gaps"):
            setattr(c, key, getattr(c, key) + getattr(o, key))
        c.closed_model |= o.closed_model
        c.first_intended = _pick(min, c.first_intended, o.first_intended)
        c.last_intended = _pick(max, c.last_intended, o.last_intended)
        c.last_end = _pick(max, c.last_end, o.last_end)
        for key, (lo, hi) in other.ranges.items():
            acc = self.ranges[key]
            acc[0], acc[1] = _pick(min, acc[0], lo), _pick(max, acc[1], hi)

    def census(self) -> Census:
        for key, (lo, hi) in self.ranges.items():
            setattr(self.c, key, (lo, hi) if lo is not None else (0, 0))
        return self.c


def _pick(f, a, b):
    return b if a is None else a if b is None else f(a, b)


def _widen(acc: list, values: np.ndarray) -> None:
    if len(values):
        lo, hi = int(values.min()), int(values.max())
        acc[0] = lo if acc[0] is None else min(acc[0], lo)
        acc[1] = hi if acc[1] is None else max(acc[1], hi)


def _time_bounds(s: Samples) -> Bounds:
    if not len(s):
        return (1, 0)
    times = [s.intended_ns, s.sent_ns[s.sent_ns > 0], s.end_ns[s.end_ns > 0]]
    return (min(int(t.min()) for t in times if len(t)), max(int(t.max()) for t in times))


def _columns(s: Samples) -> dict:
    return {
        "intended_ns": s.intended_ns,
        "sent_ns": s.sent_ns,
        "end_ns": s.end_ns,
        "group": s.group,
        "outcome": s.outcome,
        "kind": s.kind,
        "flags": s.flags,
        "concurrency": s.concurrency,
        "groups": s.groups,
        "per_source": s.per_source,
        "damage": s.damage,
    }


#: The scan a worker process opened, by its spec's token: opened once, fed every shard it is sent.
_WORKER_SCAN: dict[str, RecordScan] = {}


def feed_shard(args: tuple[Any, ...]) -> RecordPass:
    """Worker side: feed one shard's blocks to a fresh copy of the pass."""
    spec, p, blocks, first = args
    scan = _WORKER_SCAN.get(spec.token)
    if scan is None:
        _WORKER_SCAN.clear()
        scan = _WORKER_SCAN[spec.token] = RecordScan.from_spec(spec)
    if getattr(p, "_unstarted", False):
        p.start()
        p._unstarted = False
    for block in blocks:
        p.feed(scan.rows(block), first)
        scan.release(block)
    p.compact()
    return p
