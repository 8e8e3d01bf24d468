"""Ed25519 signatures over an evidence pack's manifest (``cryptography``'s implementation).

The manifest lists the SHA-256 of every file of the pack, so a signature over its exact bytes
covers them all: altering any file, re-running the analysis inside the pack and re-writing the
manifest still leaves a signature that no longer matches — unless the forger holds the private
key. ``MANIFEST.sha256.sig`` holds the raw 64-byte signature, which ``openssl pkeyutl -verify
-pubin -inkey KEY.pub -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig`` checks too.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from surgeproof.errors import UserError
from surgeproof.report.manifest import MANIFEST
from surgeproof.report.manifest import MANIFEST_SIGNATURE as SIGNATURE

ALGORITHM = "Ed25519"
#: Largest key file read (a PEM Ed25519 key is about 120 bytes).
MAX_KEY_BYTES = 64 << 10


@dataclass(frozen=True)
class SignatureCheck:
    """What ``verify --key`` found: whether the signature holds, and whose key it is."""

    valid: bool
    key_fingerprint: str
    problem: str | None = None


def keygen(private_path: Path) -> tuple[Path, Path, str]:
    """Write a new key pair: ``private_path`` (PEM PKCS#8, mode 0600) and ``<it>.pub`` (PEM).

    Refuses to overwrite either file. Returns both paths and the public key's fingerprint.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path = Path(private_path)
    public_path = private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise UserError(f"{path}: already exists; keygen never overwrites a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600)
    _write_new(public_path, public_pem, 0o644)
    return private_path, public_path, fingerprint(raw_public_bytes(key.public_key()))


def sign_manifest(root: Path, private_key: Path) -> str:
    """Sign ``root/MANIFEST.sha256`` into ``root/MANIFEST.sha256.sig``; the key's fingerprint."""
    key = load_private_key(private_key)
    signature = key.sign((root / MANIFEST).read_bytes())
    (root / SIGNATURE).write_bytes(signature)
    return fingerprint(raw_public_bytes(key.public_key()))


def private_key_fingerprint(private_key: Path) -> str:
    """The fingerprint of the public half of a private key file (checked before packing)."""
    return fingerprint(raw_public_bytes(load_private_key(private_key).public_key()))


def check_signature(root: Path, public_key: Path) -> SignatureCheck:
    """Check ``MANIFEST.sha256.sig`` against the manifest's bytes with ``public_key``.

    Reads only regular files inside ``root`` (a signature or manifest that is a link is refused).
    """
    from cryptography.exceptions import InvalidSignature

    key = load_public_key(public_key)
    fp = fingerprint(raw_public_bytes(key))
    sig_path, manifest_path = root / SIGNATURE, root / MANIFEST
    for path in (manifest_path, sig_path):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return SignatureCheck(False, fp, f"{path.name}: not a regular file; not read")
    if not sig_path.exists():
        return SignatureCheck(False, fp, f"{SIGNATURE}: missing: the pack is not signed")
    if not manifest_path.exists():
        return SignatureCheck(False, fp, f"{MANIFEST}: missing: no signed manifest to check")
    signature = _read_small(sig_path, 1024)
    try:
        key.verify(signature, manifest_path.read_bytes())
    except InvalidSignature:
        return SignatureCheck(
            False,
            fp,
            f"{SIGNATURE}: does not match MANIFEST.sha256 with key {fp[:16]}…: the manifest "
            "was altered after signing, or signed with another key",
        )
    return SignatureCheck(True, fp)


def fingerprint(raw_public_key: bytes) -> str:
    """Hex SHA-256 of the 32-byte raw public key: what a pack records and an auditor compares."""
    return hashlib.sha256(raw_public_key).hexdigest()


def raw_public_bytes(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_private_key(path: Path):
    """An Ed25519 private key from a PEM (PKCS#8) or OpenSSH file; one-line UserError if not."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read_small(Path(path), MAX_KEY_BYTES, what="--sign")
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise UserError(f"--sign {path}: the key is encrypted; give an unencrypted key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise UserError(f"--sign {path}: not a PEM or OpenSSH private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"--sign {path}: not an Ed25519 key (make one with surgeproof keygen)")
    return key


def load_public_key(path: Path):
    """An Ed25519 public key from a PEM or OpenSSH (``ssh-ed25519 …``) file."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_small(Path(path), MAX_KEY_BYTES, what="--key")
    try:
        if data.lstrip().startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        hint = " (that is the private key: give KEY.pub)" if b"PRIVATE KEY" in data else ""
        raise UserError(f"--key {path}: not a PEM or OpenSSH public key{hint}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"--key {path}: not an Ed25519 public key")
    return key


def _read_small(path: Path, limit: int, what: str = "") -> bytes:
    shown = f"{what} {path}" if what else str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{shown}: not a regular file")
        if info.st_size > limit:
            raise UserError(f"{shown}: {info.st_size:,} bytes, too large for a key")
        with open(path, "rb") as fh:
            return fh.read(limit)
    except FileNotFoundError:
        raise UserError(f"{shown}: no such file") from None
    except OSError as exc:
        raise UserError(f"{shown}: cannot read ({exc.strerror or exc})") from None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never briefly readable by others)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        if path.parent.exists() and not path.parent.is_dir():
            raise UserError(f"{path}: {path.parent} is a file, not a folder") from None
        raise UserError(f"{path}: already exists; keygen never overwrites a key") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot create ({exc.strerror or exc})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)  # the umask may have narrowed it; never widened past ``mode``
