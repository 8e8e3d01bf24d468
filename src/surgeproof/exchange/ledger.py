"""Balances of every account in integer units: available, locked, fees, deposits.

Conservation: for each asset, the sum over accounts of available + locked, plus fees collected,
equals what was deposited. Every mutation below moves units, never creates them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


class InsufficientFunds(Exception):
    """An account has fewer available units than an order needs."""


@dataclass
class Balance:
    available: int = 0
    locked: int = 0


@dataclass
class Ledger:
    """All balances, keyed by account id and asset (``KRW``, ``BTC``, ...)."""

    balances: dict[str, dict[str, Balance]] = field(default_factory=dict)
    deposited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fees: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: Average buy price per (account, asset) in KRW units, as Upbit's /v1/accounts shows.
    avg_buy: dict[tuple[str, str], int] = field(default_factory=dict)

    def balance(self, account: str, asset: str) -> Balance:
        """The (created if absent) balance of one asset of one account."""
        assets = self.balances.setdefault(account, {})
        bal = assets.get(asset)
        if bal is None:
            bal = assets[asset] = Balance()
        return bal

    def deposit(self, account: str, asset: str, units: int) -> None:
        """The only way units enter the system."""
        self.balance(account, asset).available += units
        self.deposited[asset] += units

    def lock(self, account: str, asset: str, units: int) -> None:
        """Move units from available to locked, or raise InsufficientFunds."""
        bal = self.balance(account, asset)
        if units > bal.available:
            raise InsufficientFunds(asset)
        bal.available -= units
        bal.locked += units

    def unlock(self, account: str, asset: str, units: int) -> None:
        """Release locked units back to available."""
        bal = self.balance(account, asset)
        if units > bal.locked:
            raise AssertionError(f"unlock {units} > locked {bal.locked} of {account} {asset}")
        bal.locked -= units
        bal.available += units

    def pay_locked(self, payer: str, payee: str, asset: str, units: int, fee: int = 0) -> None:
        """Payer's locked units go to payee (minus ``fee``, which the exchange collects)."""
        bal = self.balance(payer, asset)
        if units > bal.locked:
            raise AssertionError(f"pay {units} > locked {bal.locked} of {payer} {asset}")
        bal.locked -= units
        self.balance(payee, asset).available += units - fee
        self.fees[asset] += fee

    def collect_fee_locked(self, account: str, asset: str, units: int) -> None:
        """A fee taken from the account's locked units."""
        bal = self.balance(account, asset)
        if units > bal.locked:
            raise AssertionError(f"fee {units} > locked {bal.locked} of {account} {asset}")
        bal.locked -= units
        self.fees[asset] += units

    def totals(self) -> dict[str, dict[str, int | bool]]:
        """Per asset: deposited, available, locked, fees, and whether they balance."""
        out: dict[str, dict[str, int | bool]] = {}
        assets = set(self.deposited) | set(self.fees)
        for assets_of in self.balances.values():
            assets |= set(assets_of)
        for asset in sorted(assets):
            available = sum(a[asset].available for a in self.balances.values() if asset in a)
            locked = sum(a[asset].locked for a in self.balances.values() if asset in a)
            fees = self.fees.get(asset, 0)
            deposited = self.deposited.get(asset, 0)
            out[asset] = {
                "deposited": deposited,
                "available": available,
                "locked": locked,
                "fees": fees,
                "conserved": available + locked + fees == deposited,
            }
        return out
