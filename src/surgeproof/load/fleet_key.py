"""The fleet key: the secret a run's master and every one of its workers share.

It comes from a file (``--fleet-key-file PATH`` on ``run`` and ``worker``) or the environment
(``SURGEPROOF_FLEET_KEY``), the file first. A run whose workers are all its own (``--workers N``)
makes one itself and hands it to the worker processes in their environment — never on a
command line, which ``ps`` shows to every user. A key is text (so that it fits a file, an
environment variable and a Kubernetes Secret alike): at least 32 printable ASCII characters, e.g.
``openssl rand -hex 32``. It is held as a :class:`~surgeproof.secret.Secret` and never printed.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass

from surgeproof.errors import UserError
from surgeproof.secret import Secret

FLEET_KEY_ENV = "SURGEPROOF_FLEET_KEY"
FLEET_KEY_FLAG = "--fleet-key-file"
#: A key shorter than this is refused: 32 hex characters are 128 bits.
MIN_KEY_CHARS = 32
MAX_KEY_CHARS = 1024
#: A key file larger than this is not a key (read no further than this).
MAX_KEY_FILE_BYTES = 4096
HOW_TO_MAKE = "make one with: openssl rand -hex 32 > fleet.key; chmod 600 fleet.key"


@dataclass(frozen=True)
class FleetKey:
    """The key and where it came from (``run.json`` records the latter, never the former)."""

    secret: Secret
    #: "--fleet-key-file" | "SURGEPROOF_FLEET_KEY" | "generated"
    origin: str

    def env(self) -> dict[str, str]:
        """The environment that hands this key to a child worker process."""
        value = self.secret.reveal()
        return {FLEET_KEY_ENV: value.decode() if isinstance(value, bytes) else value}


def new_fleet_key() -> FleetKey:
    """A fresh random key for a run whose workers are all started by it."""
    return FleetKey(Secret(secrets.token_hex(32)), "generated")


def find_fleet_key(path: str | None, environ: dict[str, str] | None = None) -> FleetKey | None:
    """The key from ``path`` (``--fleet-key-file``), else ``$SURGEPROOF_FLEET_KEY``, else None.

    A file or value that is not a usable key is a :class:`UserError` naming the file or the
    variable and what a key must be — never the value."""
    if path:
        return FleetKey(_read_key_file(path), FLEET_KEY_FLAG)
    env = os.environ if environ is None else environ
    value = env.get(FLEET_KEY_ENV)
    if value is None:
        return None
    return FleetKey(_checked(value, f"${FLEET_KEY_ENV}"), FLEET_KEY_ENV)


def missing_key_error(who: str) -> UserError:
    """The one line for a fleet that needs a key and has none."""
    return UserError(
        f"{who}: no fleet key: give {FLEET_KEY_FLAG} PATH or set ${FLEET_KEY_ENV}, the same key "
        f"on the master and every worker ({HOW_TO_MAKE})"
    )


def _read_key_file(path: str) -> Secret:
    shown = f"{FLEET_KEY_FLAG} {path}"
    try:
        # Non-blocking: a FIFO named as the key file is refused, not waited on forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise UserError(f"{shown}: not a regular file")
            raw = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{shown}: cannot read it: {exc.strerror or exc}") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise UserError(f"{shown}: larger than {MAX_KEY_FILE_BYTES} bytes; not a key file")
    if st.st_mode & stat.S_IRWXO:  # group-readable is how Kubernetes mounts it (fsGroup)
        print(
            f"surgeproof: WARNING {shown}: every user of this machine may read it (mode "
            f"{stat.S_IMODE(st.st_mode):04o}); chmod 600 {path}",
            flush=True,
        )
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise UserError(f"{shown}: expected printable ASCII characters ({HOW_TO_MAKE})") from None
    return _checked(text, shown)


def _checked(text: str, shown: str) -> Secret:
    key = text.strip()
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise UserError(f"{shown}: expected one word of printable ASCII characters ({HOW_TO_MAKE})")
    if len(key) < MIN_KEY_CHARS:
        raise UserError(
            f"{shown}: expected a key of at least {MIN_KEY_CHARS} characters, got {len(key)} "
            f"({HOW_TO_MAKE})"
        )
    if len(key) > MAX_KEY_CHARS:
        raise UserError(f"{shown}: expected at most {MAX_KEY_CHARS} characters, got {len(key)}")
    return Secret(key)
