"""A dialect's ``reconcile`` (reading order_status answers) and ``market_orders`` (market orders
sent as marketable limit orders) sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from surgeproof.dialect.answer import read_answer
from surgeproof.dialect.catalog import builtin_names, load_dialect
from surgeproof.load.users import act
from surgeproof.scenario.errors import ScenarioError

NO_MARKET = """\
name: nomarket
extends: upbit
actions:
  market_buy: null
  market_sell: null
market_orders: {as: limit_order, through: 2%}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return path


def test_every_builtin_dialect_says_how_to_read_its_order_status_answers():
    for name in builtin_names():
        d = load_dialect(name)
        rules = d.reconcile
        assert rules is not None, name
        assert set(rules.states.values()) == {"open", "filled", "cancelled"}
        assert rules.unknown_statuses or rules.unknown_codes
        assert "order_state" in d.actions["order_status"].extract


def test_upbit_reads_state_and_a_404_as_an_unknown_order():
    d = load_dialect("upbit")
    spec = d.actions["order_status"]
    body = b'{"uuid":"u1","state":"cancel","executed_volume":"0.0005"}'
    reading = read_answer(d, spec, 200, lambda _h: None, body, ("order_state", "executed_volume"))
    assert reading.kind is None
    assert d.reconcile.state_of(reading.fields["order_state"]) == "cancelled"
    assert reading.fields["executed_volume"] == "0.0005"
    assert d.reconcile.state_of("paused") is None  # a word the dialect does not map
    assert 404 in d.reconcile.unknown_statuses


def test_coinone_reads_an_unknown_order_from_its_error_code():
    d = load_dialect("coinone")
    spec = d.actions["order_status"]
    body = b'{"result":"error","error_code":"104","error_msg":"Order id is not exist"}'
    reading = read_answer(d, spec, 200, lambda _h: None, body, ("order_state",))
    assert reading.kind == "client_error" and reading.code == "104"
    assert reading.code in d.reconcile.unknown_codes


def test_market_orders_stand_in_for_the_market_actions_the_dialect_lacks(tmp_path):
    d = load_dialect(write(tmp_path, NO_MARKET))
    assert "market_sell" not in d.actions and d.can("market_sell") and d.can("market_buy")
    assert d.market_orders is not None and d.market_orders.through == pytest.approx(0.02)
    assert not load_dialect("upbit").market_orders


def test_a_marketable_sell_is_priced_through_the_book_below_the_last_price():
    sell = act.marketable_limit(act.market_sell("0.0003"), 131_000_000.0, 0.02)
    assert sell.action == "limit_order" and sell.stands_in == "market_sell"
    assert sell.values == {"side": "ask", "price": "128380000", "volume": "0.0003"}
    # A buy above it, rounded up to the tick, spending about the same funds.
    buy = act.marketable_limit(act.market_buy("10000"), 131_000_000.0, 0.02)
    assert buy.values["side"] == "bid" and buy.values["price"] == "133620000"
    spent = float(buy.values["volume"]) * 133_620_000
    assert 9_990 < spent <= 10_000


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name: x\nextends: upbit\nmarket_orders: {as: limit_order, through: 1%}\n",
         "the dialect has market_buy, market_sell"),
        (NO_MARKET.replace("2%", "80%"), "distance through the book in (0, 50%]"),
        (NO_MARKET.replace("as: limit_order", "as: stop"), "limit_order (the only stand-in"),
        ("name: x\nextends: upbit\nreconcile: {states: {wait: resting}}\n",
         "one of open, filled, cancelled"),
        ("name: x\nextends: upbit\nreconcile: {states: {wait: open}, unknown_order: {statuses: "
         "[99]}}\n", "an HTTP status (100-599)"),
    ],
)  # fmt: skip
def test_bad_sections_are_one_line_naming_the_field(tmp_path, text, says):
    with pytest.raises(ScenarioError) as err:
        load_dialect(write(tmp_path, text))
    assert says in str(err.value) and "\n" not in str(err.value)
