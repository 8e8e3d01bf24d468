"""``surgeproof gather RUN_DIR --from DIR``: record shards kept on workers' hosts brought into
the run directory (``rundir.gather`` does the work)."""

from __future__ import annotations

import argparse
from pathlib import Path

from surgeproof.confine import parse_size
from surgeproof.rundir.gather import gather_shards


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gather`` subcommand."""
    p = subparsers.add_parser(
        "gather",
        help="bring record shards kept on workers' hosts into a run directory",
        description=(
            "Copy the record shards of RUN_DIR's run found under DIR (a worker's --shard-dir, "
            "its <run-id> folder, or a folder holding records/) into RUN_DIR/records and update "
            "run.json's counts and workers.missing_shards. Copying the files by hand works too."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a surgeproof run directory")
    p.add_argument(
        "--from", dest="sources", action="append", required=True, metavar="DIR",
        help="where the shards are (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--max-bytes", type=_size_arg, metavar="SIZE",
        help="most bytes one shard may hold, e.g. 8GiB (default: what run.json says its worker "
        "wrote, plus 64 MiB; 64 GiB for a worker run.json has no count for)",
    )  # fmt: skip
    p.set_defaults(func=run)


def _size_arg(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    conflicts = 0
    for src in args.sources:
        for g in gather_shards(run_dir, Path(src), max_bytes=args.max_bytes):
            note = f": {g.why}" if g.why else ""
            print(f"surgeproof gather: {g.source}: {g.action} ({g.records} records){note}")
            conflicts += g.action == "conflict"
    return 1 if conflicts else 0
