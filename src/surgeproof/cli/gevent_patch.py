"""Before any command module loads: gevent patches the standard library for the commands that
run Locust."""

from __future__ import annotations

#: Subcommands that run Locust: gevent must patch the standard library before anything else
#: (``cli`` imports the command modules, which import aiohttp and ssl, after this one).
GEVENT_COMMANDS = frozenset({"run", "worker", "demo"})


def prepare_process(argv: list[str]) -> None:
    """Patch the standard library for gevent when ``argv`` names a command that runs Locust.

    Called by ``cli.main`` with the arguments it will parse, before any command module is
    imported (they import aiohttp and ssl), so an in-process ``main(["run", ...])`` is patched
    as the console script is.
    """
    words = [a for a in argv if not a.startswith("-")]
    if words and words[0] in GEVENT_COMMANDS:
        from gevent import monkey

        if not monkey.is_module_patched("socket"):
            monkey.patch_all()
