"""``surgeproof reconcile RUN_DIR``: look the run's acknowledged orders up (again) through the
exchange's own API, continuing where the last lookups stopped."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reconcile`` subcommand."""
    r = subparsers.add_parser(
        "reconcile",
        help="look every order a run's exchange acknowledged up through order_status",
        description="Ask the target, through the dialect's order_status, for every order it "
        "acknowledged during the run that has no conclusive answer yet (resumable), then say what "
        "it knows: consistent, unknown (lost), inconsistent, unconfirmed.",
    )
    r.add_argument("run_dir", metavar="RUN_DIR")
    r.add_argument("--target", help="the exchange's base URL (default: the run's, if loopback)")
    r.add_argument("--allow-remote-target", action="store_true")
    r.add_argument("--dialect", help="the API it speaks (default: the run's dialect.yaml)")
    r.add_argument("--accounts-file", help="credentials of the run's accounts (never copied)")
    r.add_argument("--rate", type=float, default=20.0, help="lookups per second (default 20)")
    r.add_argument(
        "--max-time", type=float, default=60.0, metavar="SECONDS", help="stop after (default 60)"
    )
    r.add_argument("--concurrency", type=int, default=4, help="lookups in flight (default 4)")
    r.add_argument("--timeout", type=float, default=10.0, help="per lookup (s)")
    r.set_defaults(func=_reconcile)


def _reconcile(args: argparse.Namespace) -> int:
    from surgeproof.analysis.order_status import check_orders, order_status_section
    from surgeproof.analysis.reconcile import read_ledger
    from surgeproof.dialect.catalog import load_dialect, parse_dialect_text
    from surgeproof.errors import UserError
    from surgeproof.load import flag_bounds
    from surgeproof.load.accounts import accounts_for_target
    from surgeproof.load.order_lookup import (
        MAX_CONCURRENCY,
        MAX_RATE_PER_S,
        MAX_TIME_S,
        LookupBudget,
        look_up_orders,
    )
    from surgeproof.load.target import check_target_url, is_loopback_url
    from surgeproof.rundir.reader import read_meta
    from surgeproof.rundir.schema import DIALECT_COPY, ORDERS_DIR

    flag_bounds.check_number("--rate", args.rate, 0, MAX_RATE_PER_S, low_open=True)
    flag_bounds.check_number("--max-time", args.max_time, 0, MAX_TIME_S, low_open=True)
    flag_bounds.check_number("--concurrency", args.concurrency, 1, MAX_CONCURRENCY)
    flag_bounds.check_number("--timeout", args.timeout, 0, flag_bounds.MAX_TIMEOUT_S, low_open=True)
    run_dir = Path(args.run_dir)
    meta = read_meta(run_dir)  # a RunDirError (one line) when it is not a run directory
    if not (run_dir / ORDERS_DIR).is_dir():
        raise UserError(f"{run_dir}: no order journal (orders/): nothing to reconcile")
    url = args.target
    if url is None:
        target = meta.get("target") if isinstance(meta.get("target"), dict) else {}
        url = target.get("url") if isinstance(target.get("url"), str) else None
        if url is None:
            raise UserError(f"{run_dir}: run.json names no target; pass --target URL")
    url = check_target_url(url, args.allow_remote_target)
    if args.dialect:
        dialect = load_dialect(args.dialect)
    else:
        copy = run_dir / DIALECT_COPY
        if not copy.is_file():
            raise UserError(f"{run_dir}: no dialect.yaml; pass --dialect")
        dialect = parse_dialect_text(copy.read_text(encoding="utf-8"), str(copy))
    accounts = accounts_for_target(url, is_loopback_url(url), args.accounts_file)
    budget = LookupBudget(args.rate, args.max_time, args.concurrency)
    print(f"surgeproof reconcile: {dialect.name} at {url}, {budget.describe()}", flush=True)
    done = look_up_orders(run_dir, dialect, url, accounts, budget, timeout_s=args.timeout)
    print(done.sentence())
    checks, _damage = check_orders(run_dir)
    section = order_status_section(checks, read_ledger(run_dir), journal_present=True)
    print(section["note"])
    return 0
