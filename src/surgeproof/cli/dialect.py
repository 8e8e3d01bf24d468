"""``surgeproof dialect list|show|validate|probe``: the APIs surgeproof speaks, and a check that
a target speaks the one a run will use."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dialect`` and its subcommands."""
    from surgeproof.scenario.numbers import number_arg

    parser = subparsers.add_parser(
        "dialect", help="the exchange APIs surgeproof speaks; check one against a target"
    )
    sub = parser.add_subparsers(dest="dialect_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("list", help="built-in dialects with a one-line description")
    p.set_defaults(func=_list)

    p = sub.add_parser("show", help="a dialect's actions as a table (--yaml: the file itself)")
    p.add_argument("dialect", metavar="NAME|FILE")
    p.add_argument("--yaml", action="store_true", help="print the dialect file, to copy from")
    p.set_defaults(func=_show)

    p = sub.add_parser("validate", help="check dialect files; exit 2 with the first error")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--scenario", help="also check that the dialect can play this scenario's behaviours"
    )
    p.set_defaults(func=_validate)

    p = sub.add_parser(
        "probe",
        help="send each action once to a target and show what answered",
        description="Send every action of the dialect once (login, quotation, account, a limit "
        "order far from the market, its status and cancel, small market orders, a websocket "
        "subscription) and print what answered; exit 1 naming each action that does not fit.",
    )
    p.add_argument("--target", required=True, help="base URL of the exchange")
    p.add_argument("--dialect", default="upbit", help="dialect name or file (default upbit)")
    p.add_argument("--allow-remote-target", action="store_true")
    p.add_argument("--accounts-file", help="credentials for a real target (never printed)")
    p.add_argument("--market", default="KRW-BTC", help="market code as QUOTE-BASE")
    p.add_argument("--timeout", type=number_arg, default=10.0, help="per call (s)")
    p.add_argument(
        "--skip", action="append", default=[], metavar="ACTION", help="do not send ACTION"
    )
    p.set_defaults(func=_probe)


def _list(args: argparse.Namespace) -> int:
    from surgeproof.dialect.catalog import builtin_names, load_dialect

    for name in builtin_names():
        d = load_dialect(name)
        first = d.description.split(". ")[0].strip().rstrip(".")
        print(f"{name:<10} {first}.")
    return 0


def _show(args: argparse.Namespace) -> int:
    from surgeproof.dialect.catalog import load_dialect

    d = load_dialect(args.dialect)
    if args.yaml:
        print(d.text, end="" if d.text.endswith("\n") else "\n")
        return 0
    print(d.describe())
    if d.description:
        print(" ".join(d.description.split()))
    print()
    print(f"{'action':<14} {'group':<10} {'request':<44} signed session")
    for name, a in d.actions.items():
        signed = "yes" if a.signed else "-"
        session = "yes" if a.session else "-"
        print(f"{name:<14} {a.group:<10} {a.name:<44} {signed:<6} {session}")
    ws = d.websocket
    if ws is not None:
        where = ws.url or ws.path
        print(f"{'websocket':<14} {'websocket':<10} {where} ({', '.join(ws.subscribe)})")
    if d.login_note:
        print()
        print("login: " + " ".join(d.login_note.split()))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from surgeproof.dialect.catalog import load_dialect

    behaviours = None
    if args.scenario:
        from surgeproof.scenario.catalog import load_scenario

        behaviours = set(load_scenario(args.scenario).behaviours)
    for ref in args.files:
        d = load_dialect(ref)
        line = f"{ref}: ok ({d.describe()})"
        if behaviours is not None:
            from surgeproof.load.users.fit import check_fit

            notes = check_fit(d, behaviours)
            line += f"; plays {args.scenario}" + (f" ({'; '.join(notes)})" if notes else "")
        print(line)
    return 0


def _probe(args: argparse.Namespace) -> int:
    from surgeproof.load import flag_bounds
    from surgeproof.load.probe import probe

    flag_bounds.check_number("--timeout", args.timeout, 0, flag_bounds.MAX_TIMEOUT_S, low_open=True)

    return probe(
        target=args.target,
        dialect_ref=args.dialect,
        allow_remote=args.allow_remote_target,
        accounts_file=args.accounts_file,
        market=args.market,
        timeout_s=args.timeout,
        skip=set(args.skip),
    )
