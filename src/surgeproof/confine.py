"""The one way a name from outside (a worker, a master, a pack, a user's file) becomes a path.

A name is one path component matching :data:`NAME` — letters, digits, ``.``, ``_`` and ``-``,
not starting with a dot, at most 128 characters — so it can never climb (``..``), be absolute,
hide, or carry a separator. A path under a root is walked component by component from a
directory descriptor with ``O_NOFOLLOW``: a symlink anywhere on the way (planted before or
swapped in while we walk) is refused instead of followed out of the folder. The root itself is
the caller's choice (a run directory, ``--out``, ``--shard-dir``) and is the one path followed.

Writing never goes through what is already there: new files are created exclusively
(``O_EXCL``, so a planted file or link is refused, never overwritten), appends open only a
regular file, and replacements are written to a fresh temporary file in the same folder and
renamed over the final name (a rename replaces a name, it never writes through a link; a final
name that is a link is refused all the same). Reads open only regular files and check their
apparent size (``st_size``: a sparse file counts in full, whatever blocks it occupies) against a
stated bound before reading.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from surgeproof.errors import UserError

#: One safe path component.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC
_LINK_ERRNOS = (errno.ELOOP, errno.EMLINK, errno.ENOTDIR)
#: Binary size suffixes ``parse_size`` accepts.
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_SIZE = re.compile(r"([0-9]{1,16})(?:\.([0-9]{1,6}))?\s*([kmgtp]?)(?:i?b)?")


class UnsafePath(UserError):
    """A name or path from outside that would leave its folder, a link on the way, or a file
    that is already there and would be overwritten."""


class TooLarge(UserError):
    """A file or member larger than its stated bound (by apparent size)."""


def checked_name(name: object, what: str) -> str:
    """``name`` when it is one safe path component, else :class:`UnsafePath` naming ``what``."""
    if not isinstance(name, str) or NAME.fullmatch(name) is None:
        shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
        raise UnsafePath(
            f"{what}: {shown} is not a plain name (letters, digits, '.', '_', '-'; "
            "not starting with '.'; at most 128 characters)"
        )
    return name


def checked_parts(rel: str | Iterable[str], what: str, *, any_name: bool = False) -> list[str]:
    """The components of a relative path, each one checked.

    ``any_name``: any single component, not only :data:`NAME` — the tool's own constants
    (``.surgeproof-probe``) or the names of files a pack holds (a run directory may hold any
    file): still one component, never ``.``, ``..``, empty, with a NUL or over 255 bytes.
    """
    parts = rel.split("/") if isinstance(rel, str) else list(rel)
    if not parts:
        raise UnsafePath(f"{what}: an empty path")
    if any_name:
        for p in parts:
            if (
                not isinstance(p, str)
                or p in ("", ".", "..")
                or "/" in p
                or "\x00" in p
                or len(p.encode("utf-8", "surrogateescape")) > 255
            ):
                raise UnsafePath(f"{what}: {str(p)[:60]!r} is not one path component")
        return parts
    return [checked_name(p, what) for p in parts]


def confined_path(root: Path | str, rel: str | Iterable[str], what: str) -> Path:
    """``root/rel`` with every component checked; nothing on disk is touched."""
    return Path(root).joinpath(*checked_parts(rel, what))


def _shown(root: Path | str, parts: Iterable[str]) -> str:
    return os.path.join(str(root), *parts)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode)


def _refuse_link(what: str, shown: str) -> UnsafePath:
    return UnsafePath(f"{what}: {shown} is a symbolic link; links are not followed")


def _open_at(dir_fd: int, name: str, flags: int, mode: int, what: str, shown: str) -> int:
    """``os.open`` of one component under ``dir_fd``: a link is UnsafePath, other errors name
    the whole path (the command line shows them on one line)."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW | _CLOEXEC, mode, dir_fd=dir_fd)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno in _LINK_ERRNOS and _is_link(dir_fd, name):
            raise _refuse_link(what, shown) from None
        raise type(e)(e.errno, e.strerror, shown) from None


def _walk(root: Path | str, parts: list[str], what: str, make_dirs: bool) -> int:
    """A descriptor of the folder ``root/parts``, no component below ``root`` followed."""
    try:
        fd = os.open(root, _ROOT_FLAGS)
    except OSError as e:
        raise type(e)(e.errno, e.strerror, str(root)) from None
    try:
        for i, part in enumerate(parts):
            shown = _shown(root, parts[: i + 1])
            try:
                nxt = _open_at(fd, part, _DIR_FLAGS, 0, what, shown)
            except FileNotFoundError:
                if not make_dirs:
                    raise
                with contextlib.suppress(FileExistsError):  # made by a concurrent writer
                    os.mkdir(part, 0o755, dir_fd=fd)
                nxt = _open_at(fd, part, _DIR_FLAGS, 0, what, shown)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def folder(
    root: Path | str,
    rel: str | Iterable[str] = (),
    what: str = "path",
    *,
    make_dirs: bool = False,
    any_name: bool = False,
) -> Iterator[int]:
    """A descriptor of the folder ``root/rel`` (``root`` itself when ``rel`` is empty), walked
    without following a link below ``root``; closed on leaving."""
    parts = [] if rel in ((), [], "") else checked_parts(rel, what, any_name=any_name)
    fd = _walk(root, parts, what, make_dirs)
    try:
        yield fd
    finally:
        os.close(fd)


