"""``surgeproof gather RUN_DIR --from DIR``: bring record shards kept on workers' hosts into a run.

A worker that keeps its own record shard (``surgeproof run --record-shards local``, ``surgeproof
worker --shard-dir DIR``) writes ``DIR/<run-id>/records/<source>.bin`` + ``.names.jsonl`` (the
run directory's own format) and ``DIR/<run-id>/<source>.shard.json``. The master gathers them at
the end of the run; one it could not gather (the worker died, or the master) is listed in
``run.json`` ``workers.missing_shards`` with the command that brings it in — this one, or simply
copying the two files into ``RUN_DIR/records/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surgeproof.confine import (
    TooLarge,
    UnsafePath,
    check_size,
    checked_name,
    entries,
    folder,
    free_bytes,
    has_holes,
    open_read,
    read_bounded,
    replacing,
)
from surgeproof.errors import UserError
from surgeproof.rundir.reader import MAX_NAMES_BYTES
from surgeproof.rundir.schema import (
    NAMES_SUFFIX,
    RECORD_DTYPE,
    RECORDS_DIR,
    RECORDS_SUFFIX,
    RunDirError,
)
from surgeproof.rundir.writer import RESERVED_SOURCES

SHARD_META_SUFFIX = ".shard.json"
#: Largest ``<source>.shard.json`` read: the worker writes six fields.
MAX_SHARD_META_BYTES = 64 << 10
#: A shard may hold this much beyond the records run.json says its worker wrote: the records a
#: worker killed mid-run wrote after its last report to the master (it reports every second;
#: 64 MiB is 1.6 million records, over a minute of a worker at full speed).
SHARD_SLACK_BYTES = 64 << 20
#: Bound on a shard of a worker run.json has no count for (a run whose master died).
MAX_UNCOUNTED_SHARD_BYTES = 64 << 30
#: Free space a gathering leaves on the run directory's disk.
FREE_SPACE_RESERVE = 256 << 20
#: Sources of workers the run did not name (run.json of a master that died) must look like one.
WORKER_PREFIX = "worker-"
_BLOCK = 1 << 22


@dataclass(frozen=True)
class Gathered:
    """What became of one shard: ``copied``, ``already there`` or ``conflict`` (left alone)."""

    source: str
    action: str
    records: int
    why: str = ""


@dataclass(frozen=True)
class Shard:
    """One worker's shard found under ``--from``: where it is (below the folder given) and its
    apparent sizes (a sparse file counts in full)."""

    source: str
    #: The shard's ``records/`` folder, relative to the folder given.
    rel: tuple[str, ...]
    size: int
    #: Size of ``<source>.names.jsonl`` beside it, None when there is none.
    names_size: int | None
    shown: str

    @property
    def whole(self) -> int:
        """Bytes of whole records: a shard its worker left mid-record loses the tail."""
        return self.size - self.size % RECORD_DTYPE.itemsize


def find_shards(path: Path, run_id: str) -> dict[str, Shard]:
    """``{source: shard}`` of ``run_id``'s shards under ``path`` (a --shard-dir, its
    ``<run-id>`` folder, or a folder holding ``records/``); shards of other runs are skipped.

    ``path`` is the user's; nothing below it is followed: a link (a folder, a shard, its names
    file or its ``shard.json``), a name that is not plain, a special file or a ``shard.json``
    that cannot be read is refused (:class:`UnsafePath`, :class:`TooLarge`)."""
    checked_name(run_id, "run.json run_id")
    found: dict[str, Shard] = {}
    for rel in ((run_id,), ()):
        here = {e.name: e for e in _listing(path, rel)}
        if RECORDS_DIR not in here:
            continue
        rec_rel = (*rel, RECORDS_DIR)
        records = {e.name: e for e in _listing(path, rec_rel)}
        for name, e in records.items():
            if not name.endswith(RECORDS_SUFFIX):
                continue
            shown = str(Path(path).joinpath(*rec_rel, name))
            source = checked_name(name[: -len(RECORDS_SUFFIX)], f"--from {shown}")
            if e.kind != "file":
                raise UnsafePath(f"--from {shown}: {_kind(e.kind)}; only files are gathered")
            if not _same_run(path, rel, here, source, run_id):
                continue
            names = records.get(f"{source}{NAMES_SUFFIX}")
            if names is not None and names.kind != "file":
                raise UnsafePath(
                    f"--from {Path(path).joinpath(*rec_rel, names.name)}: "
                    f"{_kind(names.kind)}; only files are gathered"
                )
            shard = Shard(source, rec_rel, e.size, names.size if names else None, shown)
            found.setdefault(source, shard)
    return found


def _listing(path: Path, rel: tuple[str, ...], what: str = "--from") -> list:
    try:
        return entries(path, rel, what)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _kind(kind: str) -> str:
    return {"link": "a symbolic link", "dir": "a folder"}.get(kind, "not a regular file")


def _same_run(path: Path, rel: tuple[str, ...], here: dict, source: str, run_id: str) -> bool:
    """Whether ``<source>.shard.json`` (if any) names ``run_id``; a ``shard.json`` that is a
    link, too large, not JSON or nested past reason is refused."""
    name = f"{source}{SHARD_META_SUFFIX}"
    entry = here.get(name)
    if entry is None:
        return True
    shown = Path(path).joinpath(*rel, name)
    if entry.kind != "file":
        raise UnsafePath(f"--from {shown}: {_kind(entry.kind)}; not read")
    raw = read_bounded(path, (*rel, name), MAX_SHARD_META_BYTES, "--from")
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise UnsafePath(
            f"--from {shown}: not valid JSON (a shard.json is one flat object)"
        ) from None
    if not isinstance(meta, dict):
        raise UnsafePath(f"--from {shown}: expected a JSON object")
    return meta.get("run_id") == run_id


def gather_shards(run_dir: Path, path: Path, *, max_bytes: int | None = None) -> list[Gathered]:
    """Copy every shard of ``run_dir``'s run found under ``path`` into ``run_dir/records`` and
    bring ``run.json``'s counts up to date. A file already there is replaced only when it is a
    prefix of the shard (a gathering cut short); anything else is a conflict, left alone.

    Every shard is checked before anything is written: its source must be a worker the run
    names (never ``local``), its size within what run.json says the worker wrote plus
    ``SHARD_SLACK_BYTES`` (``max_bytes``, when given, instead) and the disk's free space, and
    nothing on either side may be a link. A refusal is one :class:`UserError` and changes
    nothing."""
    from surgeproof.rundir.reader import read_meta

    try:
        meta = read_meta(run_dir)
    except RunDirError as exc:
        raise UserError(str(exc)) from None
    run_id = checked_name(meta.get("run_id") or Path(run_dir).resolve().name, "run.json run_id")
    if not path.is_dir():
        raise UserError(f"--from {path}: not a directory")
    shards = find_shards(path, run_id)
    if not shards:
        raise UserError(
            f"--from {path}: no record shards of run {run_id} "
            f"(expected {path}/{run_id}/records/<source>{RECORDS_SUFFIX})"
        )
    present = {e.name: e for e in _listing(Path(run_dir), (RECORDS_DIR,), "run directory")}
    workers = _named_workers(meta)
    total = 0
    for source, shard in sorted(shards.items()):
        _check_source(source, shard, workers, run_dir)
        limit, why = (max_bytes, "--max-bytes") if max_bytes is not None else _bound(meta, source)
        if shard.size > limit:
            raise TooLarge(
                f"--from {shard.shown}: {shard.size:,} bytes, more than the {limit:,} allowed "
                f"({why}; --max-bytes SIZE allows more)"
            )
        with _open_shard(path, shard, f"{source}{RECORDS_SUFFIX}") as f:
            if has_holes(f):
                raise UnsafePath(
                    f"--from {shard.shown}: a sparse file (holes of nothing but zeros); a "
                    "worker writes its shard end to end, so this is not one"
                )
        if shard.names_size is not None:
            names_shown = f"--from {Path(path).joinpath(*shard.rel, source + NAMES_SUFFIX)}"
            check_size(shard.names_size, MAX_NAMES_BYTES, names_shown)
        for name in (f"{source}{RECORDS_SUFFIX}", f"{source}{NAMES_SUFFIX}"):
            e = present.get(name)
            if e is not None and e.kind != "file":
                raise UnsafePath(
                    f"{Path(run_dir) / RECORDS_DIR / name}: {_kind(e.kind)}; "
                    "gather never writes through or replaces it"
                )
        total += shard.whole + (shard.names_size or 0)
    free = free_bytes(run_dir)
    if total > free - FREE_SPACE_RESERVE:
        raise TooLarge(
            f"--from {path}: the shards hold {total:,} bytes; {run_dir} has {free:,} "
            f"free and gathering leaves at least {FREE_SPACE_RESERVE:,}"
        )
    with folder(run_dir, [RECORDS_DIR], "run directory", make_dirs=True):
        pass  # made only now: a refusal above leaves the run directory as it was
    done = [_gather_one(run_dir, path, shard) for _, shard in sorted(shards.items())]
    if meta.get("status") != "running":
        _update_meta(run_dir, meta, done)
    return done


def _named_workers(meta: dict[str, Any]) -> set[str]:
    """Every worker source run.json names (seen, lost, nodes, missing shards, counts)."""
    workers = meta.get("workers") if isinstance(meta.get("workers"), dict) else {}
    names: set[str] = set()
    seen = workers.get("seen")
    if isinstance(seen, list):
        names.update(s for s in seen if isinstance(s, str))
    for key in ("lost", "missing_shards"):
        listed = workers.get(key)
        for entry in listed if isinstance(listed, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("source"), str):
                names.add(entry["source"])
    if isinstance(workers.get("nodes"), dict):
        names.update(workers["nodes"])
    counts = (
        (meta.get("counts") or {}).get("records") if isinstance(meta.get("counts"), dict) else None
    )
    if isinstance(counts, dict):
        names.update(counts)
    return names - RESERVED_SOURCES


def _check_source(source: str, shard: Shard, workers: set[str], run_dir: Path) -> None:
    if source in RESERVED_SOURCES:
        raise UnsafePath(
            f"--from {shard.shown}: {source!r} is the conductor's own record source; "
            "a worker's shard cannot replace it"
        )
    if workers and source not in workers:
        raise UnsafePath(
            f"--from {shard.shown}: {source!r} is not a worker of this run "
            f"({Path(run_dir) / 'run.json'} names {', '.join(sorted(workers)[:5])})"
        )
    if not workers and not source.startswith(WORKER_PREFIX):
        raise UnsafePath(
            f"--from {shard.shown}: {source!r} is not a worker's source ({WORKER_PREFIX}<id>)"
        )


def _bound(meta: dict[str, Any], source: str) -> tuple[int, str]:
    """Most bytes ``source``'s shard may hold: what run.json says its worker wrote, plus slack."""
    workers = meta.get("workers") if isinstance(meta.get("workers"), dict) else {}
    said: list[int] = []
    for entry in workers.get("missing_shards") or []:
        if isinstance(entry, dict) and entry.get("source") == source:
            said += [entry.get("records"), entry.get("received")]
    node = (
        (workers.get("nodes") or {}).get(source) if isinstance(workers.get("nodes"), dict) else None
    )
    if isinstance(node, dict):
        shard = node.get("shard") if isinstance(node.get("shard"), dict) else {}
        said += [node.get("received"), node.get("shipped"), shard.get("records")]
    counts = (
        (meta.get("counts") or {}).get("records") if isinstance(meta.get("counts"), dict) else None
    )
    if isinstance(counts, dict):
        said.append(counts.get(source))
    known = [n for n in said if isinstance(n, int) and not isinstance(n, bool) and n >= 0]
    if not known:
        return MAX_UNCOUNTED_SHARD_BYTES, "run.json has no count for it"
    n = max(known)
    return (
        n * RECORD_DTYPE.itemsize + SHARD_SLACK_BYTES,
        f"run.json says {source} wrote {n:,} records; a shard may hold 64 MiB more",
    )


