"""Before a run: a dialect that cannot play a behaviour says so, naming both."""

from __future__ import annotations

import pytest

from surgeproof.dialect.catalog import load_dialect
from surgeproof.errors import UserError
from surgeproof.load.users.fit import check_fit, needed_actions


def write(tmp_path, text):
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return load_dialect(path)


def test_the_builtin_dialects_play_every_behaviour():
    behaviours = {"market_watcher", "app_user", "panic_seller", "api_bot", "retrying_client"}
    assert check_fit(load_dialect("upbit"), behaviours) == []
    notes = check_fit(load_dialect("coinone"), behaviours)
    assert notes == [
        "app_user skips order_chance (not in dialect coinone)",
        "retrying_client skips order_chance (not in dialect coinone)",
    ]


def test_a_missing_needed_action_refuses_the_run_naming_behaviour_and_action(tmp_path):
    d = write(tmp_path, "name: quotes\nactions:\n  ticker: {method: GET, path: /t}\n")
    assert check_fit(d, {"market_watcher"}) == [
        "market_watcher skips orderbook (not in dialect quotes)",
        "market_watcher holds no websocket (dialect quotes describes none)",
    ]
    with pytest.raises(UserError, match="has no balances, limit_order, login: behaviour app_user"):
        check_fit(d, {"market_watcher", "app_user"})


def test_a_bot_of_a_token_signing_exchange_needs_its_login(tmp_path):
    d = write(
        tmp_path,
        "name: tok\nsigning: {scheme: login-token, headers: {A: 'Bearer {session_token}'}}\n"
        "actions:\n  ticker: {method: GET, path: /t}\n"
        "  limit_order: {method: POST, path: /o, signed: true}\n"
        "  login: {method: POST, path: /l, extract: {session_token: /t}}\n",
    )
    assert "login" in needed_actions(d, "api_bot")
    assert "login" not in needed_actions(load_dialect("upbit"), "api_bot")
