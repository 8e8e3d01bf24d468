"""``surgeproof evidence RUN_DIR``: a tamper-evident evidence pack (tar.gz) of a run, for
auditors."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evidence`` subcommand."""
    e = subparsers.add_parser(
        "evidence",
        help="build a tamper-evident evidence pack (tar.gz) of a run",
        description="Pack the run (raw records, scenario and profile as run, analysis, reports, "
        "environment) with a SHA-256 manifest and an INDEX for auditors.",
    )
    e.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    e.add_argument("--out", type=Path, metavar="PACK", help="archive path (.tar.gz)")
    e.add_argument(
        "--sign",
        type=Path,
        metavar="KEY",
        help="sign the manifest with this Ed25519 private key (surgeproof keygen makes one)",
    )
    e.set_defaults(func=_evidence)


def _evidence(args: argparse.Namespace) -> int:
    from surgeproof.analysis.freshness import current_analysis
    from surgeproof.report.pack import build_pack, check_packable
    from surgeproof.report.render import write_reports

    check_packable(args.run_dir, args.sign, args.out)  # a bad run id, link or key: before work
    analysis = current_analysis(args.run_dir)
    write_reports(args.run_dir, analysis)
    pack = build_pack(args.run_dir, analysis, args.out, sign=args.sign)
    print(f"evidence pack: {pack.path} ({pack.files} files)")
    print(f"archive sha256:  {pack.sha256}  (also in {pack.path.name}.sha256)")
    print(f"manifest sha256: {pack.manifest_sha256}  (record this: it fingerprints every file)")
    if pack.key_fingerprint:
        print(f"signed: Ed25519, public key sha256 {pack.key_fingerprint}")
    return 0
