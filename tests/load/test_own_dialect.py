"""A team's own exchange API, described in a dialect file: validated, probed, surged, analysed.

The exchange is made up for this test (``madeup_exchange.py``): other paths, a token login, its
own HMAC header signing, errors inside 200 answers, a websocket that acks before it streams.
Nothing of surgeproof is changed to speak it: only the dialect file below.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from load_cli import run_meta, surgeproof

HERE = Path(__file__).parent

DIALECT = """\
name: hanriver
description: The made-up Hanriver exchange of surgeproof's tests.
login_note: POST /api/auth/login is Hanriver's app login.
market: "{base|lower}_{quote|lower}"
sides: {bid: buy, ask: sell}
signing:
  scheme: hmac
  digest: sha256
  message: "{timestamp_ms}{method}{path_query}{body}"
  headers: {X-HR-KEY: "{access_key}", X-HR-TS: "{timestamp_ms}", X-HR-SIGN: "{signature}"}
session:
  headers: {Authorization: "Bearer {session_token}"}
errors:
  body: {pointer: /ok, equals: false}
  code: /err
  codes: {E_SESSION: session_expired, E_SLOW: rate_limited}
rate_limit: {header: X-HR-Left, remaining: '^(\\d+)$'}
actions:
  login:
    method: POST
    path: /api/auth/login
    body: {username: "{member_id}", passcode: "{password}"}
    extract: {session_token: /data/token}
  logout: {method: POST, path: /api/auth/logout, session: true}
  ticker: {method: GET, path: "/api/markets/{market}/price", extract: {price: /data/price}}
  orderbook: {method: GET, path: "/api/markets/{market}/depth"}
  balances: {method: GET, path: /api/me/wallet, signed: true, session: true}
  limit_order:
    method: POST
    path: /api/orders
    body: {pair: "{market}", direction: "{side}", kind: limit, price: "{price|number}",
           amount: "{volume}"}
    signed: true
    session: true
    extract: {order_id: /data/id}
  market_sell:
    method: POST
    path: /api/orders
    body: {pair: "{market}", direction: sell, kind: market, amount: "{volume}"}
    signed: true
    session: true
    extract: {order_id: /data/id}
  market_buy:
    method: POST
    path: /api/orders
    body: {pair: "{market}", direction: buy, kind: market, funds: "{funds}"}
    signed: true
    session: true
    extract: {order_id: /data/id}
  order_status: {method: GET, path: "/api/orders/{order_id}", signed: true, session: true,
                 extract: {order_state: /data/state}}
  cancel_order: {method: DELETE, path: "/api/orders/{order_id}", signed: true, session: true}
reconcile:
  states: {open: open, filled: filled, cancelled: cancelled}
  unknown_order: {codes: [E_NOORDER]}
websocket:
  path: /stream
  subscribe:
    ticker: {op: sub, topic: "price:{market}"}
  data_marker: '"ev": "price"'
  keepalive: {message: {op: ping}, every: 5s}
"""

#: The same exchange as one without market orders: they are sent as limit orders 2% through
#: the last price the person saw.
NO_MARKET = (
    DIALECT.replace("name: hanriver\n", "name: hanriver-limits\n")
    .replace(
        DIALECT[DIALECT.index("  market_sell:") : DIALECT.index("  order_status:")],
        "",
    )
    .replace("reconcile:", "market_orders: {as: limit_order, through: 2%}\nreconcile:")
)

SURGE = """\
name: hanriver-surge
description: A short surge against the made-up exchange.
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: baseline
    duration: 3s
    users: 6
    ramp: 1s
    mix: {market_watcher: 0.5, app_user: 0.5}
  - phase: panic
    duration: 5s
    users: 12
    ramp: 1s
    mix: {market_watcher: 0.25, app_user: 0.25, panic_seller: 0.25, api_bot: 0.25}
    intensity: 2
