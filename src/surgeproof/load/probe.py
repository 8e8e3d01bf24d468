"""``surgeproof dialect probe``: every action of a dialect sent once to a target, answers shown.

The check an SRE runs before pointing a surge at staging: does this target speak the dialect
the run will use? Each action is sent once, in the order a person would (log in, look, order
far from the market, check and cancel the order, two small market orders, subscribe, log out),
through the same request building and answer reading as a run. Secrets are never printed:
the account's keys and the session token are :class:`~surgeproof.secret.Secret`, a request that
cannot be built is a misfit naming its template and variable (never the value), and whatever
the target answers is shown with those secrets redacted in case it echoed one back.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from surgeproof.dialect.answer import read_answer
from surgeproof.dialect.catalog import load_dialect
from surgeproof.dialect.draft import RequestError
from surgeproof.dialect.model import Dialect, HttpAction
from surgeproof.load.accounts import accounts_for_target
from surgeproof.load.dialect_choice import ws_url_for
from surgeproof.load.target import check_target_url, check_ws_url, is_loopback_url
from surgeproof.load.users import act
from surgeproof.load.users.act import Act
from surgeproof.secret import Secret, redact, reveal

#: The order a person does things in; order_status and cancel_order use limit_order's id.
ORDER = (
    "login", "ticker", "orderbook", "trades", "candles", "balances", "order_chance",
    "limit_order", "order_status", "cancel_order", "market_buy", "market_sell",
)  # fmt: skip
#: How far below the market the probe's limit order sits, so that it never fills.
LIMIT_AWAY = 0.3


@dataclass
class Probed:
    """What one action's single call showed."""

    action: str
    request: str
    status: int | None = None
    latency_ms: float | None = None
    got: str = ""
    fits: bool | None = None  # None: not sent
    why: str = ""


def probe(
    target: str,
    dialect_ref: str,
    allow_remote: bool = False,
    accounts_file: str | None = None,
    market: str = "KRW-BTC",
    timeout_s: float = 10.0,
    skip: set[str] | None = None,
) -> int:
    """Probe ``target``; prints a table; 0 when every action sent fits, 1 otherwise."""
    url = check_target_url(target, allow_remote)
    dialect = load_dialect(dialect_ref)
    skip = skip or set()
    loopback = is_loopback_url(url)
    accounts = accounts_for_target(url, loopback, accounts_file)
    account = accounts[0] if accounts else None
    where = "loopback" if loopback else "REMOTE, allowed by --allow-remote-target"
    print(f"surgeproof dialect probe: {dialect.name} ({dialect.source}) at {url} ({where})")
    session = _Session(dialect, url, account, market, timeout_s)
    results = [session.run(name) for name in ORDER if name in dialect.actions and name not in skip]
    ws_url = ws_url_for(dialect, url, None)
    if ws_url and "websocket" not in skip:
        check_ws_url(ws_url, allow_remote)
        results.append(_websocket(dialect, ws_url, market, timeout_s))
    if "logout" in dialect.actions and "logout" not in skip:
        results.append(session.run("logout"))
    _print(results, session.secrets())
    misfits = [r for r in results if r.fits is False]
    sent = [r for r in results if r.fits is not None]
    if misfits:
        names = ", ".join(r.action for r in misfits)
        print(f"{len(misfits)} of {len(sent)} actions do not fit dialect {dialect.name}: {names}")
        return 1
    unsent = [r for r in results if r.fits is None]
    tail = f"; not sent: {', '.join(r.action for r in unsent)}" if unsent else ""
    print(f"all {len(sent)} actions sent fit dialect {dialect.name}{tail}")
    return 0


