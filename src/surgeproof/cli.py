"""``surgeproof``: the one command, and its subcommands.

Each subcommand lives in its area's ``command`` module, which defines ``register(subparsers)``
and keeps heavy imports (Locust, matplotlib) inside the function that runs it, so that
``surgeproof analyze`` never loads Locust.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from surgeproof import __version__

#: Modules that each register one or more subcommands, in help order.
COMMAND_MODULES = (
    "surgeproof.load.command",  # demo, run, worker
    "surgeproof.exchange.command",  # exchange
    "surgeproof.scenario.command",  # scenario validate|list|show|from-trace
    "surgeproof.analysis.command",  # analyze
    "surgeproof.rundir.command",  # export
    "surgeproof.report.command",  # report, gate, evidence, verify
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand that is installed."""
    parser = argparse.ArgumentParser(
        prog="surgeproof",
        description="Prove whether a crypto exchange survives a traffic surge.",
    )
    parser.add_argument("--version", action="version", version=f"surgeproof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surgeproof`` console script."""
    from surgeproof.errors import UserError
    from surgeproof.load.command import prepare_process
    from surgeproof.rundir.schema import RunDirError

    argv = sys.argv[1:] if argv is None else list(argv)
    prepare_process(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, RunDirError) as exc:
        print(f"surgeproof {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"surgeproof {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
