"""Verifying an evidence pack offline: every hash, then the analysis recomputed from the raw data.

The hashes prove no file changed since the pack was made; the re-analysis proves the verdict and
numbers in ``analysis.json`` are what the raw records give (it also catches an edit whose hash was
fixed up in the manifest). Neither needs the network or Locust.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surgeproof.analysis.contract import as_analysis
from surgeproof.confine import TooLarge
from surgeproof.errors import UserError
from surgeproof.report.manifest import IntegrityReport, check_manifest, links
from surgeproof.report.pack import find_root
from surgeproof.report.pack_signature import SIGNATURE, SignatureCheck, check_signature
from surgeproof.report.unpack import DamagedArchive, expansion_bound, unpack

#: Fields that legitimately differ between the original analysis and its re-run.
VOLATILE = frozenset({"generated_at_utc", "surgeproof_version", "input.path"})
#: Numbers are equal when within this relative distance (float formatting, BLAS summation order).
REL_TOL = 1e-6
#: Differences listed in full before the rest are counted.
MAX_LISTED = 25
_ANALYSIS = "run/analysis.json"


@dataclass
class Verification:
    """The outcome of ``surgeproof verify``: integrity findings and recomputation findings."""

    pack: str
    integrity: IntegrityReport | None = None
    #: Each number or verdict of analysis.json the raw data do not reproduce, by field path.
    differences: list[str] = field(default_factory=list)
    #: Why the analysis could not be recomputed (a missing or damaged raw file), if so.
    reanalysis_error: str | None = None
    verdict: str | None = None
    run_id: str | None = None
    compared: int = 0
    notes: list[str] = field(default_factory=list)
    #: The signature check against ``--key`` (None when no key was given).
    signature: SignatureCheck | None = None
    #: What the pack says about its signature, in one sentence (signed by whom, or unsigned).
    signed: str = "unsigned"

    @property
    def ok(self) -> bool:
        intact = self.integrity is not None and self.integrity.ok
        signed = self.signature is None or self.signature.valid
        return intact and signed and not self.differences and self.reanalysis_error is None

    def problems(self) -> list[str]:
        """Every finding as one line each, hashes first."""
        out = list(self.integrity.problems if self.integrity else [])
        if self.signature is not None and self.signature.problem:
            out.insert(0, self.signature.problem)
        if self.reanalysis_error:
            out.append(f"re-analysis failed: {self.reanalysis_error}")
        out.extend(self.differences)
        return out


def verify_pack(path: Path, key: Path | None = None, max_expand: int | None = None) -> Verification:
    """Verify a pack archive, or a folder it was extracted to; with ``key`` (an Ed25519 public
    key file), its manifest's signature too.

    Bounded: a pack may expand to at most ``max_expand`` bytes (default
    :func:`~surgeproof.report.unpack.expansion_bound`: 100 times its size, at least 256 MiB),
    checked from its headers before anything is extracted, and from the files' apparent sizes
    for a folder before anything is hashed (:class:`TooLarge` otherwise)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        root = find_root(path, path)
        _check_folder_bound(path, root, max_expand)
        return verify_root(root, str(path), key)
    if not path.is_file():  # /dev/zero would be read for ever, a FIFO would wait for a writer
        raise UserError(f"{path}: not an evidence pack (not a regular file)")
    bound = expansion_bound(path.stat().st_size, max_expand)
    with tempfile.TemporaryDirectory(prefix="surgeproof-verify-") as tmp:
        try:
            unpacked = unpack(path, Path(tmp), bound)
        except DamagedArchive as exc:
            result = Verification(str(path))
            result.integrity = IntegrityReport("", problems=[str(exc)])
            return result
        root = find_root(Path(tmp), path)
        top = root.relative_to(tmp).as_posix()
        prefix = "" if top == "." else top + "/"
        digests = {
            rel[len(prefix) :]: d for rel, d in unpacked.digests.items() if rel.startswith(prefix)
        }
        return verify_root(root, str(path), key, digests=digests)


def _check_folder_bound(shown: Path, root: Path, given: int | None) -> None:
    """An unpacked pack's files, by apparent size (a sparse file counts in full), within the
    bound: ``given``, else 100 times what they occupy on disk (at least 256 MiB)."""
    apparent = allocated = 0
    for folder, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            st = os.lstat(os.path.join(folder, name))
            if stat.S_ISREG(st.st_mode):
                apparent += st.st_size
                allocated += st.st_blocks * 512
    bound = expansion_bound(allocated, given, f"the {allocated:,} bytes they occupy on disk")
    if apparent > bound.bytes:
        raise TooLarge(
            f"{shown}: its files hold {apparent:,} bytes, past the {bound.bytes:,} allowed "
            f"({bound.why}; verify --max-expand SIZE allows more)"
        )


