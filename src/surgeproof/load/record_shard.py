"""A worker's own record shard (``--record-shards``): the master gets counts, not records.

Shipping every raw record to one master is ~18 MB/s at the full-scale night; a worker that
keeps its own shard sends the master only what progress, the abort rule, rebalancing and the
live exporter need (its per-second sample and a tally of its records) and writes its records to
``records/<source>.bin`` + ``.names.jsonl`` itself — the run directory's own format:

* **in place**, when it can reach the master's run directory (local workers, or a volume shared
  by every host): the master writes a token into ``records/`` and sends its path in the SETUP; a
  worker that reads the same token there writes beside it, and nothing is gathered at the end;
* **on its own host** otherwise, under ``--shard-dir`` (``<dir>/<run_id>/records/``), and the
  master gathers it over the worker channel at the end, in chunks. A shard that could not be
  gathered (its worker died, or the master) stays there, is named in ``run.json``
  (``workers.missing_shards``) and comes in later with ``surgeproof gather RUN_DIR --from DIR``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surgeproof.confine import (
    checked_name,
    folder,
    lstat_confined,
    open_read,
    read_bounded,
    replace_bytes,
    unlink_confined,
)
from surgeproof.errors import UserError
from surgeproof.load.live_metrics import SourceTally
from surgeproof.rundir.gather import SHARD_META_SUFFIX
from surgeproof.rundir.schema import NAMES_SUFFIX, RECORD_DTYPE, RECORDS_DIR, RECORDS_SUFFIX
from surgeproof.rundir.writer import RecordFile

MODES = ("auto", "local", "master")
#: ``auto``: in place when the run directory is reachable, else ship every record.
DEFAULT_MODE = "auto"
#: The master's token in ``records/`` (removed at the end of the run).
PROBE_FILE = ".surgeproof-probe"
#: Where a worker keeps a shard it cannot write in place (``surgeproof worker --shard-dir``).
DEFAULT_SHARD_DIR = "surgeproof-shards"
#: Gathering: bytes per chunk, chunks in flight before the worker waits for the master's ack.
CHUNK_BYTES = 1 << 20
WINDOW_CHUNKS = 8


def probe_setup(run_dir: Path) -> dict[str, str]:
    """Master side: the token workers look for, written into ``records/``; SETUP's fields."""
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    rel = [RECORDS_DIR, PROBE_FILE]
    replace_bytes(run_dir, rel, token.encode(), "run directory", make_dirs=True, any_name=True)
    return {"records_dir": str(run_dir / RECORDS_DIR), "probe": token}


def remove_probe(run_dir: Path) -> None:
    unlink_confined(run_dir, [RECORDS_DIR, PROBE_FILE], "run directory", any_name=True)


@dataclass(frozen=True)
class ShardPlace:
    """Where one worker's shard goes: ``base/<run_id>/records/<source>.bin`` on the worker's
    host, or ``base/records/<source>.bin`` in the master's run directory (``shared``)."""

    base: Path
    #: In the master's own run directory (nothing to gather).
    shared: bool
    #: The run's folder under ``base`` (a worker's shard dir), checked to be a plain name.
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.run_id is not None:
            checked_name(self.run_id, "the master's run_id")

    @property
    def rel(self) -> list[str]:
        """The run's folder below ``base``: walked without following a link."""
        return [] if self.run_id is None else [self.run_id]

    @property
    def root(self) -> Path:
        return self.base.joinpath(*self.rel)

    def describe(self) -> dict[str, Any]:
        return {"shared": self.shared, "path": str(self.root), "host": socket.gethostname()}


def reachable_run_dir(setup: dict[str, Any]) -> Path | None:
    """The master's run directory when this process sees the master's token in it."""
    records_dir, token = setup.get("records_dir"), setup.get("probe")
    if not isinstance(records_dir, str) or not isinstance(token, str) or not token:
        return None
    if not os.path.isabs(records_dir) or Path(records_dir).name != RECORDS_DIR:
        return None
    try:
        seen = read_bounded(records_dir, [PROBE_FILE], 256, "run directory", any_name=True)
    except (OSError, UserError):
        return None
    return Path(records_dir).parent if seen == token.encode() else None


