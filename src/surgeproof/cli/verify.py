"""``surgeproof verify PACK``: an evidence pack checked offline — its hashes, its signature, then
the re-analysis of its raw data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    v = subparsers.add_parser(
        "verify",
        help="verify an evidence pack offline: hashes, then re-analysis of the raw data",
        description="Exit 0 when every hash matches and the raw data reproduce the verdict and "
        "numbers; 1 naming each altered file or differing number; 2 when PACK is unusable.",
    )
    v.add_argument(
        "pack", metavar="PACK", type=Path, help="the .tar.gz, or a folder it was unpacked to"
    )
    v.add_argument(
        "--key",
        type=Path,
        metavar="PUB",
        help="the signer's Ed25519 public key (KEY.pub): the manifest's signature must match it",
    )
    v.add_argument(
        "--max-expand",
        type=_size,
        metavar="SIZE",
        help="most bytes the pack may unpack to, e.g. 64GiB (default: 100 times its size, at "
        "least 256MiB); checked from its headers before anything is extracted",
    )
    v.set_defaults(func=_verify)


def _size(text: str) -> int:
    from surgeproof.confine import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _verify(args: argparse.Namespace) -> int:
    from surgeproof.report.verify import verify_pack

    started = time.monotonic()
    result = verify_pack(args.pack, key=args.key, max_expand=args.max_expand)
    for note in result.notes:
        print(f"note: {note}")
    if result.ok:
        checked = result.integrity.checked if result.integrity else 0
        print(
            f"verified: {checked} files match the manifest "
            f"(sha256 {result.integrity.manifest_sha256 if result.integrity else '?'}); "
            f"{result.signed}; "
            f"re-analysis of the raw data reproduces all {result.compared} values of "
            f"analysis.json; verdict {str(result.verdict).upper()} "
            f"({time.monotonic() - started:.1f} s)"
        )
        return 0
    problems = result.problems()
    print(f"NOT VERIFIED: {args.pack}: {len(problems)} problem(s)", file=sys.stderr)
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    return 1
