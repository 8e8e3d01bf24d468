"""``surgeproof worker --master HOST``: a Locust worker for a surgeproof run's master."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``worker`` subcommand."""
    from surgeproof.scenario.numbers import whole_arg

    w = subparsers.add_parser("worker", help="a Locust worker for a surgeproof run's master")
    w.add_argument("--master", required=True, help="master host")
    w.add_argument("--master-port", type=whole_arg, default=5557)
    w.add_argument(
        "--fleet-key-file",
        metavar="PATH",
        help="the master's fleet key (default: $SURGEPROOF_FLEET_KEY); the master proves it "
        "holds it before this worker takes anything from it",
    )
    w.add_argument(
        "--accounts-file",
        help="credentials on this machine (default: $SURGEPROOF_ACCOUNTS_FILE, then the master's)",
    )
    w.add_argument(
        "--shard-dir",
        metavar="DIR",
        help="keep this worker's records under DIR/<run-id>/ and send them to the master at the "
        "end (default: write into the master's run directory when reachable; with "
        "--record-shards local otherwise ./surgeproof-shards). A shard the master could not "
        "gather: surgeproof gather RUN_DIR --from DIR",
    )
    w.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    from surgeproof.load.flag_bounds import check_port
    from surgeproof.load.fleet_key import find_fleet_key, missing_key_error
    from surgeproof.load.worker import run_worker

    check_port("--master-port", args.master_port, zero_picks=False)
    key = find_fleet_key(args.fleet_key_file)
    if key is None:
        raise missing_key_error("surgeproof worker")
    return run_worker(args.master, args.master_port, key.secret, args.accounts_file, args.shard_dir)
