"""Credentials of the simulated users' accounts: from the embedded exchange or from a file.

Secrets live only in memory: never in the run directory, logs or progress output.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from surgeproof.errors import UserError

#: Environment variable naming a credentials file for a real target.
ACCOUNTS_ENV = "SURGEPROOF_ACCOUNTS_FILE"


@dataclass(frozen=True)
class Account:
    """One exchange account a simulated user logs into and signs requests for."""

    member_id: str
    password: str
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # keeps secrets out of tracebacks and logs
        return f"Account(member_id={self.member_id!r})"


def accounts_from_rows(rows: list[dict], source: str) -> list[Account]:
    """Accounts from JSON-like rows; a row missing a key is a user error naming ``source``."""
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(
                Account(
                    str(row["member_id"]),
                    str(row["password"]),
                    str(row["access_key"]),
                    str(row["secret_key"]),
                )
            )
        except (KeyError, TypeError):
            raise UserError(
                f"{source}: account {i} needs member_id, password, access_key, secret_key"
            ) from None
    return out


def fetch_embedded_accounts(base_url: str, timeout_s: float = 10.0) -> list[Account]:
    """All seeded accounts of a surgeproof exchange (its loopback-only ``/admin/accounts``)."""
    url = base_url.rstrip("/") + "/admin/accounts"
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        data = json.loads(resp.read())
    rows = data.get("accounts", data) if isinstance(data, dict) else data
    return accounts_from_rows(list(rows), url)


def load_accounts_file(path: str | Path) -> list[Account]:
    """Accounts from a JSON or YAML file: a list of rows, or ``{"accounts": [...]}``."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: accounts file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"{p}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
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
