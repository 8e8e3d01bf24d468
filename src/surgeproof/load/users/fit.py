"""Whether a dialect can play a scenario's behaviours: said before the run, not as errors in it."""

from __future__ import annotations

from collections.abc import Iterable

from surgeproof.dialect.model import Dialect
from surgeproof.errors import UserError
from surgeproof.load.users.registry import BEHAVIOUR_CLASSES


def needed_actions(dialect: Dialect, behaviour: str) -> frozenset[str]:
    """Actions ``behaviour`` cannot do without when speaking ``dialect``."""
    cls = BEHAVIOUR_CLASSES[behaviour]
    needs = set(cls.needs)
    if dialect.signing.needs_session and needs & _signed(dialect):
        needs.add("login")  # the login's token is what signs
    return frozenset(needs)


def check_fit(dialect: Dialect, behaviours: Iterable[str], websocket: bool = True) -> list[str]:
    """Notes on what will be skipped; a UserError naming the first behaviour that cannot run."""
    notes: list[str] = []
    for name in sorted(set(behaviours)):
        cls = BEHAVIOUR_CLASSES[name]
        missing = sorted(a for a in needed_actions(dialect, name) if not dialect.can(a))
        if missing:
            raise UserError(
                f"dialect {dialect.name} ({dialect.source}) has no {', '.join(missing)}: "
                f"behaviour {name} needs {'it' if len(missing) == 1 else 'them'}; add the "
                f"action{'s' if len(missing) > 1 else ''} to the dialect or take {name} out of "
                "the mix"
            )
        skipped = sorted(a for a in cls.uses if not dialect.can(a))
        if skipped:
            notes.append(f"{name} skips {', '.join(skipped)} (not in dialect {dialect.name})")
        stood_in = sorted(a for a in cls.uses if a not in dialect.actions and dialect.can(a))
        if stood_in and dialect.market_orders is not None:
            notes.append(
                f"{name} sends {', '.join(stood_in)} as limit orders: dialect {dialect.name} has "
                f"no market orders; {dialect.market_orders.describe()}"
            )
        if (
            websocket
            and cls.watches_websocket
            and (dialect.websocket is None or "ticker" not in dialect.websocket.subscribe)
        ):
            notes.append(f"{name} holds no websocket (dialect {dialect.name} describes none)")
    return notes


def _signed(dialect: Dialect) -> set[str]:
    return {name for name, a in dialect.actions.items() if a.signed}
