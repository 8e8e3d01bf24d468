"""A dialect, compiled: how each action is asked for and how each answer is read."""

from __future__ import annotations

import binascii
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from surgeproof.dialect.actions import ActionKind
from surgeproof.dialect.draft import Draft, RequestError
from surgeproof.dialect.orders import MarketOrders, ReconcileRules
from surgeproof.dialect.pattern import Pattern
from surgeproof.dialect.pointer import Pointer
from surgeproof.dialect.signing import Signer
from surgeproof.dialect.template import RenderError, Template
from surgeproof.secret import Secret, reveal

#: What an answer can mean to the behaviour and the recorder, beyond "it worked".
ERROR_KINDS = ("client_error", "rate_limited", "blocked", "server_error", "session_expired")
#: Variables that do not change from call to call for one market: an action using only these
#: (and not signed, not carrying a session) is rendered once per market and reused.
STATIC_VARS = frozenset({"market", "quote", "base"})


@dataclass(frozen=True)
class HttpAction:
    """One action as this dialect's exchange is asked for it."""

    kind: ActionKind
    method: str
    path: Template
    query: Template | None
    body: Template | None
    signed: bool
    session: bool
    extract: dict[str, Pointer]

    @property
    def name(self) -> str:
        """The endpoint as recorded: method and path template (``GET /v1/ticker``)."""
        return f"{self.method} {self.path.source}"

    @property
    def group(self) -> str:
        return self.kind.group

    @property
    def static(self) -> bool:
        used = self.path.variables
        for t in (self.query, self.body):
            if t is not None:
                used = used | t.variables
        return not self.signed and not self.session and used <= STATIC_VARS


@dataclass(frozen=True)
class ErrorRules:
    """How an answer says it failed: its HTTP status, or (some APIs) a field of a 2xx body."""

    body_pointer: Pointer | None = None
    body_equals: Any = None
    code_pointer: Pointer | None = None
    #: HTTP status -> one of ERROR_KINDS, where the default reading (429 rate limited, 418
    #: blocked, 5xx server error, other 4xx client error) does not fit
    statuses: dict[int, str] = field(default_factory=dict)
    #: the exchange's error code (as text) -> one of ERROR_KINDS
    codes: dict[str, str] = field(default_factory=dict)
    #: bytes that a body flagging an error must contain (a cheap test before parsing JSON)
    marker: bytes | None = None


@dataclass(frozen=True)
class RateLimitRule:
    """A header saying how many calls are left in the current second (Upbit's Remaining-Req)."""

    header: str
    remaining: Pattern  # group 1 is the calls left (RE2: linear time, whatever the pattern)


@dataclass(frozen=True)
class WebSocketSpec:
    """Where the exchange's public websocket is and how to subscribe to a channel there."""

    path: str | None
    url: str | None
    subscribe: dict[str, Template]
    #: bytes a data message carries near its start (None: every data frame is market data)
    data_marker: bytes | None = None
    #: (message, every_s): what to send to keep an idle subscription open, and how often
    keepalive: tuple[bytes, float] | None = None


@dataclass(frozen=True)
class Dialect:
    """Everything surgeproof needs to speak one exchange's API."""

    name: str
    description: str
    source: str  # "builtin:upbit" or the file's path
    text: str  # the dialect file as written (copied into run directories)
    market: Template
    sides: dict[str, str]
    signing: Signer
    session_headers: Template | None
    actions: dict[str, HttpAction]
    errors: ErrorRules
    rate_limit: RateLimitRule | None
    websocket: WebSocketSpec | None
    login_note: str = ""
    #: How ``order_status`` answers are read (reconciliation after a run); None: not said.
    reconcile: ReconcileRules | None = None
    #: Market orders sent as marketable limit orders (an exchange without market orders).
    market_orders: MarketOrders | None = None
    _static: dict[tuple[str, str], tuple[str, bytes | None, dict[str, str]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _markets: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def has(self, action: str) -> bool:
        return action in self.actions

    def can(self, action: str) -> bool:
        """Whether a person can do ``action``: the dialect has it, or a stand-in for it."""
        if action in self.actions:
            return True
        return self.market_orders is not None and action in ("market_buy", "market_sell")

    def market_vars(self, market: str) -> dict[str, Any]:
        """``market``, ``quote`` and ``base`` of a ``KRW-BTC`` code, as this exchange writes them
        (a fresh dict: the caller adds the action's own values to it)."""
        values = self._markets.get(market)
        if values is None:
            quote, _, base = market.partition("-")
            values = {"quote": quote, "base": base}
            values["market"] = self.market(values)
            self._markets[market] = values
        return dict(values)

    def draft(
        self,
        action: HttpAction,
        values: dict[str, Any],
        creds: Any = None,
        session_token: Secret | str | None = None,
    ) -> Draft:
        """The request for ``action`` with ``values`` (market vars included), signed.

        A RequestError (naming the action, its template and variables, never a value) when the
        values cannot make a request: a filter that cannot take one, a header or path that
        cannot go on the wire, a signer that cannot sign with the account's keys.
        """
        values["uuid"] = nonce = str(uuid.uuid4())
        values["timestamp_ms"] = now_ms = time.time_ns() // 1_000_000
        values["access_key"] = creds.access_key if creds is not None else ""
        if session_token is not None:  # logout's templates may name it
            values["session_token"] = session_token
        if "side" in values:
            values["side"] = self.sides.get(values["side"], values["side"])
        try:
            d = Draft(
                action.method,
                str(reveal(action.path(values))),
                action.query(values) if action.query is not None else None,
                action.body(values) if action.body is not None else None,
                nonce,
                now_ms,
            )
        except RenderError as exc:
            raise RequestError(f"{action.name}: {exc}") from None
        try:
            d.check_target()
        except RequestError as exc:
            used = ", ".join(f"{{{v}}}" for v in sorted(action.path.variables)) or "no variable"
            raise RequestError(f"{action.name}: path from {used}: {exc}") from None
        try:
            if action.session and session_token and self.session_headers is not None:
                for name, value in self.session_headers({"session_token": session_token}).items():
                    d.set_header(name, value)
        except (RequestError, RenderError) as exc:
            raise RequestError(f"{action.name}: session headers: {exc}") from None
        if action.signed:
            self._sign(action, d, creds, session_token)
        return d

    def _sign(self, action: HttpAction, d: Draft, creds: Any, session_token: Any) -> None:
        try:
            self.signing.sign(d, creds, session_token)
        except (RequestError, RenderError) as exc:
            raise RequestError(f"{action.name}: signing ({self.signing.scheme}): {exc}") from None
        except (ValueError, TypeError, binascii.Error) as exc:
            # Only the kind of failure: a signer's own message may quote the key it choked on.
            raise RequestError(
                f"{action.name}: signing ({self.signing.scheme}) failed with the account's keys "
                f"({type(exc).__name__})"
            ) from None

    def static_request(
        self, action: HttpAction, market: str
    ) -> tuple[str, bytes | None, dict[str, str]]:
        """(target, body, headers) of a static action for ``market``, rendered once."""
        key = (action.kind.name, market)
        hit = self._static.get(key)
        if hit is None:
            d = self.draft(action, self.market_vars(market))
            hit = self._static[key] = (d.target, d.body_bytes, dict(d.headers))
        return hit

    def describe(self) -> str:
        """One line: name, signing, actions and websocket."""
        ws = "websocket" if self.websocket else "no websocket"
        return (
            f"{self.name}: {len(self.actions)} actions, signing {self.signing.scheme}, {ws} "
            f"({self.source})"
        )
