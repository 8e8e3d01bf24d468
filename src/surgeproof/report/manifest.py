"""The SHA-256 manifest of an evidence pack, in the format ``sha256sum -c`` reads.

The manifest lists every file of the pack but itself and its own checksum file; the checksum
file holds the manifest's hash, so an auditor can check the manifest too and record that one
line out of band (a ticket, a signed letter) as the fingerprint of the whole pack.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "MANIFEST.sha256"
MANIFEST_CHECKSUM = "MANIFEST.sha256.sha256"
#: The Ed25519 signature over the manifest's bytes (``pack_signature.py``), beside it, not in it.
MANIFEST_SIGNATURE = "MANIFEST.sha256.sig"
_NOT_LISTED = (MANIFEST, MANIFEST_CHECKSUM, MANIFEST_SIGNATURE)
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so large record files do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pack_files(root: Path) -> list[str]:
    """Every regular file under ``root`` as sorted POSIX paths, the manifest, its checksum and
    its signature excluded; symbolic links are not files of a pack (see ``links``)."""
    paths = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = Path(folder) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                paths.append(path.relative_to(root).as_posix())
    return sorted(p for p in paths if p not in _NOT_LISTED)


def links(root: Path) -> list[str]:
    """Every symbolic link or special file under ``root`` (never followed), as POSIX paths."""
    found = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in dirs + names:
            path = Path(folder) / name
            mode = os.lstat(path).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def _plain(root: Path, rel: str) -> bool:
    """Whether ``root/rel`` is reached through folders and a file, not one link among them."""
    path = root
    for part in Path(rel).parts:
        path = path / part
        if path.is_symlink():
            return False
    return True


def format_lines(entries: Iterable[tuple[str, str]]) -> str:
    """``<hex>  <path>`` lines, the text mode of coreutils ``sha256sum``."""
    return "".join(f"{digest}  {path}\n" for path, digest in entries)


def write_manifest(root: Path) -> str:
    """Hash every file under ``root``, write the manifest and its checksum; the manifest's hash."""
    text = format_lines((p, sha256_file(root / p)) for p in pack_files(root))
    (root / MANIFEST).write_text(text, encoding="utf-8")
    own = sha256_file(root / MANIFEST)
    (root / MANIFEST_CHECKSUM).write_text(format_lines([(MANIFEST, own)]), encoding="utf-8")
    return own


@dataclass
class IntegrityReport:
    """What the hash check found; ``problems`` name each file that was altered or is missing."""

    manifest_sha256: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_lines(text: str, source: str) -> dict[str, str]:
    """``{path: hex}`` from sha256sum lines; a malformed line is itself a finding (ValueError)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, path = line.partition("  ")
        path = path.removeprefix("*")
        if not sep or len(digest) != 64 or not _is_hex(digest) or not path:
            raise ValueError(f"line {number} is not '<sha256>  <path>'")
        if path in entries:
            raise ValueError(f"line {number} lists {path} a second time")
        entries[path] = digest.lower()
    return entries


def check_manifest(root: Path, digests: dict[str, str] | None = None) -> IntegrityReport:
    """Check the manifest against its checksum and every file against the manifest.

    ``digests``: SHA-256 already computed while unpacking (by path from ``root``), used instead
    of reading those files again."""
    manifest_path, checksum_path = root / MANIFEST, root / MANIFEST_CHECKSUM
    for path in (manifest_path, checksum_path):
        if path.is_symlink():
            return IntegrityReport("", problems=[f"{path.name}: a symbolic link; not read"])
    if not manifest_path.is_file():
        return IntegrityReport("", problems=[f"{MANIFEST}: missing"])
    own = sha256_file(manifest_path)
    report = IntegrityReport(own)
    try:
        listed = parse_lines(manifest_path.read_text(encoding="utf-8", errors="replace"), MANIFEST)
    except ValueError as exc:
        listed = {}
        report.problems.append(f"{MANIFEST}: altered ({exc})")
    for path, expected in listed.items():
        target = root / path
        if not _plain(root, path):
            report.problems.append(f"{path}: reached through a symbolic link; not read")
        elif not _inside(root, target):
            report.problems.append(f"{MANIFEST}: lists {path}, a path outside the pack")
        elif not target.is_file():
            report.problems.append(f"{path}: missing (listed in {MANIFEST})")
        else:
            report.checked += 1
            known = (digests or {}).get(path)
            actual = known if known is not None else sha256_file(target)
            if actual != expected:
                report.problems.append(
                    f"{path}: altered (sha256 {actual[:16]}…, manifest says {expected[:16]}…)"
                )
    for path in pack_files(root):
        if listed and path not in listed:
            report.problems.append(f"{path}: not in {MANIFEST} (added after the pack was made)")
    report.problems.extend(_check_own_hash(root, checksum_path, own, files_ok=not report.problems))
    return report


def _check_own_hash(root: Path, checksum_path: Path, own: str, *, files_ok: bool) -> list[str]:
    if not checksum_path.is_file():
        return [f"{MANIFEST_CHECKSUM}: missing (the manifest's own hash cannot be checked)"]
    try:
        recorded = parse_lines(checksum_path.read_text(encoding="utf-8", errors="replace"), "")
    except ValueError:
        return [f"{MANIFEST_CHECKSUM}: altered (not a sha256sum line)"]
    expected = recorded.get(MANIFEST)
    if expected is None:
        return [f"{MANIFEST_CHECKSUM}: altered (does not name {MANIFEST})"]
    if expected == own:
        return []
    if files_ok:
        # Every file matches the manifest: either the manifest was rewritten to fit altered files,
        # or its checksum line was edited. Only the hash recorded out of band can tell which.
        return [
            f"{MANIFEST}: altered, or {MANIFEST_CHECKSUM} was (sha256 {own}, {MANIFEST_CHECKSUM} "
            f"says {expected[:16]}…; every file matches the manifest: compare {own[:16]}… with "
            "the fingerprint recorded when the pack was made)"
        ]
    return [f"{MANIFEST}: altered (sha256 {own[:16]}…, {MANIFEST_CHECKSUM} says {expected[:16]}…)"]


def _inside(root: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
