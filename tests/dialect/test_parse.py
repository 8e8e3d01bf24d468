"""Dialect files: what a valid file compiles to, and one line naming file and field otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from surgeproof.dialect.catalog import builtin_names, load_dialect
from surgeproof.scenario.errors import ScenarioError

MINIMAL = """\
name: tiny
actions:
  ticker: {method: GET, path: "/api/{base|lower}/price", extract: {price: /price}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return path


def test_every_builtin_dialect_compiles_with_a_websocket_and_the_trading_actions():
    for name in builtin_names():
        d = load_dialect(name)
        assert d.name == name and d.source == f"builtin:{name}"
        assert d.websocket is not None and "ticker" in d.websocket.subscribe
        assert {"login", "ticker", "balances", "limit_order", "cancel_order"} <= set(d.actions)
        assert d.actions["limit_order"].group == "orders" and d.actions["limit_order"].signed


def test_a_minimal_file_is_a_dialect_with_one_static_action(tmp_path):
    d = load_dialect(write(tmp_path, MINIMAL))
    a = d.actions["ticker"]
    assert a.static and a.group == "quotation" and a.name == "GET /api/{base|lower}/price"
    assert d.static_request(a, "KRW-BTC")[0] == "/api/btc/price"
    assert d.signing.scheme == "none" and d.websocket is None


def test_extends_changes_only_what_it_names(tmp_path):
    d = load_dialect(
        write(
            tmp_path,
            "name: upbit-staging\nextends: upbit\nactions:\n"
            "  login: {method: POST, path: /internal/login, body: {id: '{member_id}'},"
            " extract: {session_token: /token}}\n  order_chance: null\n",
        )
    )
    assert d.actions["login"].name == "POST /internal/login"
    assert "order_chance" not in d.actions
    assert d.actions["ticker"].name == "GET /v1/ticker" and d.signing.scheme == "upbit-jwt"
    assert "resolved by surgeproof" in d.text  # the run directory's copy stands on its own


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("name: x\nactions:\n  tickr: {method: GET, path: /t}\n", "actions.tickr",
         "did you mean 'ticker'"),
        ("name: x\nactions:\n  ticker: {method: GET, path: '/t/{mrkt}'}\n", "actions.ticker.path",
         "unknown variable {mrkt}"),
        ("name: x\nactions:\n  ticker: {method: FETCH, path: /t}\n", "actions.ticker.method",
         "one of GET"),
        ("name: x\nactions:\n  ticker: {method: GET, path: t}\n", "actions.ticker.path",
         "starting with '/'"),
        ("name: x\nsigning: {scheme: rsa}\nactions:\n  ticker: {method: GET, path: /t}\n",
         "signing.scheme", "one of none, upbit-jwt"),
        ("name: x\nactions:\n  balances: {method: GET, path: /b, signed: true}\n",
         "actions.balances.signed", "no 'signing' scheme"),
        ("name: x\nsession: {headers: {X-S: '{session_token}'}}\nactions:\n"
         "  balances: {method: GET, path: /b, session: true}\n", "actions",
         "no 'login' action"),
        ("name: x\nsigning: {scheme: login-token, headers: {A: 'B {session_token}'}}\nactions:\n"
         "  login: {method: POST, path: /l}\n  balances: {method: GET, path: /b, signed: true}\n",
         "actions.login.extract", "session_token"),
        ("name: x\nactions:\n  ticker: {method: GET, path: /t, extract: {order_id: /id}}\n",
         "actions.ticker.extract.order_id", "unknown field"),
        ("name: x\nactions:\n  ticker: {method: GET, path: /t, body: {a: 1}}\n",
         "actions.ticker.body", "GET carries no body"),
        ("name: x\nerrors: {codes: {'4': melted}}\nactions:\n  ticker: {method: GET, path: /t}\n",
         "errors.codes.4", "one of client_error"),
        ("name: x\nsigning: {scheme: hmac, message: '{ts}', headers: {S: '{signature}'}}\n"
         "actions:\n  ticker: {method: GET, path: /t}\n", "signing.message",
         "unknown variable {ts}"),
        ("name: x\nwebsocket: {subscribe: {ticker: []}}\nactions:\n"
         "  ticker: {method: GET, path: /t}\n", "websocket", "exactly one of 'path'"),
        ("name: x\nextends: nosuch\nactions: {}\n", "extends", "no such dialect 'nosuch'"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_one_line_naming_file_field_and_want(tmp_path, text, field, says):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_dialect(path)
    message = str(err.value)
    assert "\n" not in message
    assert f": {field}" in message or message.startswith(field), message
    assert says in message, message


def test_an_unknown_builtin_name_suggests_the_close_one():
    with pytest.raises(ScenarioError, match="did you mean 'coinone'"):
        load_dialect("coinon")