def _regular(fd: int, what: str, shown: str) -> os.stat_result:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafePath(f"{what}: {shown} is not a regular file")
    return st


def open_confined(
    root: Path | str,
    rel: str | Iterable[str],
    flags: int,
    what: str,
    *,
    mode: int = 0o644,
    make_dirs: bool = False,
    any_name: bool = False,
) -> int:
    """A descriptor for the regular file ``root/rel`` opened with ``flags``, no link followed.

    ``root`` itself is trusted (the caller chose it); every component below it is checked and
    opened with ``O_NOFOLLOW``, so a planted symlink — file or folder — raises
    :class:`UnsafePath`, as does a FIFO or device (opened non-blocking, then refused).
    ``make_dirs`` creates missing folders on the way.
    """
    parts = checked_parts(rel, what, any_name=any_name)
    shown = _shown(root, parts)
    with folder(root, parts[:-1], what, make_dirs=make_dirs, any_name=any_name) as d:
        fd = _open_at(d, parts[-1], flags | os.O_NONBLOCK, mode, what, shown)
    _regular(fd, what, shown)
    os.set_blocking(fd, True)
    return fd


def create_exclusive(
    root: Path | str,
    rel: str | Iterable[str],
    what: str,
    *,
    mode: int = 0o644,
    make_dirs: bool = False,
    any_name: bool = False,
) -> BinaryIO:
    """A new file ``root/rel`` for writing; one already there (a file or a link) is refused."""
    parts = checked_parts(rel, what, any_name=any_name)
    try:
        fd = open_confined(
            root,
            parts,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL,
            what,
            mode=mode,
            make_dirs=make_dirs,
            any_name=any_name,
        )
    except FileExistsError:
        raise UnsafePath(
            f"{what}: {_shown(root, parts)} already exists; it is not overwritten"
        ) from None
    return os.fdopen(fd, "wb")


def open_append(
    root: Path | str, rel: str | Iterable[str], what: str, *, make_dirs: bool = False
) -> BinaryIO:
    """The regular file ``root/rel`` opened for appending (created if missing)."""
    fd = open_confined(root, rel, os.O_WRONLY | os.O_APPEND | os.O_CREAT, what, make_dirs=make_dirs)
    return os.fdopen(fd, "ab")


def open_read(
    root: Path | str,
    rel: str | Iterable[str],
    what: str,
    *,
    limit: int | None = None,
    any_name: bool = False,
) -> BinaryIO:
    """The regular file ``root/rel`` opened for reading; with ``limit``, its apparent size
    checked first (:class:`TooLarge`)."""
    parts = checked_parts(rel, what, any_name=any_name)
    fd = open_confined(root, parts, os.O_RDONLY, what, any_name=any_name)
    if limit is not None:
        try:
            check_size(os.fstat(fd).st_size, limit, f"{what}: {_shown(root, parts)}")
        except TooLarge:
            os.close(fd)
            raise
    return os.fdopen(fd, "rb")


def read_bounded(
    root: Path | str, rel: str | Iterable[str], limit: int, what: str, *, any_name: bool = False
) -> bytes:
    """The bytes of the regular file ``root/rel``, refused (:class:`TooLarge`) past ``limit``."""
    with open_read(root, rel, what, limit=limit, any_name=any_name) as f:
        data = f.read(limit + 1)
    if len(data) > limit:  # grew after the check
        parts = checked_parts(rel, what, any_name=any_name)
        check_size(len(data), limit, f"{what}: {_shown(root, parts)}")
    return data


def has_holes(f: BinaryIO) -> bool:
    """Whether an open file has a hole (a sparse file) before its end. A file written end to
    end (a record shard, a pack member) has none; a filesystem that cannot tell says none."""
    size = os.fstat(f.fileno()).st_size
    try:
        first_hole = os.lseek(f.fileno(), 0, getattr(os, "SEEK_HOLE", 4))
    except OSError:
        return False
    finally:
        f.seek(0)
    return first_hole < size


def check_size(size: int, limit: int, shown: str) -> None:
    """:class:`TooLarge` when ``size`` (bytes) exceeds ``limit``."""
    if size > limit:
        raise TooLarge(f"{shown}: {size:,} bytes, more than the {limit:,} allowed")