def _gather_one(run_dir: Path, path: Path, shard: Shard) -> Gathered:
    source, whole = shard.source, shard.whole
    records = whole // RECORD_DTYPE.itemsize
    name = f"{source}{RECORDS_SUFFIX}"
    dest = [RECORDS_DIR, name]
    try:
        have_file = open_read(run_dir, dest, "run directory")
    except FileNotFoundError:
        have_file = None
    if have_file is not None:
        with have_file, _open_shard(path, shard, name) as src:
            have = _size(have_file)
            if not _is_prefix(have_file, src, have, whole):
                shown = Path(run_dir).joinpath(*dest)
                return Gathered(
                    source, "conflict", records, f"{shown} differs from the shard: left alone"
                )
        if have >= whole:
            return Gathered(source, "already there", have // RECORD_DTYPE.itemsize)
    if shard.names_size is not None:
        names = f"{source}{NAMES_SUFFIX}"
        with (
            _open_shard(path, shard, names) as src,
            replacing(run_dir, [RECORDS_DIR, names], "run directory") as out,
        ):
            _copy(src, out, shard.names_size)
    with (
        _open_shard(path, shard, name) as src,
        replacing(run_dir, dest, "run directory") as out,
    ):
        _copy(src, out, whole)
    return Gathered(source, "copied", records)


def _open_shard(path: Path, shard: Shard, name: str):
    return open_read(path, (*shard.rel, name), "--from")


def _size(f) -> int:
    return os.fstat(f.fileno()).st_size


def _copy(src, out, n: int) -> None:
    """Copy at most ``n`` bytes (what was checked, even if the file grew since)."""
    while n > 0:
        block = src.read(min(_BLOCK, n))
        if not block:
            break
        out.write(block)
        n -= len(block)


def _is_prefix(short, long, n: int, long_size: int) -> bool:
    if long_size < n:
        return False
    while n > 0:
        x, y = short.read(min(_BLOCK, n)), long.read(min(_BLOCK, n))
        if x != y or not x:
            return False
        n -= len(x)
    return True


def _update_meta(run_dir: Path, meta: dict, done: list[Gathered]) -> None:
    from surgeproof.rundir.writer import write_meta

    if not isinstance(meta.get("counts"), dict):
        meta["counts"] = {}
    if not isinstance(meta["counts"].get("records"), dict):
        meta["counts"]["records"] = {}
    counts = meta["counts"]["records"]
    if not isinstance(meta.get("workers"), dict):
        meta["workers"] = {}
    workers = meta["workers"]
    nodes = workers.get("nodes") if isinstance(workers.get("nodes"), dict) else {}
    whole = {g.source: g.records for g in done if g.action in ("copied", "already there")}
    for source, n in whole.items():
        counts[source] = n
        if isinstance(nodes.get(source), dict):
            nodes[source]["received"] = n
            if isinstance(nodes[source].get("shard"), dict):
                nodes[source]["shard"]["gathered"] = True
    missing = workers.get("missing_shards")
    missing = missing if isinstance(missing, list) else []
    workers["missing_shards"] = [
        m for m in missing if not isinstance(m, dict) or m.get("source") not in whole
    ]
    meta.pop("schema_version", None)
    write_meta(run_dir, meta)
