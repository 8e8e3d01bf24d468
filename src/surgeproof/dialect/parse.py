"""Dialect files: YAML → a compiled Dialect, or a ScenarioError naming file, field and want.

The format is documented in ``FORMAT.md`` beside this module; the built-in dialects in
``builtin/`` are written in it and are the best examples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from surgeproof.dialect.actions import ACTIONS, CHANNELS, EXTRACTS, WS_VARS
from surgeproof.dialect.model import (
    ERROR_KINDS,
    Dialect,
    ErrorRules,
    HttpAction,
    RateLimitRule,
    WebSocketSpec,
)
from surgeproof.dialect.orders import parse_market_orders, parse_reconcile
from surgeproof.dialect.pattern import Pattern, PatternError
from surgeproof.dialect.pointer import PointerError, compile_pointer
from surgeproof.dialect.signing import parse_signing
from surgeproof.dialect.template import Template, TemplateError, compile_template
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.fields import Field

TOP_KEYS = (
    "name", "description", "extends", "login_note", "market", "sides", "signing", "session",
    "errors", "rate_limit", "actions", "websocket", "reconcile", "market_orders",
)  # fmt: skip
ACTION_KEYS = ("method", "path", "query", "body", "signed", "session", "extract")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Which answer fields each action may hand back to its behaviour.
EXTRACTABLE = {
    "login": ("session_token",),
    "ticker": ("price",),
    "limit_order": ("order_id",),
    "market_buy": ("order_id",),
    "market_sell": ("order_id",),
    "order_status": ("order_state", "executed_volume"),
    "cancel_order": ("executed_volume",),
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

#: Finds the document an ``extends:`` names (a built-in name or a path next to the file).
ExtendsLookup = Callable[[Field], dict[str, Any]]


def merge_extends(doc: Any, source: str, lookup: ExtendsLookup) -> Any:
    """The document with its ``extends:`` base merged under it (actions merged one by one)."""
    if not isinstance(doc, dict) or "extends" not in doc:
        return doc
    base = lookup(Field(source, "extends", doc["extends"]))
    merged = {k: v for k, v in base.items() if k != "extends"}
    for key, value in doc.items():
        if key == "extends":
            continue
        if key == "actions" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            actions = dict(merged["actions"])
            for name, spec in value.items():
                if spec is None:
                    actions.pop(name, None)  # ``ticker: null``: this exchange has none
                else:
                    actions[name] = spec
            merged["actions"] = actions
        else:
            merged[key] = value
    return merged


def parse_dialect(doc: Any, source: str, text: str) -> Dialect:
    """A compiled Dialect from a parsed (and ``extends``-merged) document."""
    root = Field(source, "", doc)
    top = root.fields(TOP_KEYS, required=("name", "actions"))
    name = top["name"].text()
    if not _NAME.match(name):
        raise top["name"].expected("a lower-case name of letters, digits, '-', '_', '.'")
    signing = (
        parse_signing(top["signing"])
        if "signing" in top
        else parse_signing(Field(source, "signing", {"scheme": "none"}))
    )
    session_headers = _session(top.get("session"))
    actions = {
        key: _action(f, signing, session_headers)
        for key, f in top["actions"].fields(tuple(ACTIONS), noun="action").items()
    }
    if not actions:
        raise top["actions"].expected("at least one action (ticker, login, limit_order, ...)")
    _check_login(top["actions"], actions, signing)
    return Dialect(
        name=name,
        description=top["description"].text() if "description" in top else "",
        source=source,
        text=text,
        market=_template(top.get("market") or Field(source, "market", "{quote}-{base}"),
                         frozenset({"quote", "base"})),
        sides=_sides(top.get("sides")),
        signing=signing,
        session_headers=session_headers,
        actions=actions,
        errors=_errors(top.get("errors")),
        rate_limit=_rate_limit(top.get("rate_limit")),
        websocket=_websocket(top.get("websocket")),
        login_note=top["login_note"].text() if "login_note" in top else "",
        reconcile=parse_reconcile(top.get("reconcile")),
        market_orders=parse_market_orders(top.get("market_orders"), actions),
    )  # fmt: skip


def _template(f: Field, allowed: frozenset[str]) -> Template:
    try:
        return compile_template(f.value, allowed)
    except TemplateError as exc:
        raise f.error(str(exc)) from None


def _action(f: Field, signing, session_headers: Template | None) -> HttpAction:
    kind = ACTIONS[f.path.rsplit(".", 1)[-1]]
    spec = f.fields(ACTION_KEYS, required=("method", "path"))
    method = spec["method"].text().upper()
    if method not in METHODS:
        raise spec["method"].expected("one of " + ", ".join(METHODS))
    path_f = spec["path"]
    if not isinstance(path_f.value, str) or not path_f.value.startswith("/"):
        raise path_f.expected("a path starting with '/', like /v1/ticker")
    path = _template(path_f, kind.variables)
    query = _mapping_template(spec.get("query"), kind.variables)
    body = _mapping_template(spec.get("body"), kind.variables)
    if body is not None and method == "GET":
        raise spec["body"].error("a GET carries no body; put these in 'query'")
    signed = spec["signed"].boolean() if "signed" in spec else False
    if signed and signing.scheme == "none":
        raise spec["signed"].error("signed, but the dialect has no 'signing' scheme")
    session = spec["session"].boolean() if "session" in spec else False
    if session and session_headers is None:
        raise spec["session"].error("carries the session, but the dialect has no 'session' headers")
    extract = {}
    if "extract" in spec:
        allowed = EXTRACTABLE.get(kind.name, ())
        if not allowed:
            raise spec["extract"].error(f"{kind.name} hands nothing back to its behaviour")
        for key, pf in spec["extract"].fields(allowed, noun="field").items():
            assert key in EXTRACTS
            if not isinstance(pf.value, str):
                raise pf.expected("a path like /0/trade_price")
            try:
                extract[key] = compile_pointer(pf.value)
            except PointerError as exc:
                raise pf.error(str(exc)) from None
    return HttpAction(kind, method, path, query, body, signed, session, extract)


def _mapping_template(f: Field | None, allowed: frozenset[str]) -> Template | None:
    if f is None or f.value is None:
        return None
    if not isinstance(f.value, dict):
        raise f.expected("a mapping of parameter name to template")
    return _template(f, allowed)


def _check_login(f: Field, actions: dict[str, HttpAction], signing) -> None:
    """A dialect whose calls carry a session must say how the session is obtained."""
    needs = [a.kind.name for a in actions.values() if a.session] + (
        [a.kind.name for a in actions.values() if a.signed] if signing.needs_session else []
    )
    if not needs:
        return
    login = actions.get("login")
    if login is None:
        raise f.error(f"{needs[0]} carries the app session, but there is no 'login' action")
    if "session_token" not in login.extract:
        where = Field(f.source, f"{f.path}.login.extract", None)
        raise where.error("the login must say where its answer keeps session_token")


def _session(f: Field | None) -> Template | None:
    if f is None:
        return None
    spec = f.fields(("headers",), required=("headers",))
    hf = spec["headers"]
    if not isinstance(hf.value, dict) or not hf.value:
        raise hf.expected("a mapping of header name to template with {session_token}")
    t = _template(hf, frozenset({"session_token"}))
    if "session_token" not in t.variables:
        raise hf.error("no header carries {session_token}")
    return t


def _sides(f: Field | None) -> dict[str, str]:
    if f is None:
        return {"bid": "bid", "ask": "ask"}
    spec = f.fields(("bid", "ask"), required=("bid", "ask"))
    return {k: v.text() for k, v in spec.items()}


def _errors(f: Field | None) -> ErrorRules:
    if f is None:
        return ErrorRules()
    spec = f.fields(("body", "code", "statuses", "codes"))
    body_pointer = body_equals = marker = None
    if "body" in spec:
        b = spec["body"].fields(("pointer", "equals"), required=("pointer", "equals"))
        body_pointer = _pointer(b["pointer"])
        body_equals = b["equals"].value
        if not isinstance(body_equals, str | int | bool):
            raise b["equals"].expected("text, a number or true/false")
        marker = json.dumps(body_equals).encode()
    statuses: dict[int, str] = {}
    if "statuses" in spec:
        sf = spec["statuses"]
        if not isinstance(sf.value, dict):
            raise sf.expected("a mapping of HTTP status to error kind")
        for key, value in sf.value.items():
            where = Field(f.source, f"{sf.path}.{key}", value)
            if isinstance(key, bool) or not isinstance(key, int) or not 100 <= key <= 599:
                raise where.error("expected an HTTP status (100-599) as the key")
            statuses[key] = _kind(where)
    codes: dict[str, str] = {}
    if "codes" in spec:
        cf = spec["codes"]
        if not isinstance(cf.value, dict):
            raise cf.expected("a mapping of the exchange's error code to error kind")
        for key, value in cf.value.items():
            codes[str(key)] = _kind(Field(f.source, f"{cf.path}.{key}", value))
    return ErrorRules(
        body_pointer=body_pointer,
        body_equals=body_equals,
        code_pointer=_pointer(spec["code"]) if "code" in spec else None,
        statuses=statuses,
        codes=codes,
        marker=marker,
    )


def _kind(f: Field) -> str:
    if f.value not in ERROR_KINDS:
        raise f.expected("one of " + ", ".join(ERROR_KINDS))
    return str(f.value)


def _pointer(f: Field):
    try:
        return compile_pointer(f.value)
    except PointerError as exc:
        raise f.error(str(exc)) from None


def _rate_limit(f: Field | None) -> RateLimitRule | None:
    if f is None:
        return None
    spec = f.fields(("header", "remaining"), required=("header", "remaining"))
    pattern = spec["remaining"].text()
    try:
        rx = Pattern(pattern)
    except PatternError as exc:
        raise spec["remaining"].error(
            f"not a regular expression RE2 takes ({exc}); patterns are matched in linear time, "
            "so backreferences and look-around are not available"
        ) from None
    if rx.groups < 1:
        raise spec["remaining"].error("needs one (group) capturing the calls left, like sec=(\\d+)")
    return RateLimitRule(spec["header"].text(), rx)


def _websocket(f: Field | None) -> WebSocketSpec | None:
    if f is None:
        return None
    spec = f.fields(
        ("path", "url", "subscribe", "data_marker", "keepalive"), required=("subscribe",)
    )
    if ("path" in spec) == ("url" in spec):
        raise f.error("expected exactly one of 'path' (on the target's host) or 'url'")
    path = url = None
    if "path" in spec:
        path = spec["path"].text()
        if not path.startswith("/"):
            raise spec["path"].expected("a path starting with '/'")
    else:
        url = spec["url"].text()
        if not re.match(r"^wss?://[^/]+", url):
            raise spec["url"].expected("a ws:// or wss:// URL")
    subscribe = {}
    for channel, cf in spec["subscribe"].fields(CHANNELS, noun="channel").items():
        if not isinstance(cf.value, list | dict | str):
            raise cf.expected("the subscribe message: a JSON list or mapping (or text)")
        subscribe[channel] = _template(cf, WS_VARS)
    if not subscribe:
        raise spec["subscribe"].expected("at least one channel (ticker, trades, orderbook)")
    marker = spec["data_marker"].text().encode() if "data_marker" in spec else None
    keepalive = None
    if "keepalive" in spec:
        k = spec["keepalive"].fields(("message", "every"), required=("message", "every"))
        message = k["message"].value
        if isinstance(message, dict | list):
            raw = json.dumps(message, separators=(",", ":")).encode()
        elif isinstance(message, str) and message:
            raw = message.encode()
        else:
            raise k["message"].expected("the message to send: text, or a JSON mapping")
        keepalive = (raw, k["every"].duration())
    return WebSocketSpec(path, url, subscribe, marker, keepalive)


def dialect_error(source: str, message: str) -> ScenarioError:
    """A whole-file problem (no field to name)."""
    return ScenarioError(source, "", message)
