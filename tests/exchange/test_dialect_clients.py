"""Third-party clients work unchanged against the exchange in each dialect, only the base URL
changed: public calls, balance, create order, fetch order, cancel; and the ledger reconciles.

ccxt's base URL is its ``urls['api']``; python-bithumb's private class has ``BASE_URL``;
pyupbit and python-bithumb's public functions have their host written inside each function, so
that host is routed to the loopback exchange at the transport (see ``loopback_route``).
"""

from __future__ import annotations

import json
import urllib.request

import ccxt
import pytest
from loopback_route import route_host

#: A book with a few levels (ccxt reads best bid/ask), prices that do not move.
STEADY = {
    "market_maker": {"levels": 5, "tape_krw": 0},
    "price": {"volatility_per_s": 0.0},
    "limits": False,
}
BID_PRICE = 100_000_000  # far below the market: rests on the book


def _ledger(ex) -> dict:
    with urllib.request.urlopen(ex.url + "/admin/ledger", timeout=5) as r:
        return json.load(r)


def _assert_reconciled(ex, placed: int) -> None:
    ledger = _ledger(ex)
    assert ledger["conserved"] and ledger["lost_orders"] == []
    assert ledger["acknowledged_orders"]["count"] == placed


def _ccxt(name: str, ex, account):
    client = getattr(ccxt, name)({"apiKey": account.access_key, "secret": account.secret_key})
    base = ex.url
    if name == "coinone":
        client.urls["api"] = {
            "rest": base,
            "v2Public": base + "/public/v2",
            "v2Private": base + "/v2",
            "v2_1Private": base + "/v2.1",
        }
    else:
        client.urls["api"] = {"public": base, "private": base}
    return client


@pytest.mark.parametrize("dialect", ["upbit", "bithumb", "coinone"])
def test_ccxt_speaks_to_the_exchange_in_its_own_dialect(exchange, dialect):
    ex = exchange(dialect=dialect, **STEADY)
    account = ex.state.accounts[0]
    client = _ccxt(dialect, ex, account)

    markets = client.load_markets()
    assert {"BTC/KRW", "ETH/KRW", "XRP/KRW"} <= set(markets)
    ticker = client.fetch_ticker("BTC/KRW")
    assert ticker["last"] == 131_000_000
    book = client.fetch_order_book("BTC/KRW")
    assert book["bids"][0][0] < book["asks"][0][0]
    balance = client.fetch_balance()
    assert balance["KRW"]["free"] == 100_000_000

    order = client.create_order("BTC/KRW", "limit", "buy", 0.001, BID_PRICE)
    assert order["id"]
    fetched = client.fetch_order(order["id"], "BTC/KRW")
    assert fetched["id"] == order["id"] and fetched["status"] == "open"
    assert fetched["amount"] == 0.001
    locked = client.fetch_balance()["KRW"]
    assert locked["free"] < 100_000_000 - 100_000  # 100,000 KRW + fee locked by the bid

    cancel_params = {"price": BID_PRICE, "qty": 0.001, "is_ask": 0} if dialect == "coinone" else {}
    client.cancel_order(order["id"], "BTC/KRW", cancel_params)
    (engine_order,) = ex.state.engine.orders_of(account.access_key)
    assert engine_order.state == "cancel" and engine_order.locked == 0
    assert client.fetch_balance()["KRW"]["free"] == 100_000_000
    _assert_reconciled(ex, placed=1)


def test_pyupbit_against_the_upbit_dialect(exchange, monkeypatch):
    import pyupbit

    ex = exchange(dialect="upbit", **STEADY)
    route_host(monkeypatch, "api.upbit.com", ex.url)
    account = ex.state.accounts[1]

    assert "KRW-BTC" in pyupbit.get_tickers(fiat="KRW")
    assert pyupbit.get_current_price("KRW-ETH") == 5_400_000
    assert pyupbit.get_orderbook("KRW-BTC")["orderbook_units"]

    upbit = pyupbit.Upbit(account.access_key, account.secret_key)
    assert upbit.get_balance("KRW") == 100_000_000
    placed = upbit.buy_limit_order("KRW-BTC", BID_PRICE, 0.001)
    assert placed is not None and placed["state"] == "wait", placed
    fetched = upbit.get_order(placed["uuid"])  # a GET with a form body, hashed
    assert fetched["uuid"] == placed["uuid"] and fetched["volume"] == "0.001"
    assert [o["uuid"] for o in upbit.get_order("KRW-BTC")] == [placed["uuid"]]
    cancelled = upbit.cancel_order(placed["uuid"])  # a DELETE with a JSON body
    assert cancelled is not None and cancelled["state"] == "cancel", cancelled
    assert upbit.get_balance("KRW") == 100_000_000
    _assert_reconciled(ex, placed=1)


def test_python_bithumb_against_the_bithumb_dialect(exchange, monkeypatch):
    import python_bithumb

    ex = exchange(dialect="bithumb", **STEADY)
    route_host(monkeypatch, "api.bithumb.com", ex.url)
    monkeypatch.setattr(python_bithumb.Bithumb, "BASE_URL", ex.url)
    account = ex.state.accounts[2]

    assert python_bithumb.get_current_price("KRW-BTC") == 131_000_000
    assert python_bithumb.get_orderbook("KRW-XRP")["orderbook_units"]
    assert {m["market"] for m in python_bithumb.get_market_all()} >= {"KRW-BTC"}
    assert len(python_bithumb.get_ohlcv("KRW-BTC", interval="minute1", count=5)) == 5

    bithumb = python_bithumb.Bithumb(account.access_key, account.secret_key)
    assert bithumb.get_balance("KRW") == 100_000_000
    placed = bithumb.buy_limit_order("KRW-BTC", BID_PRICE, 0.001)  # POST /v1/orders
    assert placed["uuid"].startswith("C0101") and placed["state"] == "wait"
    assert bithumb.get_order(placed["uuid"])["uuid"] == placed["uuid"]
    assert [o["uuid"] for o in bithumb.get_orders(market="KRW-BTC", state="wait")] == [
        placed["uuid"]
    ]
    cancelled = bithumb.cancel_order(placed["uuid"])  # DELETE /v1/order
    assert cancelled["state"] == "cancel"
    assert bithumb.get_balance("KRW") == 100_000_000
    with pytest.raises(python_bithumb.BithumbAPIException) as refused:
        bithumb.get_order("C0101999999999999999")
    assert refused.value.status_code == 404 and "order_not_found" in refused.value.error_msg
    _assert_reconciled(ex, placed=1)