def verify_root(
    root: Path, shown: str, key: Path | None = None, digests: dict[str, str] | None = None
) -> Verification:
    """Verify an unpacked pack rooted at ``root``. Nothing outside ``root`` is read: a member
    that is a symbolic link is a finding, and a run holding one is not re-analysed.
    ``digests``: SHA-256 of files already hashed while they were unpacked (by path from
    ``root``), not read again."""
    result = Verification(shown, integrity=check_manifest(root, digests))
    _check_signature(root, key, result)
    linked = links(root)
    assert result.integrity is not None
    result.integrity.problems.extend(
        f"{rel}: a symbolic link or special file (a pack holds only regular files); not read"
        for rel in linked
    )
    run_dir = root / "run"
    if (root / "run").is_symlink() or any(rel.startswith("run/") for rel in linked):
        result.reanalysis_error = "not re-analysed: run/ holds a symbolic link (see above)"
        return result
    if not (run_dir / "run.json").is_file():
        result.reanalysis_error = "run/run.json is missing: the raw data cannot be re-analysed"
        return result
    stored = _read_json(root / _ANALYSIS)
    recomputed = _recompute(run_dir, stored, result)
    if recomputed is None:
        return result
    # The raw data's analysis is read through the contract; the pack's own copy is compared
    # field by field below (a tampered one is a list of differences, not a refusal).
    fresh = as_analysis(recomputed)
    result.verdict = fresh.verdict.status
    result.run_id = fresh.input.run_id
    if stored is None:
        state = "missing" if not (root / _ANALYSIS).exists() else "not valid JSON"
        result.differences.append(f"{_ANALYSIS}: {state}, so nothing to compare the raw data with")
        return result
    if stored.get("surgeproof_version") != recomputed.get("surgeproof_version"):
        result.notes.append(
            f"the pack's analysis was made by surgeproof {stored.get('surgeproof_version')}, "
            f"re-analysed with {recomputed.get('surgeproof_version')}"
        )
    diffs = compare(stored, recomputed)
    result.compared = count_leaves(recomputed)
    listed = [
        f"{_ANALYSIS}: {p} is {_show(a)} in the pack, the raw data give {_show(b)}"
        for p, a, b in diffs[:MAX_LISTED]
    ]
    if len(diffs) > MAX_LISTED:
        listed.append(f"{_ANALYSIS}: and {len(diffs) - MAX_LISTED} more differences")
    result.differences.extend(listed)
    return result


def _check_signature(root: Path, key: Path | None, result: Verification) -> None:
    """Check the signature with ``key``; without one, say what the pack claims."""
    declared = (_read_json(root / "pack.json") or {}).get("signature")
    fp = declared.get("public_key_sha256") if isinstance(declared, dict) else None
    has_sig = (root / SIGNATURE).is_file() and not (root / SIGNATURE).is_symlink()
    if key is not None:
        result.signature = check_signature(root, key)
        result.signed = (
            f"signature valid (Ed25519, key {result.signature.key_fingerprint[:16]}…)"
            if result.signature.valid
            else "signature NOT valid"
        )
        return
    if has_sig:
        who = f" by key {str(fp)[:16]}…" if fp else ""
        result.signed = f"signed{who}, signature not checked (give --key KEY.pub to check it)"
        result.notes.append(result.signed)
    else:
        result.signed = "unsigned"
        result.notes.append(
            "the pack is not signed: only the manifest fingerprint recorded when it was made "
            "proves it is the pack that was made (sign packs with evidence --sign KEY)"
        )
        if fp:
            assert result.integrity is not None
            result.integrity.problems.append(
                f"pack.json says the manifest was signed (key {str(fp)[:16]}…), but "
                f"{SIGNATURE} is missing"
            )


def _recompute(
    run_dir: Path, stored: dict[str, Any] | None, result: Verification
) -> dict[str, Any] | None:
    from surgeproof.analysis.freshness import reanalyze

    try:
        return reanalyze(run_dir, write=False, like=stored)
    except UserError as exc:
        result.reanalysis_error = str(exc)
    except (ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        # Altered raw data can break the analysis itself; that is a finding, not a crash.
        result.reanalysis_error = f"{type(exc).__name__}: {exc}"
    return None


def compare(stored: Any, recomputed: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(field path, stored, recomputed)`` for every leaf that differs, the verdict first."""
    diffs = _walk(stored, recomputed, path)
    return sorted(diffs, key=lambda d: (not d[0].startswith("verdict"), _rank(d[0])))


def _rank(path: str) -> int:
    for i, head in enumerate(("verdict", "ceiling", "comparison", "usl", "knee", "levels")):
        if path.startswith(head):
            return i
    return 99


def _walk(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    if path in VOLATILE:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in list(b) + [k for k in a if k not in b]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                if sub not in VOLATILE:
                    out.append((sub, a.get(key, "<absent>"), b.get(key, "<absent>")))
                continue
            out.extend(_walk(a[key], b[key], sub))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [(f"{path} (length)", len(a), len(b))]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _walk(x, y, f"{path}[{i}]")
        ]
    if _is_number(a) and _is_number(b):
        return [] if _close(float(a), float(b)) else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-9)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def count_leaves(doc: Any) -> int:
    """How many values a comparison looked at."""
    if isinstance(doc, dict):
        return sum(count_leaves(v) for v in doc.values())
    if isinstance(doc, list):
        return sum(count_leaves(v) for v in doc)
    return 1


def _read_json(path: Path) -> dict[str, Any] | None:
    if path.is_symlink():
        return None  # never read through a link: it may point outside the pack
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