def choose_place(setup: dict[str, Any], shard_dir: str | None) -> ShardPlace | None:
    """This worker's shard place for the master's SETUP, or None: ship every record.

    ``--shard-dir`` given: always there (gathered at the end). Else in place when the run
    directory is reachable; else, in ``local`` mode, the default shard dir — unless the master
    judges levels as it goes (a step search reads every record while the run is going)."""
    mode = setup.get("record_shards") or "master"
    if mode == "master":
        return None
    # The master's run id becomes a folder name here: one plain component, or refused.
    run_id = checked_name(setup.get("run_id") or "run", "the master's run_id")
    if shard_dir:
        return ShardPlace(Path(shard_dir), False, run_id)
    run_dir = reachable_run_dir(setup)
    if run_dir is not None:
        return ShardPlace(run_dir, True)
    if mode == "local" and not setup.get("records_while_running"):
        return ShardPlace(Path(DEFAULT_SHARD_DIR), False, run_id)
    return None


class RecordShard:
    """Worker side: appends each second's records to the shard, tallies them for the master."""

    def __init__(
        self, place: ShardPlace, source: str, run_id: str, bounds_s: list[float] | None
    ) -> None:
        self.place = place
        self.source = checked_name(source, "worker source")
        self.run_id = run_id
        if place.rel:  # the run's folder in --shard-dir: made here, never through a link
            place.base.mkdir(parents=True, exist_ok=True)
            with folder(place.base, place.rel, "--shard-dir", make_dirs=True):
                pass
        self.file = RecordFile(place.root, source)
        self.tally = SourceTally(bounds_s) if bounds_s else None
        self.total = 0
        self._write_meta(complete=False)

    @property
    def records_path(self) -> Path:
        return self.place.root / RECORDS_DIR / f"{self.source}{RECORDS_SUFFIX}"

    @property
    def names_path(self) -> Path:
        return self.place.root / RECORDS_DIR / f"{self.source}{NAMES_SUFFIX}"

    def write(self, raw: bytes, names: dict[int, tuple[str, str]]) -> dict[str, Any]:
        """One second's records into the shard; the batch message's fields for the master."""
        if names:
            self.file.add_names(names)
        n = len(raw) // RECORD_DTYPE.itemsize
        if raw:
            self.file.append(raw)
        self.total += n
        tally = None
        if self.tally is not None:
            self.tally.declare(names)
            tally = self.tally.message(raw)
        return {"records": n, "total": self.total, "tally": tally}

    def close(self) -> None:
        self.file.close()
        self._write_meta(complete=True)

    def summary(self) -> dict[str, Any]:
        """What DONE says of the shard: where it is, its records and bytes per part."""
        return {
            **self.place.describe(),
            "records": self.total,
            "bytes": {"records": _size(self.records_path), "names": _size(self.names_path)},
        }

    def chunks(
        self, parts: tuple[str, ...] = ("names", "records")
    ) -> Iterator[tuple[str, int, bytes]]:
        """``(part, offset, data)`` of the closed shard's ``parts``: the names, then the records."""
        paths = {"names": self.names_path, "records": self.records_path}
        for part, path in ((p, paths[p]) for p in parts):
            try:
                f = open_read(self.place.root, [RECORDS_DIR, path.name], "record shard")
            except FileNotFoundError:
                continue
            with f:
                offset = 0
                while data := f.read(CHUNK_BYTES):
                    yield part, offset, data
                    offset += len(data)

    def _write_meta(self, complete: bool) -> None:
        """``<source>.shard.json`` beside a shard kept on the worker's host (what gather reads)."""
        if self.place.shared:
            return
        meta = {
            "run_id": self.run_id,
            "source": self.source,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "records": self.total,
            "complete": complete,
        }
        text = json.dumps(meta, indent=2) + "\n"
        name = f"{self.source}{SHARD_META_SUFFIX}"
        replace_bytes(self.place.root, [name], text.encode(), "record shard")


def _size(path: Path) -> int:
    st = lstat_confined(path.parent, [path.name], "record shard")
    return st.st_size if st is not None and stat.S_ISREG(st.st_mode) else 0
