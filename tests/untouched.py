"""A sentinel folder beside a hostile test's working directory, to show that a refused input
changed nothing outside the folder the command was given.

``Sentinel.make(tmp_path)`` fills ``tmp_path/sentinel`` with a few files (one of them the
``secret`` a hostile file points at with ``../``); ``sentinel.assert_unchanged()`` compares
every path, type, size, mode, modification time and content hash with the first snapshot.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

#: What the sentinel's ``secret`` file holds: a hostile file that gets it echoed is caught.
SENTINEL_SECRET = "sentinel-first-line-f3c9a1\nsecond line\n"


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path below ``folder`` (links not followed) with what identifies its content."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(folder))] = (
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                digest,
            )
    return out


@dataclass
class Sentinel:
    folder: Path
    before: dict[str, tuple]

    @classmethod
    def make(cls, root: Path) -> Sentinel:
        folder = root / "sentinel"
        (folder / "nested").mkdir(parents=True)
        (folder / "secret").write_text(SENTINEL_SECRET)
        (folder / "nested" / "data.yaml").write_text("name: keep-me\n")
        (folder / "notes.txt").write_text("nothing to see\n")
        return cls(folder, snapshot(folder))

    @property
    def secret(self) -> Path:
        return self.folder / "secret"

    def assert_unchanged(self) -> None:
        assert snapshot(self.folder) == self.before