class _Session:
    """One probing person: an account, a session token once logged in, the last order id."""

    def __init__(self, dialect: Dialect, url: str, account, market: str, timeout_s: float):
        self.dialect = dialect
        self.url = url
        self.account = account
        self.market = market
        self.timeout_s = timeout_s
        self.session_token: Secret | None = None
        self.order_id: str | None = None
        self.price = 100_000_000.0

    def secrets(self) -> list[Secret | None]:
        """What must not show in anything printed: the account's keys, the session token."""
        a = self.account
        keys = [a.password, a.access_key, a.secret_key] if a is not None else []
        return [*keys, self.session_token]

    def run(self, name: str) -> Probed:
        spec = self.dialect.actions[name]
        out = Probed(name, spec.name)
        needs_account = spec.signed and self.dialect.signing.needs_keys
        if (name == "login" or needs_account) and self.account is None:
            out.why = "no account (pass --accounts-file)"
            return out
        if spec.signed and self.dialect.signing.needs_session and self.session_token is None:
            out.why = "no session (the login did not give one)"
            return out
        a = self._act(name)
        if a is None:
            out.why = "no order id (limit_order gave none)"
            return out
        return self._send(spec, a, out)

    def _act(self, name: str) -> Act | None:
        if name == "login":
            return act.login(self.account.member_id, self.account.password)
        if name == "limit_order":
            return act.limit_order("bid", self.price, away=LIMIT_AWAY)
        if name in ("order_status", "cancel_order"):
            if self.order_id is None:
                return None
            return (
                act.order_status(self.order_id)
                if name == "order_status"
                else (act.cancel_order(self.order_id))
            )
        if name == "market_buy":
            return act.market_buy()
        if name == "market_sell":
            return act.market_sell()
        if name == "ticker":
            return act.TICKER_PRICE
        return {"trades": act.TRADES, "candles": act.CANDLES}.get(name, Act(name))

    def _send(self, spec: HttpAction, a: Act, out: Probed) -> Probed:
        values = self.dialect.market_vars(self.market)
        values.update(a.values)
        try:
            draft = self.dialect.draft(spec, values, self.account, self.session_token)
        except RequestError as exc:
            out.fits, out.why = False, f"cannot build the request: {exc}"
            return out
        headers = {"X-Client-Id": "surgeproof-probe", **draft.headers}
        parts = urlsplit(self.url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        base = parts.path.rstrip("/")
        start = time.perf_counter()
        try:
            conn = cls(parts.hostname, parts.port, timeout=self.timeout_s)
            try:
                conn.request(spec.method, base + draft.target, draft.body_bytes, headers)
                resp = conn.getresponse()
                content = resp.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            out.fits, out.why = False, f"no answer: {type(exc).__name__}: {exc}"
            return out
        out.latency_ms = (time.perf_counter() - start) * 1000
        out.status = resp.status
        reading = read_answer(self.dialect, spec, resp.status, resp.getheader, content, a.wants)
        if reading.kind is not None:
            code = f" (code {reading.code})" if reading.code else ""
            out.fits, out.why = False, f"{reading.kind}{code}: {_excerpt(content)}"
            return out
        out.fits = True
        out.got, missing = self._took(spec, a, reading.fields)
        if missing:
            out.fits = False
            out.why = f"the answer has no {missing} at {spec.extract[missing].text}"
        return out

    def _took(self, spec: HttpAction, a: Act, fields: dict[str, Any]) -> tuple[str, str | None]:
        """What the answer gave (secrets as lengths only), and a wanted field it lacked."""
        shown = []
        for name in a.wants:
            if name not in spec.extract:
                continue
            value = fields.get(name)
            if value is None:
                return "", name
            if name == "session_token":
                self.session_token = value if isinstance(value, Secret) else Secret(str(value))
                shown.append(f"session token ({len(str(reveal(self.session_token)))} chars)")
            elif name == "order_id":
                self.order_id = str(value)
                shown.append(f"order_id={value}")
            elif name == "price":
                try:
                    price = float(value)
                except (TypeError, ValueError):
                    return "", name
                if price <= 0:
                    return "", name
                self.price = price
                shown.append(f"price={value}")
        return ", ".join(shown), None


def _websocket(dialect: Dialect, url: str, market: str, timeout_s: float) -> Probed:
    """Subscribe to the ticker and wait for the first market-data message."""
    import websocket

    from surgeproof.load.subscription import MARKER_WINDOW, subscribe_message

    spec = dialect.websocket
    assert spec is not None
    out = Probed("websocket", f"WS {url} (ticker)")
    if "ticker" not in spec.subscribe:
        out.why = "the dialect has no ticker subscription"
        return out
    start = time.perf_counter()
    try:
        ws = websocket.create_connection(url, timeout=timeout_s)
    except websocket.WebSocketBadStatusException as exc:
        out.status, out.fits, out.why = exc.status_code, False, f"upgrade refused: {exc}"
        return out
    except (OSError, websocket.WebSocketException) as exc:
        out.fits, out.why = False, f"no connection: {type(exc).__name__}: {exc}"
        return out
    out.status = 101
    try:
        ws.send(subscribe_message(spec, "ticker", dialect.market_vars(market)))
        sent = time.perf_counter()
        deadline = sent + timeout_s
        while time.perf_counter() < deadline:
            ws.settimeout(max(0.1, deadline - time.perf_counter()))
            opcode, data = ws.recv_data(control_frame=False)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                out.fits, out.why = False, "closed by the server before any market data"
                return out
            text = data[:MARKER_WINDOW] if isinstance(data, bytes) else str(data).encode()
            if spec.data_marker is None or spec.data_marker in text:
                out.latency_ms = (time.perf_counter() - start) * 1000
                out.fits = True
                out.got = (
                    f"market data {1000 * (time.perf_counter() - sent):.0f} ms after subscribe"
                )
                return out
        out.fits, out.why = False, f"no market data within {timeout_s:g} s"
    except (OSError, websocket.WebSocketException) as exc:
        out.fits, out.why = False, f"no market data: {type(exc).__name__}: {exc}"
    finally:
        ws.close(timeout=0.5)
    return out


def _excerpt(content: bytes, limit: int = 120) -> str:
    try:
        text = json.dumps(json.loads(content), ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        text = content.decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _print(results: list[Probed], secrets: list[Secret | None]) -> None:
    print(f"{'action':<14} {'request':<46} {'status':>6} {'ms':>8}  answer")
    for r in results:
        status = str(r.status) if r.status is not None else "-"
        ms = f"{r.latency_ms:.1f}" if r.latency_ms is not None else "-"
        if r.fits is None:
            verdict = f"not sent: {r.why}"
        elif r.fits:
            verdict = f"ok {r.got}".rstrip()
        else:
            verdict = f"DOES NOT FIT: {r.why}"
        line = f"{r.action:<14} {r.request:<46} {status:>6} {ms:>8}  {verdict}"
        print(redact(line, secrets))
    sys.stdout.flush()
