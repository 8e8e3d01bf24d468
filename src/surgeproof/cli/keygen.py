"""``surgeproof keygen KEY``: the Ed25519 key pair that signs evidence packs."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``keygen`` subcommand."""
    k = subparsers.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing evidence packs",
        description="Write KEY (private, mode 0600: keep it secret, e.g. a CI secret) and "
        "KEY.pub (public: give it to auditors, who run verify --key KEY.pub).",
    )
    k.add_argument("key", metavar="KEY", type=Path, help="private key file to create")
    k.set_defaults(func=_keygen)


def _keygen(args: argparse.Namespace) -> int:
    from surgeproof.report.pack_signature import keygen

    private, public, fingerprint = keygen(args.key)
    print(f"private key: {private}  (mode 0600; keep it secret)")
    print(f"public key:  {public}  (give it to auditors: surgeproof verify PACK --key {public})")
    print(f"public key sha256 {fingerprint}")
    return 0
