"""``surgeproof exchange``: start the reference exchange (its options live in ``exchange.main``,
which ``python -m surgeproof.exchange`` reads too: the exchange imports nothing of the package)."""

from __future__ import annotations

import argparse

from surgeproof.exchange.main import HELP, add_arguments, run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``exchange`` subcommand."""
    parser = subparsers.add_parser("exchange", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)
