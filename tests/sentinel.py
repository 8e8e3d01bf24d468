"""A folder outside the run directory that hostile inputs aim at, and the proof it was not touched.

Hostile-input tests plant links into it (a file, a folder, a name that does not exist yet), run
the surface through the real command line, and assert the folder is exactly as it was: the same
names, sizes, modification times and link targets, nothing added or removed.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

#: What the planted links point at: stands for the system's password file.
SECRET = b"root:x:0:0:root:/root:/bin/bash\n"


class Sentinel:
    """A folder outside every run directory of a test, snapshotted when made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        (path / "passwd").write_bytes(SECRET)
        (path / "folder").mkdir()
        (path / "folder" / "kept.txt").write_text("kept\n")
        #: A name that does not exist: a write through a link to it would create it.
        self.absent = path / "created-through-a-link"
        self.before = self.snapshot()

    @property
    def passwd(self) -> Path:
        return self.path / "passwd"

    def snapshot(self) -> dict[str, tuple]:
        """Every name under the folder: kind, size, mtime (ns) and link target."""
        return snapshot(self.path)

    def assert_unchanged(self) -> None:
        after = self.snapshot()
        assert after == self.before, {
            "added": sorted(set(after) - set(self.before)),
            "removed": sorted(set(self.before) - set(after)),
            "changed": sorted(k for k in after if k in self.before and after[k] != self.before[k]),
        }
        assert self.passwd.read_bytes() == SECRET


def snapshot(root: Path) -> dict[str, tuple]:
    """Kind, size, mtime (ns) and link target of every name under ``root`` (links not followed)."""
    out: dict[str, tuple] = {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in dirs + names:
            path = Path(folder) / name
            st = os.lstat(path)
            target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
            out[str(path.relative_to(root))] = (
                stat.S_IFMT(st.st_mode),
                st.st_size,
                st.st_mtime_ns,
                target,
            )
    return out


def surgeproof(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The installed ``surgeproof`` command (the console script beside this Python)."""
    script = Path(sys.executable).parent / "surgeproof"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "surgeproof.cli"]
    return subprocess.run(
        [*cmd, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def refused(done: subprocess.CompletedProcess, command: str, message: str) -> None:
    """The command answered with exactly one line, ``surgeproof COMMAND: error: MESSAGE``, and
    exit code 2 — no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr == f"surgeproof {command}: error: {message}\n", done.stderr
