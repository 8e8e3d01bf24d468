"""How passes over records run: in this process, or spread over worker processes by shard.

A *shard* is a contiguous range of one record source's blocks (a source, or a part of a large
one). A pass (:class:`RecordPass`) is fed chunk by chunk and merged with the passes other
processes ran on other shards; every partial result is a sum (tallies, histograms), a min/max
or a concatenation (kept samples, in shard order), so the merged result does not depend on how
the records were split. Exact percentiles over several processes use ``ranks.RankedValues``:
counts, not samples, travel between processes.

Worker processes are processes, not threads: the passes are numpy-heavy Python whose small
operations hold the GIL most of the time. They are forked from a single-threaded caller, else
come from a forkserver (spawned on platforms without one): never forked from a caller that
holds threads or gevent's patches.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from surgeproof.analysis.pass_wire import travels

if TYPE_CHECKING:
    from surgeproof.analysis.samples import Samples
    from surgeproof.analysis.scan import Block

#: Memory the exact percentiles may use (samples, or counts and kept samples), all processes
#: together, unless told otherwise (``--memory``): the analysis of any run stays within it plus
#: a fixed overhead per process.
DEFAULT_MEMORY = 1 << 30
#: Fewest records for which ``jobs="auto"`` starts worker processes: below it, starting them
#: costs more than it saves.
AUTO_MIN_RECORDS = 20_000_000
#: Shards per worker process and pass (a few, so a slow shard does not hold up the rest).
SHARDS_PER_JOB = 3


@dataclass
class Execution:
    """How the passes of one analysis run: ``jobs`` processes, ``memory`` bytes."""

    jobs: int = 1
    memory: int = DEFAULT_MEMORY
    _pool: ProcessPoolExecutor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {self.jobs}")
        if self.memory < 1 << 12:
            raise ValueError(f"memory must be at least 4 KiB, got {self.memory} bytes")

    @property
    def parallel(self) -> bool:
        return self.jobs > 1

    def share(self, stores: int) -> int:
        """Bytes one of ``stores`` exact stores may use in one process."""
        processes = self.jobs + 1 if self.parallel else 1  # workers, and the merging parent
        return max(self.memory // (max(stores, 1) * processes), 1 << 10)

    def map(self, task: Callable[[Any], Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Run ``task`` on each of ``tasks`` in the worker processes; results in their order.

        ``task`` is the scan's (this module sits below the scan, which it shards): its module
        is what a forkserver preloads.
        """
        if self._pool is None:
            context = _context(task.__module__)
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context)
        return list(self._pool.map(task, tasks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Execution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_jobs(jobs: int | str | None, records: int) -> int:
    """``jobs`` as a number: "auto" (or None) is one process below ``AUTO_MIN_RECORDS``
    records, else one per usable core."""
    if jobs is None or jobs == "auto":
        if records < AUTO_MIN_RECORDS:
            return 1
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer or 'auto', got {jobs!r}")
    return jobs


def _context(preload: str) -> multiprocessing.context.BaseContext:
    """Fork when that is safe (one thread, no gevent patches): nothing to import again, not
    even the caller's main module. Otherwise a forkserver, else spawn."""
    methods = multiprocessing.get_all_start_methods()
    patched = "gevent.monkey" in sys.modules and sys.modules["gevent.monkey"].is_anything_patched()
    if "fork" in methods and threading.active_count() == 1 and not patched:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([preload])
        return ctx
    return multiprocessing.get_context("spawn")


class RecordPass:
    """One pass over records: ``feed`` each chunk; passes of other shards ``merge`` in.

    The first round tallies; later rounds (while an exact store is ``pending``) feed only the
    stores. Subclasses allocate their tallies in ``start`` (called in every process that feeds;
    ``accumulators`` names them), name in ``parts`` their exact statistics (objects with
    ``fresh``, ``merge``, ``compact`` and ``stores``: a ``KeyedStats`` or a store) and add
    other shards' tallies in ``merge_tallies``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        travels(cls)  # its plan goes to the hosts where records lie, its result comes back

    #: (start, end) ns the pass is about: blocks that cannot touch it are not read.
    within: tuple[int, int] | None = None
    #: Attributes ``start`` allocates: a fresh copy for a shard carries none of them.
    accumulators: tuple[str, ...] = ()
    #: Attributes holding exact statistics.
    parts: tuple[str, ...] = ()

    def start(self) -> None:
        """Allocate this process's accumulators."""

    def feed(self, s: Samples, first: bool) -> None:
        raise NotImplementedError

    def merge_tallies(self, other: RecordPass) -> None:
        """Add ``other``'s first-round tallies to this pass's."""

    def stores(self) -> list[Any]:
        return [st for name in self.parts for st in getattr(self, name).stores()]

    def round_within(self) -> tuple[int, int] | None:
        """What a later round must read (default: what the first did)."""
        return self.within

    def fresh(self) -> RecordPass:
        """A copy with the same settings and plans and nothing counted, for a shard."""
        out = copy.copy(self)
        for name in self.accumulators:
            setattr(out, name, None)
        for name in self.parts:
            setattr(out, name, getattr(self, name).fresh())
        out._unstarted = True
        return out

    def merge(self, other: RecordPass, first: bool) -> None:
        if first:
            self.merge_tallies(other)
        for name in self.parts:
            getattr(self, name).merge(getattr(other, name), first)

    def compact(self) -> None:
        for name in self.parts:
            getattr(self, name).compact()


def shard(blocks: Sequence[Block], parts: int) -> list[list[Block]]:
    """``blocks`` cut into at most ``parts`` contiguous runs of about equal record counts."""
    if not blocks:
        return []
    total = sum(b.count for b in blocks) or len(blocks)
    out: list[list[Block]] = [[]]
    done = 0
    for b in blocks:
        if out[-1] and done >= total * len(out) / parts and len(out) < parts:
            out.append([])
        out[-1].append(b)
        done += b.count or 1
    return out


def new_token() -> str:
    return uuid.uuid4().hex
