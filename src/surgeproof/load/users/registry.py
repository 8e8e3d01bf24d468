"""Behaviour name (as scenarios spell it) → behaviour class."""

from __future__ import annotations

from surgeproof.load.users.api_bot import ApiBot
from surgeproof.load.users.app_user import AppUser
from surgeproof.load.users.behaviour import Behaviour
from surgeproof.load.users.market_watcher import MarketWatcher
from surgeproof.load.users.panic_seller import PanicSeller
from surgeproof.load.users.retrying_client import RetryingClient

BEHAVIOUR_CLASSES: dict[str, type[Behaviour]] = {
    cls.name: cls for cls in (MarketWatcher, AppUser, PanicSeller, ApiBot, RetryingClient)
}
#: Behaviours that need account credentials (login or signed calls).
NEEDS_ACCOUNTS = frozenset({"app_user", "panic_seller", "retrying_client"})
