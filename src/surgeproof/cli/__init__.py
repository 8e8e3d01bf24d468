"""``surgeproof``: the one command, and its subcommands.

Each subcommand lives in its own module of this package, which defines ``register(subparsers)``
and keeps heavy imports (Locust, matplotlib) inside the function that runs it, so that
``surgeproof analyze`` never loads Locust. The library packages below import nothing from here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from surgeproof import __version__

#: One module per subcommand (``scenario`` and ``dialect`` hold their own), in help order; a
#: module missing from an install is left out.
COMMAND_MODULES = (
    "surgeproof.cli.run",
    "surgeproof.cli.worker",
    "surgeproof.cli.demo",
    "surgeproof.cli.plan",
    "surgeproof.cli.reconcile",
    "surgeproof.cli.mark",
    "surgeproof.cli.exchange",
    "surgeproof.cli.scenario",  # scenario list|validate|show|from-trace
    "surgeproof.cli.dialect",  # dialect list|show|validate|probe
    "surgeproof.cli.analyze",
    "surgeproof.cli.export",
    "surgeproof.cli.gather",
    "surgeproof.cli.report",
    "surgeproof.cli.gate",
    "surgeproof.cli.evidence",
    "surgeproof.cli.verify",
    "surgeproof.cli.keygen",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors on one line: what was wrong, and where the usage is.

    argparse prints the whole usage (18 lines for ``run``) before its error; the house rule is
    one line and exit 2. Subparsers inherit the class, so every subcommand answers alike.
    """

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand that is installed."""
    parser = OneLineParser(
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
    from surgeproof.terminal import sanitized_output

    # Names, labels and messages from files and targets reach the terminal: every line printed
    # passes ``terminal.printable`` (no ESC sequences, control characters or bidi overrides).
    with sanitized_output():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    from surgeproof.cli.gevent_patch import prepare_process
    from surgeproof.errors import UserError
    from surgeproof.rundir.schema import RunDirError

    argv = sys.argv[1:] if argv is None else list(argv)
    prepare_process(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed on one line
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except UserError as exc:  # a value type that raised the house error, not argparse's
        print(f"surgeproof: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        parser.print_help()
        print("surgeproof: error: no COMMAND given", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, RunDirError) as exc:
        print(f"surgeproof {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A file or folder the command was pointed at (or writes to) that the system refuses:
        # the user's environment, not a bug, so one line, not a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        what = exc.strerror or str(exc)
        print(f"surgeproof {args.command}: error: {where}{what}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"surgeproof {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