@contextlib.contextmanager
def replacing(
    root: Path | str,
    rel: str | Iterable[str],
    what: str,
    *,
    mode: int = 0o644,
    make_dirs: bool = False,
    any_name: bool = False,
) -> Iterator[BinaryIO]:
    """Write ``root/rel`` whole: yields a fresh temporary file in the same folder, renamed over
    the final name when the block ends without error (removed otherwise), so a reader sees the
    old file or the new one. A final name that is a link or not a regular file is refused."""
    parts = checked_parts(rel, what, any_name=any_name)
    shown = _shown(root, parts)
    final = parts[-1]
    with folder(root, parts[:-1], what, make_dirs=make_dirs, any_name=any_name) as d:
        _check_replaceable(d, final, what, shown)
        tmp = f"{final[:100]}.{secrets.token_hex(6)}.tmp"
        fd = _open_at(d, tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode, what, shown)
        f = os.fdopen(fd, "wb")
        try:
            yield f
            f.flush()
            os.fsync(f.fileno())
            f.close()
            _check_replaceable(d, final, what, shown)
            os.rename(tmp, final, src_dir_fd=d, dst_dir_fd=d)
        except BaseException:
            f.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=d)
            raise


def check_replaceable(
    root: Path | str, rel: str | Iterable[str], what: str, *, any_name: bool = False
) -> None:
    """:class:`UnsafePath` now, before any work, when :func:`replacing` would refuse ``rel``."""
    parts = checked_parts(rel, what, any_name=any_name)
    try:
        with folder(root, parts[:-1], what, any_name=any_name) as d:
            _check_replaceable(d, parts[-1], what, _shown(root, parts))
    except FileNotFoundError:
        return


def _check_replaceable(dir_fd: int, name: str, what: str, shown: str) -> None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{what}: {shown} is a symbolic link; it is not replaced")
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{what}: {shown} is not a regular file; it is not replaced")


def replace_bytes(
    root: Path | str, rel: str | Iterable[str], data: bytes, what: str, **kw: bool | int
) -> None:
    """Replace ``root/rel`` with ``data`` (see :func:`replacing`)."""
    with replacing(root, rel, what, **kw) as f:  # type: ignore[arg-type]
        f.write(data)


@dataclass(frozen=True)
class Entry:
    """One name in a folder, as ``lstat`` sees it (a link is never followed)."""

    name: str
    #: ``file``, ``dir``, ``link`` or ``other`` (FIFO, socket, device).
    kind: str
    #: Apparent size in bytes (``st_size``): a sparse file counts in full.
    size: int


def entries(root: Path | str, rel: str | Iterable[str] = (), what: str = "path") -> list[Entry]:
    """The names in the folder ``root/rel``, sorted, each with its kind and apparent size."""
    out = []
    with folder(root, rel, what) as d:
        for name in sorted(os.listdir(d)):
            try:
                st = os.stat(name, dir_fd=d, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed while we looked
            mode = st.st_mode
            kind = (
                "file"
                if stat.S_ISREG(mode)
                else "dir"
                if stat.S_ISDIR(mode)
                else "link"
                if stat.S_ISLNK(mode)
                else "other"
            )
            out.append(Entry(name, kind, st.st_size))
    return out


def lstat_confined(
    root: Path | str, rel: str | Iterable[str], what: str, *, any_name: bool = False
) -> os.stat_result | None:
    """``lstat`` of ``root/rel`` (a link is described, never followed); None when absent."""
    parts = checked_parts(rel, what, any_name=any_name)
    try:
        with folder(root, parts[:-1], what, any_name=any_name) as d:
            return os.stat(parts[-1], dir_fd=d, follow_symlinks=False)
    except FileNotFoundError:
        return None


def unlink_confined(
    root: Path | str, rel: str | Iterable[str], what: str, *, any_name: bool = False
) -> None:
    """Remove the name ``root/rel`` if it is there (a link is removed, never followed)."""
    parts = checked_parts(rel, what, any_name=any_name)
    with (
        contextlib.suppress(FileNotFoundError),
        folder(root, parts[:-1], what, any_name=any_name) as d,
    ):
        os.unlink(parts[-1], dir_fd=d)


def truncate_confined(root: Path | str, rel: str | Iterable[str], size: int, what: str) -> None:
    """Cut the regular file ``root/rel`` to ``size`` bytes (no link followed)."""
    fd = open_confined(root, rel, os.O_WRONLY, what)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def free_bytes(root: Path | str) -> int:
    """Bytes an unprivileged writer may still use on ``root``'s filesystem."""
    st = os.statvfs(root)
    return st.f_bavail * st.f_frsize


def parse_size(text: str) -> int:
    """``512MiB``, ``4G``, ``1.5GiB``, ``1073741824``: bytes (binary units; ASCII digits only).

    ValueError naming what was expected otherwise.
    """
    m = _SIZE.fullmatch(str(text).strip().lower())
    if m is None:
        raise ValueError(f"expected a size such as 512MiB or 4GiB, got {str(text)[:40]!r}")
    whole, frac, unit = m.groups()
    value = (int(whole) + (int(frac) / 10 ** len(frac) if frac else 0)) * _UNITS[unit]
    return int(value)