"""


@pytest.fixture
def hanriver(tmp_path: Path):
    yield from _hanriver(tmp_path, DIALECT, [])


@pytest.fixture
def hanriver_without_market_orders(tmp_path: Path):
    yield from _hanriver(tmp_path, NO_MARKET, ["--no-market-orders"])


def _hanriver(tmp_path: Path, dialect_text: str, flags: list[str]):
    accounts = [
        {
            "member_id": f"hr{i:03d}",
            "password": f"pass-{i}",
            "access_key": f"HRK{i:05d}",
            "secret_key": f"hanriver-secret-{i:05d}",
        }
        for i in range(20)
    ]
    acct_file = tmp_path / "accounts.json"
    acct_file.write_text(json.dumps(accounts))
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "madeup_exchange.py"), "--accounts", str(acct_file), *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["url"]
        dialect = tmp_path / "hanriver.yaml"
        dialect.write_text(dialect_text)
        yield url, dialect, acct_file
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stats(url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(url + "/stats", timeout=5) as resp:
        return json.loads(resp.read())


def test_the_dialect_file_validates_and_the_probe_finds_every_action_fits(hanriver):
    url, dialect, accounts = hanriver
    v = surgeproof("dialect", "validate", str(dialect), "--scenario", "martial-law-2024-12-03")
    assert v.returncode == 0, v.stderr
    assert "hanriver" in v.stdout and "app_user skips order_chance" in v.stdout

    p = surgeproof("dialect", "probe", "--target", url, "--dialect", str(dialect),
                   "--accounts-file", str(accounts))  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert "all 11 actions sent fit dialect hanriver" in p.stdout
    assert "pass-" not in p.stdout and "hanriver-secret" not in p.stdout  # no secret printed
    seen = stats(url)
    assert seen.get("bad_signature", 0) == 0 and seen["orders_placed"] == 3
    assert seen["orders_cancelled"] == 1 and seen["ws_subscriptions"] == 1

    # The same target probed as if it spoke Upbit: every action misfits, named.
    wrong = surgeproof("dialect", "probe", "--target", url, "--dialect", "upbit",
                       "--accounts-file", str(accounts))  # fmt: skip
    assert wrong.returncode == 1
    assert "do not fit dialect upbit: login, ticker" in wrong.stdout


@pytest.mark.slow
def test_a_surge_against_it_gives_a_complete_run_directory_by_group(hanriver, tmp_path):
    url, dialect, accounts = hanriver
    scenario = tmp_path / "surge.yaml"
    scenario.write_text(SURGE)
    res = surgeproof(
        "run", str(scenario), "--target", url, "--dialect", str(dialect),
        "--accounts-file", str(accounts), "--reports-dir", str(tmp_path / "reports"),
        "--run-id", "own", "--timeout", "5", timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "note: app_user skips order_chance" in res.stdout
    run_dir = tmp_path / "reports" / "own"
    meta = run_meta(run_dir)
    assert meta["status"] == "complete"
    assert meta["dialect"]["name"] == "hanriver" and meta["dialect"]["chosen_by"] == "--dialect"
    assert (run_dir / "dialect.yaml").read_text() == DIALECT
    a = surgeproof("analyze", str(run_dir))
    assert a.returncode in (0, 1), a.stderr
    analysis = json.loads((run_dir / "analysis.json").read_text())
    groups = analysis["overall"]["groups"]
    for group in ("login", "quotation", "orders", "account", "websocket"):
        assert groups[group]["count"] > 0, group
    endpoints = analysis["overall"]["endpoints"]
    assert "POST /api/orders" in endpoints and "GET /api/markets/{market}/price" in endpoints
    seen = stats(url)
    assert seen.get("bad_signature", 0) == 0  # every signed call verified on the exchange
    # Every order the exchange took is an order submission surgeproof recorded as ok.
    placed_ok = endpoints["POST /api/orders"]["ok"]
    assert placed_ok == seen["orders_placed"] > 0
    assert groups["account"]["ok"] == groups["account"]["count"]
    # Every websocket the exchange accepted is a connect surgeproof recorded; every first
    # market-data message it recorded followed a subscription the exchange acknowledged.
    assert endpoints["WS connect"]["ok"] == seen["ws_connects"] > 0
    assert 0 < endpoints["WS subscribe"]["ok"] <= seen["ws_subscriptions"]
    # After the run every order it acknowledged was looked up through its own API: all known.
    looked = analysis["reconciliation"]["order_status"]
    assert looked["acknowledged"] == placed_ok and looked["status"] == "passed"


def test_without_market_orders_the_dialect_says_it_sends_marketable_limit_orders(tmp_path):
    path = tmp_path / "limits.yaml"
    path.write_text(NO_MARKET)
    v = surgeproof("dialect", "validate", str(path), "--scenario", "martial-law-2024-12-03")
    assert v.returncode == 0, v.stderr
    note = "panic_seller sends market_buy, market_sell as limit orders: dialect hanriver-limits"
    assert note in v.stdout and "2.00% through the last ticker price" in v.stdout
    p = surgeproof("plan", "martial-law-2024-12-03", "--dialect", str(path), "--time-scale", "1/60")
    assert p.returncode == 0, p.stderr
    assert note in p.stdout
    # A dialect with neither market orders nor a stand-in is refused before any run, as before.
    path.write_text(NO_MARKET.replace("market_orders: {as: limit_order, through: 2%}\n", ""))
    r = surgeproof("run", "martial-law-2024-12-03", "--dialect", str(path), "--target",
                   "http://127.0.0.1:9", "--reports-dir", str(tmp_path / "reports"))  # fmt: skip
    assert r.returncode == 2
    assert "has no market_buy, market_sell: behaviour panic_seller needs them" in r.stderr


@pytest.mark.slow
def test_the_martial_law_night_runs_with_marketable_limit_orders_for_market_orders(
    hanriver_without_market_orders, tmp_path
):
    url, dialect, accounts = hanriver_without_market_orders
    res = surgeproof(
        "run", "martial-law-2024-12-03", "--target", url, "--dialect", str(dialect),
        "--accounts-file", str(accounts), "--time-scale", "1/600", "--user-scale", "1/20000",
        "--reports-dir", str(tmp_path / "reports"), "--run-id", "night", "--timeout", "5",
        timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "panic_seller sends market_buy, market_sell as limit orders" in res.stdout
    run_dir = tmp_path / "reports" / "night"
    lines = [
        json.loads(line)
        for f in sorted((run_dir / "orders").glob("*.jsonl"))
        for line in f.read_text().splitlines()
    ]
    stood_in = [x for x in lines if x.get("stands_in")]
    sells = [x for x in stood_in if x["stands_in"] == "market_sell"]
    buys = [x for x in stood_in if x["stands_in"] == "market_buy"]
    assert sells and buys and all(x["action"] == "limit_order" for x in stood_in)
    # Each priced through the book from the last price its person saw: a sell below, a buy above.
    assert all(int(x["price"]) < x["price_seen"] for x in sells)
    assert all(int(x["price"]) > x["price_seen"] for x in buys)
    seen = stats(url)
    assert seen.get("market_refused", 0) == 0  # not one market order reached it
    # Priced from the exchange's own last price, every stand-in crosses its book; the exchange
    # filled exactly the ones that crossed.
    price = 131_000_000
    ok = [x for x in stood_in if x["outcome"] == "ok"]
    from_its_price = [x for x in ok if x["price_seen"] == price]
    assert from_its_price and all(_crosses(x, price) for x in from_its_price)
    assert seen["marketable"] == sum(_crosses(x, price) for x in ok)
    analysis = json.loads((run_dir / "analysis.json").read_text())
    assert analysis["overall"]["groups"]["orders"]["count"] > 0
    looked = analysis["reconciliation"]["order_status"]
    assert looked["status"] == "passed" and looked["counts"]["consistent"] == looked["acknowledged"]


def _crosses(line: dict, price: int) -> bool:
    """A sell at or below the book's price, a buy at or above it."""
    p = int(line["price"])
    return p <= price if line["side"] == "ask" else p >= price
