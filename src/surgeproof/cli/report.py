"""``surgeproof report | gate | evidence | verify | keygen``: the three audiences of a run's
result (and the key pair that signs its evidence)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the report, gate, evidence and verify subcommands."""
    from surgeproof.scenario.requirements import NAMES as REQUIREMENT_KINDS

    p = subparsers.add_parser(
        "report",
        help="write report.html (self-contained) and report.md for a run",
        description="Write RUN_DIR/report.html and RUN_DIR/report.md; analyse first when "
        "analysis.json is missing or older than the raw data.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    p.add_argument("--out", type=Path, help="folder for report.html/.md (default: RUN_DIR)")
    p.set_defaults(func=_report)

    g = subparsers.add_parser(
        "gate",
        help="CI gate: exit 0 when every requirement holds, 1 when one fails, 2 bad input",
        description="Judge a run against the scenario's requirements and SLOs and the flags "
        "given; optionally against an accepted baseline run.",
    )
    g.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    g.add_argument(
        "--require-ceiling",
        action="append",
        default=[],
        metavar="EXPR",
        help="the measured ceiling (real users) must reach EXPR: 'peak*1.2', 'expanded', 600000",
    )
    g.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="RULE",
        help=f"a requirement of any kind ({', '.join(REQUIREMENT_KINDS)}), as a scenario's "
        "'requirements:' writes it, e.g. 'sebi:peak'; repeatable",
    )
    for flag, metric in (("--max-p50", "p50"), ("--max-p95", "p95"), ("--max-p99", "p99")):
        g.add_argument(
            flag,
            action="append",
            default=[],
            metavar="GROUP=LATENCY",
            dest=flag[2:].replace("-", "_"),
            help=f"{metric} latency limit of a group (login, quotation, orders, account, "
            f"websocket, *), e.g. login=800ms; repeatable",
        )
    g.add_argument(
        "--max-error-ratio",
        action="append",
        default=[],
        metavar="RATIO",
        help="error-ratio limit, all groups ('0.01', '1%%') or one ('orders=0.02'); repeatable",
    )
    g.add_argument("--baseline", type=Path, metavar="RUN_DIR", help="an accepted earlier run")
    g.add_argument(
        "--tolerance", default="5%", help="how much worse than the baseline (default 5%%)"
    )
    g.add_argument(
        "--no-scenario",
        action="store_true",
        help="judge only the flags' requirements, not the scenario's own slos/requirements",
    )
    g.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    g.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help="write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)",
    )
    g.set_defaults(func=_gate)

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

    k = subparsers.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing evidence packs",
        description="Write KEY (private, mode 0600: keep it secret, e.g. a CI secret) and "
        "KEY.pub (public: give it to auditors, who run verify --key KEY.pub).",
    )
    k.add_argument("key", metavar="KEY", type=Path, help="private key file to create")
    k.set_defaults(func=_keygen)


def _size(text: str) -> int:
    from surgeproof.confine import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _report(args: argparse.Namespace) -> int:
    from surgeproof.analysis.freshness import current_analysis
    from surgeproof.report.render import write_reports
    from surgeproof.terminal import one_line

    analysis = current_analysis(args.run_dir)
    html, md = write_reports(args.run_dir, analysis, out_dir=args.out)
    from surgeproof.analysis.answer import headline

    print(one_line(headline(analysis)))
    print(f"report: {html}  (and {md.name} beside it)")
    return 0


def _gate(args: argparse.Namespace) -> int:
    from surgeproof.report.gate_run import run_gate

    return run_gate(args)


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


def _keygen(args: argparse.Namespace) -> int:
    from surgeproof.report.signing import keygen

    private, public, fingerprint = keygen(args.key)
    print(f"private key: {private}  (mode 0600; keep it secret)")
    print(f"public key:  {public}  (give it to auditors: surgeproof verify PACK --key {public})")
    print(f"public key sha256 {fingerprint}")
    return 0


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
