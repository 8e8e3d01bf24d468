"""Credentials of the simulated users' accounts: from the embedded exchange or from a file.

Passwords and API keys are :class:`~surgeproof.secret.Secret` from the moment they are read:
they live only in memory, never print, and are revealed only where a request is signed or
encoded to be sent (``dialect/draft.py`` and the signers).
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from surgeproof.errors import UserError
from surgeproof.secret import Secret

#: Environment variable naming a credentials file for a real target.
ACCOUNTS_ENV = "SURGEPROOF_ACCOUNTS_FILE"


@dataclass(frozen=True)
class Account:
    """One exchange account a simulated user logs into and signs requests for."""

    member_id: str
    password: Secret
    access_key: Secret
    secret_key: Secret

    def __post_init__(self) -> None:
        for name in ("password", "access_key", "secret_key"):
            value = getattr(self, name)
            if not isinstance(value, Secret):
                object.__setattr__(self, name, Secret(value))

    def __repr__(self) -> str:  # the Secrets would say *** anyway; the id is what helps
        return f"Account(member_id={self.member_id!r})"


def accounts_from_rows(rows: list[dict], source: str) -> list[Account]:
    """Accounts from JSON-like rows; a row missing a key is a user error naming ``source``."""
    out = []
    for i, row in enumerate(rows):
        try:
            values = [row[k] for k in _KEYS]
        except (KeyError, TypeError, IndexError):
            raise UserError(f"{source}: account {i} needs {', '.join(_KEYS)}") from None
        for key, value in zip(_KEYS, values, strict=True):
            if not _is_text(value):
                raise UserError(f"{source}: account {i}: {key} must be text or a number")
        out.append(Account(*(str(v) for v in values)))
    return out


_KEYS = ("member_id", "password", "access_key", "secret_key")


def _is_text(value: object) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 64


def fetch_embedded_accounts(base_url: str, timeout_s: float = 10.0) -> list[Account]:
    """All seeded accounts of a surgeproof exchange (its loopback-only ``/admin/accounts``)."""
    url = base_url.rstrip("/") + "/admin/accounts"
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        data = json.loads(resp.read())
    rows = data.get("accounts", data) if isinstance(data, dict) else data
    return accounts_from_rows(list(rows), url)


#: Largest accounts file read (a million accounts in JSON are about 150 MB); checked before
#: reading, so ``/dev/zero`` or a wrong path to a disk image is refused at once.
MAX_ACCOUNTS_FILE_BYTES = 512 << 20


def load_accounts_file(path: str | Path) -> list[Account]:
    """Accounts from a JSON or YAML file: a list of rows, or ``{"accounts": [...]}``.

    Error messages name the file and the row, never a value from it (values are secrets).
    """
    from surgeproof.scenario.yamlfile import parse_yaml, read_text_bounded

    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: accounts file not found")
    text = read_text_bounded(p, f"{p}: accounts file", MAX_ACCOUNTS_FILE_BYTES)
    data: object = None
    if text.lstrip()[:1] in ("[", "{"):
        try:  # JSON, the usual form, parses a hundred times faster than as YAML
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
    if data is None:
        data = parse_yaml(text, f"{p}: accounts file", max_nodes=None)
    rows = data.get("accounts") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise UserError(f"{p}: expected a list of accounts (or an 'accounts:' list)")
    return accounts_from_rows(rows, str(p))


def accounts_for_target(base_url: str, embedded_like: bool, path: str | None) -> list[Account]:
    """The accounts to use: an explicit file, $SURGEPROOF_ACCOUNTS_FILE, or the exchange's own."""
    path = path or os.environ.get(ACCOUNTS_ENV)
    if path:
        return load_accounts_file(path)
    if embedded_like:
        try:
            return fetch_embedded_accounts(base_url)
        except OSError:
            return []
    return []


def require_accounts(accounts: list[Account], behaviours: frozenset[str]) -> None:
    """A UserError when behaviours that log in or sign would run without any account."""
    from surgeproof.load.users.registry import NEEDS_ACCOUNTS

    needing = sorted(behaviours & NEEDS_ACCOUNTS)
    if needing and not accounts:
        raise UserError(
            f"behaviours {', '.join(needing)} need accounts: pass --accounts-file or set "
            "$SURGEPROOF_ACCOUNTS_FILE (the embedded exchange provides its own)"
        )
