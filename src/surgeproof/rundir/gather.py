"""``surgeproof gather RUN_DIR --from DIR``: bring record shards kept on workers' hosts into a run.

A worker that keeps its own record shard (``surgeproof run --record-shards local``, ``surgeproof
worker --shard-dir DIR``) writes ``DIR/<run-id>/records/<source>.bin`` + ``.names.jsonl`` (the
run directory's own format) and ``DIR/<run-id>/<source>.shard.json``. The master gathers them at
the end of the run; one it could not gather (the worker died, or the master) is listed in
``run.json`` ``workers.missing_shards`` with the command that brings it in — this one, or simply
copying the two files into ``RUN_DIR/records/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from surgeproof.errors import UserError
from surgeproof.rundir.schema import (
    NAMES_SUFFIX,
    RECORD_DTYPE,
    RECORDS_DIR,
    RECORDS_SUFFIX,
    RunDirError,
)

SHARD_META_SUFFIX = ".shard.json"
_BLOCK = 1 << 22


@dataclass(frozen=True)
class Gathered:
    """What became of one shard: ``copied``, ``already there`` or ``conflict`` (left alone)."""

    source: str
    action: str
    records: int
    why: str = ""


def find_shards(path: Path, run_id: str) -> dict[str, Path]:
    """``{source: records file}`` of ``run_id``'s shards under ``path`` (a --shard-dir, its
    ``<run-id>`` folder, or a folder holding ``records/``); shards of other runs are skipped."""
    found: dict[str, Path] = {}
    for root in (path / run_id, path):
        rec_dir = root / RECORDS_DIR
        if not rec_dir.is_dir():
            continue
        for data in sorted(rec_dir.glob(f"*{RECORDS_SUFFIX}")):
            source = data.name[: -len(RECORDS_SUFFIX)]
            meta = root / f"{source}{SHARD_META_SUFFIX}"
            if meta.is_file():
                try:
                    shard_run = json.loads(meta.read_text()).get("run_id")
                except (OSError, ValueError):
                    shard_run = None
                if shard_run != run_id:
                    continue
            found.setdefault(source, data)
    return found


def gather_shards(run_dir: Path, path: Path) -> list[Gathered]:
    """Copy every shard of ``run_dir``'s run found under ``path`` into ``run_dir/records`` and
    bring ``run.json``'s counts up to date. A file already there is replaced only when it is a
    prefix of the shard (a gathering cut short); anything else is a conflict, left alone."""
    from surgeproof.rundir.reader import read_meta

    try:
        meta = read_meta(run_dir)
    except RunDirError as exc:
        raise UserError(str(exc)) from None
    run_id = str(meta.get("run_id") or run_dir.name)
    if not path.is_dir():
        raise UserError(f"--from {path}: not a directory")
    shards = find_shards(path, run_id)
    if not shards:
        raise UserError(
            f"--from {path}: no record shards of run {run_id} "
            f"(expected {path}/{run_id}/records/<source>{RECORDS_SUFFIX})"
        )
    dest_dir = run_dir / RECORDS_DIR
    dest_dir.mkdir(exist_ok=True)
    done = [_gather_one(source, data, dest_dir) for source, data in sorted(shards.items())]
    if meta.get("status") != "running":
        _update_meta(run_dir, meta, done)
    return done


def _gather_one(source: str, data: Path, dest_dir: Path) -> Gathered:
    size = data.stat().st_size
    whole = size - size % RECORD_DTYPE.itemsize
    records = whole // RECORD_DTYPE.itemsize
    dest = dest_dir / data.name
    have = dest.stat().st_size if dest.exists() else 0
    if dest.exists() and not _is_prefix(dest, data, have):
        return Gathered(source, "conflict", records, f"{dest} differs from the shard: left alone")
    if dest.exists() and have >= whole:
        return Gathered(source, "already there", have // RECORD_DTYPE.itemsize)
    names = data.with_name(source + NAMES_SUFFIX)
    if names.is_file():
        shutil.copyfile(names, dest_dir / names.name)
    tmp = dest.with_name(dest.name + ".gathering")
    with open(data, "rb") as src, open(tmp, "wb") as out:
        left = whole  # whole records only: a shard its worker left mid-record loses the tail
        while left:
            block = src.read(min(_BLOCK, left))
            if not block:
                break
            out.write(block)
            left -= len(block)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, dest)
    return Gathered(source, "copied", records)


def _is_prefix(short: Path, long: Path, n: int) -> bool:
    if long.stat().st_size < n:
        return False
    with open(short, "rb") as a, open(long, "rb") as b:
        while n > 0:
            x, y = a.read(min(_BLOCK, n)), b.read(min(_BLOCK, n))
            if x != y or not x:
                return False
            n -= len(x)
    return True


def _update_meta(run_dir: Path, meta: dict, done: list[Gathered]) -> None:
    from surgeproof.rundir.writer import write_meta

    counts = meta.setdefault("counts", {}).setdefault("records", {})
    workers = meta.setdefault("workers", {})
    nodes = workers.get("nodes") or {}
    whole = {g.source: g.records for g in done if g.action in ("copied", "already there")}
    for source, n in whole.items():
        counts[source] = n
        if source in nodes:
            nodes[source]["received"] = n
            if isinstance(nodes[source].get("shard"), dict):
                nodes[source]["shard"]["gathered"] = True
    missing = workers.get("missing_shards") or []
    workers["missing_shards"] = [m for m in missing if m.get("source") not in whole]
    meta.pop("schema_version", None)
    write_meta(run_dir, meta)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gather`` subcommand."""
    p = subparsers.add_parser(
        "gather",
        help="bring record shards kept on workers' hosts into a run directory",
        description=(
            "Copy the record shards of RUN_DIR's run found under DIR (a worker's --shard-dir, "
            "its <run-id> folder, or a folder holding records/) into RUN_DIR/records and update "
            "run.json's counts and workers.missing_shards. Copying the files by hand works too."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a surgeproof run directory")
    p.add_argument(
        "--from", dest="sources", action="append", required=True, metavar="DIR",
        help="where the shards are (repeatable)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    conflicts = 0
    for src in args.sources:
        for g in gather_shards(run_dir, Path(src)):
            note = f": {g.why}" if g.why else ""
            print(f"surgeproof gather: {g.source}: {g.action} ({g.records} records){note}")
            conflicts += g.action == "conflict"
    return 1 if conflicts else 0
