"""Unpacking an evidence pack within a stated bound, in bounded time.

A pack is untrusted until verified, and a small archive can claim any size: a gzip stream
expands up to ~1,000 times, and a tar header can declare a 64 GiB (sparse) member in a few
bytes. So unpacking takes two passes over the stream, each reading at most the bound:

1. **survey** — every header, data skipped unread: each member must be a plain file or folder
   with a name that stays inside the pack, and the declared sizes, one by one and in total, must
   fit the bound (:func:`expansion_bound`) and the free disk space; nothing is written;
2. **extract** — the same members again, each file created new (never through a link, never
   over another) and hashed as it is written, so the manifest check need not read it again.

The decompressed stream itself is metered too: whatever the headers say, neither pass reads past
the bound (plus room for the headers).
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from surgeproof.confine import (
    TooLarge,
    UnsafePath,
    checked_parts,
    create_exclusive,
    folder,
    free_bytes,
)
from surgeproof.errors import UserError

#: By default a pack may expand to this many times its own size...
EXPAND_RATIO = 100
#: ...and at least this much (a small pack's headers and padding expand more than its data).
MIN_EXPAND = 256 << 20
#: Members of a pack (a run directory holds a few dozen files).
MAX_MEMBERS = 100_000
#: Largest extended header (pax, GNU long name) read: a long path is a few hundred bytes.
MAX_HEADER_BYTES = 1 << 20
#: Bytes of the decompressed stream beyond the members' data: headers and padding (a pack of a
#: few dozen members has a few dozen kilobytes of them).
HEADER_ROOM = 64 << 20
#: Free space an extraction leaves on the disk it writes to.
FREE_SPACE_RESERVE = 256 << 20
_BLOCK = 1 << 20
_MEMBER_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE)


@dataclass(frozen=True)
class Bound:
    """The most bytes a pack may expand to, and where that figure comes from."""

    bytes: int
    why: str


def expansion_bound(stored: int, given: int | None = None, label: str | None = None) -> Bound:
    """``given`` (``verify --max-expand``), else ``EXPAND_RATIO`` times ``stored`` (the
    archive's size, or an unpacked folder's allocated bytes, as ``label`` says), at least
    ``MIN_EXPAND``."""
    if given is not None:
        return Bound(given, "--max-expand")
    n = max(MIN_EXPAND, EXPAND_RATIO * stored)
    label = label or f"its {stored:,} bytes"
    why = f"{EXPAND_RATIO} times {label}" if n > MIN_EXPAND else f"at least {MIN_EXPAND:,} bytes"
    return Bound(n, f"the default: {why}")


class DamagedArchive(Exception):
    """The archive no longer decompresses, or holds what no pack holds: altered or truncated."""


@dataclass(frozen=True)
class Member:
    """One member as its header declares it."""

    parts: tuple[str, ...]
    size: int
    is_dir: bool


@dataclass
class Unpacked:
    """Where a pack was unpacked, and the SHA-256 of every file, by its path from ``dest``."""

    dest: Path
    digests: dict[str, str] = field(default_factory=dict)


def unpack(archive: Path, dest: Path, bound: Bound) -> Unpacked:
    """Survey ``archive`` (a gzip-compressed or plain tar) within ``bound``, then extract it into
    the empty folder ``dest``. :class:`TooLarge` for a pack past its bound or the free space,
    :class:`DamagedArchive` for one that is altered (or holds links, devices, names that leave
    the folder), :class:`UserError` for a file that is not a tar archive at all."""
    members = _read(archive, bound, lambda tar: _survey(tar, archive, bound))
    total = sum(m.size for m in members)
    free = free_bytes(dest)
    if total > free - FREE_SPACE_RESERVE:
        raise TooLarge(
            f"{archive}: expands to {total:,} bytes; {dest} has {free:,} free and unpacking "
            f"leaves at least {FREE_SPACE_RESERVE:,}"
        )
    out = Unpacked(dest)
    _read(archive, bound, lambda tar: _extract(tar, members, out))
    return out


def _read(archive: Path, bound: Bound, walk):
    """Open ``archive`` as a metered tar stream and hand it to ``walk``; archive errors become
    :class:`DamagedArchive` (a gzip file) or :class:`UserError` (anything else)."""
    gz = _looks_gzip(archive)
    cap = bound.bytes + HEADER_ROOM
    try:
        with open(archive, "rb") as raw:
            stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw  # type: ignore[assignment]
            metered = _Metered(stream, cap, archive, bound)
            with tarfile.open(
                fileobj=metered, mode="r|", tarinfo=_BoundedInfo, bufsize=_BLOCK
            ) as tar:
                return walk(tar)
    except (_Refused, UnsafePath) as exc:
        raise DamagedArchive(f"{archive}: {exc}; nothing extracted") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
        if gz:
            raise DamagedArchive(f"{archive}: damaged archive ({exc})") from None
        raise UserError(f"{archive}: not an evidence pack (not a tar.gz archive)") from None


class _Refused(Exception):
    """A member no pack holds."""


class _BoundedInfo(tarfile.TarInfo):
    """A tar header refused before its extended data is read when that data is oversized, or
    when it announces a sparse member (a pack's files are written whole)."""

    @classmethod
    def frombuf(cls, buf, encoding, errors):  # type: ignore[override]
        info = super().frombuf(buf, encoding, errors)
        if info.type == tarfile.GNUTYPE_SPARSE:
            raise _Refused(
                f"member {info.name[:200]!r} is a sparse file (a pack holds whole files)"
            )
        extended = (*tarfile.GNU_TYPES, tarfile.XHDTYPE, tarfile.XGLTYPE)
        if info.type in extended and info.size > MAX_HEADER_BYTES:
            raise _Refused(
                f"an extended header of {info.size:,} bytes (at most {MAX_HEADER_BYTES:,})"
            )
        return info


class _Metered:
    """A read-only stream that refuses to hand on more than ``cap`` bytes in all."""

    def __init__(self, stream: BinaryIO, cap: int, archive: Path, bound: Bound) -> None:
        self.stream = stream
        self.cap = cap
        self.read_bytes = 0
        self.archive = archive
        self.bound = bound

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.cap - self.read_bytes + 1
        n = min(n, self.cap - self.read_bytes + 1)
        data = self.stream.read(n)
        self.read_bytes += len(data)
        if self.read_bytes > self.cap:
            raise TooLarge(_past(self.archive, self.bound, f"more than {self.cap:,} bytes"))
        return data


def _past(archive: Path, bound: Bound, what: str) -> str:
    return (
        f"{archive}: expands to {what}, past the {bound.bytes:,} allowed ({bound.why}; "
        "verify --max-expand SIZE allows more)"
    )


def _member(info: tarfile.TarInfo) -> Member:
    """The member as a pack may hold it: a file or folder, no sparse data, a relative name of
    plain components; anything else is :class:`_Refused`."""
    shown = repr(info.name[:200])
    if info.type not in _MEMBER_TYPES:
        kind = (
            "a symbolic link"
            if info.issym()
            else "a hard link"
            if info.islnk()
            else "a device or FIFO"
            if info.isdev()
            else f"of type {info.type!r}"
        )
        raise _Refused(f"member {shown} is {kind} (a pack holds only files and folders)")
    if info.sparse is not None:
        raise _Refused(f"member {shown} is a sparse file (a pack holds whole files)")
    name = info.name.rstrip("/") if info.isdir() else info.name
    if name.startswith("/") or len(name) > 4096:
        raise _Refused(f"member {shown} has an absolute or overlong name")
    try:
        parts = checked_parts(name, "member", any_name=True)
    except UnsafePath:
        raise _Refused(f"member {shown} has a name that leaves the pack's folder") from None
    return Member(tuple(parts), 0 if info.isdir() else int(info.size), info.isdir())


def _survey(tar: tarfile.TarFile, archive: Path, bound: Bound) -> list[Member]:
    members: list[Member] = []
    total = 0
    files: set[tuple[str, ...]] = set()
    dirs: set[tuple[str, ...]] = set()
    for info in tar:
        if len(members) >= MAX_MEMBERS:
            raise _Refused(f"more than {MAX_MEMBERS:,} members")
        m = _member(info)
        shown = "/".join(m.parts)
        if m.parts in files or (m.parts in dirs and not m.is_dir):
            raise _Refused(f"member {shown!r} appears twice")
        if any(m.parts[:i] in files for i in range(1, len(m.parts))):
            raise _Refused(f"member {shown!r} lies under a file")
        (dirs if m.is_dir else files).add(m.parts)
        dirs.update(m.parts[:i] for i in range(1, len(m.parts)))
        if m.size > bound.bytes:
            raise TooLarge(
                _past(archive, bound, f"{m.size:,} bytes in member {'/'.join(m.parts)!r} alone")
            )
        total += m.size
        if total > bound.bytes:
            raise TooLarge(_past(archive, bound, f"at least {total:,} bytes"))
        members.append(m)
    if not members:
        raise _Refused("no members")
    return members


def _extract(tar: tarfile.TarFile, members: list[Member], out: Unpacked) -> None:
    seen = 0
    for info in tar:
        m = _member(info)
        if seen >= len(members) or m != members[seen]:
            raise _Refused("it changed while it was being read")
        seen += 1
        if m.is_dir:
            with folder(out.dest, m.parts, "member", make_dirs=True, any_name=True):
                continue
        src = tar.extractfile(info)
        assert src is not None  # a regular file always has data
        digest = hashlib.sha256()
        left = m.size
        with create_exclusive(out.dest, m.parts, "member", make_dirs=True, any_name=True) as dst:
            while left > 0:
                block = src.read(min(_BLOCK, left))
                if not block:
                    raise _Refused(f"member {'/'.join(m.parts)!r} is cut short")
                dst.write(block)
                digest.update(block)
                left -= len(block)
        out.digests["/".join(m.parts)] = digest.hexdigest()
    if seen != len(members):
        raise _Refused("it changed while it was being read")


def _looks_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"
