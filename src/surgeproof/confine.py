"""The one way a name from outside (a worker, a master, a pack, a user's file) becomes a path.

A name is one path component matching :data:`NAME` — letters, digits, ``.``, ``_`` and ``-``,
not starting with a dot, at most 128 characters — so it can never climb (``..``), be absolute,
hide, or carry a separator. A path under a root is walked component by component from a
directory descriptor with ``O_NOFOLLOW``: a symlink anywhere on the way (planted before or
swapped in while we walk) is refused instead of followed out of the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from surgeproof.errors import UserError

#: One safe path component.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafePath(UserError):
    """A name or path from outside that would leave its folder, or a link on the way."""


def checked_name(name: object, what: str) -> str:
    """``name`` when it is one safe path component, else :class:`UnsafePath` naming ``what``."""
    if not isinstance(name, str) or NAME.fullmatch(name) is None:
        shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
        raise UnsafePath(
            f"{what}: {shown} is not a plain name (letters, digits, '.', '_', '-'; "
            "not starting with '.'; at most 128 characters)"
        )
    return name


def checked_parts(rel: str | Iterable[str], what: str) -> list[str]:
    """The components of a relative path, each one checked."""
    parts = rel.split("/") if isinstance(rel, str) else list(rel)
    if not parts:
        raise UnsafePath(f"{what}: an empty path")
    return [checked_name(p, what) for p in parts]


def confined_path(root: Path | str, rel: str | Iterable[str], what: str) -> Path:
    """``root/rel`` with every component checked; nothing on disk is touched."""
    return Path(root).joinpath(*checked_parts(rel, what))


def open_confined(
    root: Path | str,
    rel: str | Iterable[str],
    flags: int,
    what: str,
    *,
    mode: int = 0o644,
    make_dirs: bool = False,
) -> int:
    """A descriptor for ``root/rel`` opened with ``flags``, no link followed on the way.

    ``root`` itself is trusted (the caller chose it); every component below it is checked and
    opened with ``O_NOFOLLOW``, so a planted symlink — file or folder — raises
    :class:`UnsafePath`. ``make_dirs`` creates missing folders on the way.
    """
    parts = checked_parts(rel, what)
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not make_dirs:
                    raise
                with contextlib.suppress(FileExistsError):  # made by a concurrent writer
                    os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except (NotADirectoryError, OSError) as e:
                if _is_link(fd, part):
                    raise UnsafePath(f"{what}: {part!r} is a link; links are not followed") from e
                raise
            os.close(fd)
            fd = nxt
        try:
            return os.open(
                parts[-1], flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode, dir_fd=fd
            )
        except OSError as e:
            if _is_link(fd, parts[-1]):
                raise UnsafePath(f"{what}: {parts[-1]!r} is a link; links are not followed") from e
            raise
    finally:
        os.close(fd)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return (st.st_mode & 0o170000) == 0o120000
