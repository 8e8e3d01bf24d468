"""Seeded demo accounts: member login credentials plus an Upbit API key pair each."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Account:
    member_id: str
    password: str
    access_key: str
    secret_key: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _token(rng: random.Random, chars: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(chars))


def seed_accounts(count: int, seed: int) -> list[Account]:
    """``count`` accounts, the same for the same seed (so runs are reproducible)."""
    rng = random.Random(seed)
    return [
        Account(
            member_id=f"member{i:05d}",
            password=_token(rng, 12),
            access_key=_token(rng, 40),
            secret_key=_token(rng, 40),
        )
        for i in range(1, count + 1)
    ]
