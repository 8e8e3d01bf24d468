"""The actions behaviours ask for, whichever API the target speaks.

An action is what a person does (log in, look at the ticker, place a limit order); a dialect
says how its exchange is asked for it. Each action belongs to one endpoint group, the same in
every dialect, so that reports and gates compare exchanges group by group.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Variables every HTTP action may use in its templates.
COMMON_VARS = frozenset({"market", "quote", "base", "uuid", "timestamp_ms", "access_key"})
#: What an answer may give back to the behaviour that asked.
EXTRACTS = ("session_token", "order_id", "price", "order_state", "executed_volume")


@dataclass(frozen=True)
class ActionKind:
    """One action: its group, the variables it brings, whether it submits an order."""

    name: str
    group: str
    summary: str
    variables: frozenset[str] = frozenset()
    order_submit: bool = False


def _kind(name, group, summary, variables=(), order_submit=False) -> ActionKind:
    return ActionKind(name, group, summary, COMMON_VARS | frozenset(variables), order_submit)


ACTIONS: dict[str, ActionKind] = {
    k.name: k
    for k in (
        _kind("login", "login", "the app login: member id and password -> session token",
              ("member_id", "password")),
        _kind("logout", "login", "end the app session", ("session_token",)),
        _kind("ticker", "quotation", "current price of one market"),
        _kind("orderbook", "quotation", "the order book of one market"),
        _kind("trades", "quotation", "recent trades of one market", ("count",)),
        _kind("candles", "quotation", "recent one-minute candles of one market", ("count",)),
        _kind("balances", "account", "the account's balances"),
        _kind("order_chance", "account", "fees and limits for ordering one market"),
        _kind("limit_order", "orders", "a limit order", ("side", "price", "volume"),
              order_submit=True),
        _kind("market_buy", "orders", "a market buy spending an amount of the quote currency",
              ("funds",), order_submit=True),
        _kind("market_sell", "orders", "a market sell of a volume of the base currency",
              ("volume",), order_submit=True),
        _kind("order_status", "orders", "one order's state", ("order_id",)),
        _kind("cancel_order", "orders", "cancel one order", ("order_id",)),
    )
}  # fmt: skip

#: Websocket channels a dialect may say how to subscribe to (group ``websocket``).
CHANNELS = ("ticker", "trades", "orderbook")
#: Variables a subscribe message may use.
WS_VARS = frozenset({"market", "quote", "base", "uuid", "timestamp_ms"})
