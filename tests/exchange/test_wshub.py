"""Market-data cadence: trades push at once; tickers and orderbooks at most once per interval."""

from surgeproof.exchange import build_config
from surgeproof.exchange.state import ExchangeState


def _state(**overrides):
    state = ExchangeState(build_config(overrides))
    seen = []
    state.hub.sinks.append(lambda kind, code, msg: seen.append((kind, code, msg["stream_type"])))
    return state, seen


def _count(seen, kind):
    return sum(1 for k, _, _ in seen if k == kind)


def test_tickers_are_coalesced_to_one_per_market_per_interval():
    state, seen = _state(ticker_interval_ms=1000, orderbook_interval_ms=1000)
    t0 = state.started
    markets = len(state.engine.books)
    for i in range(5):  # five price steps: five tape trades per market
        state.step_prices(t0 + 0.1 * (i + 1), 0.1)
    trades = _count(seen, "trade")
    assert trades >= markets and _count(seen, "ticker") == 0
    state.hub.tick(t0 + 0.5)  # first tick publishes what is due
    assert _count(seen, "ticker") == markets
    state.step_prices(t0 + 0.6, 0.1)
    state.hub.tick(t0 + 0.9)  # within the interval: nothing more
    assert _count(seen, "ticker") == markets
    state.hub.tick(t0 + 1.5)
    assert _count(seen, "ticker") == 2 * markets
    assert {s for _, _, s in seen} == {"REALTIME"}


def test_interval_zero_pushes_a_ticker_with_every_trade():
    state, seen = _state(ticker_interval_ms=0)
    state.step_prices(state.started + 0.1, 0.1)
    assert _count(seen, "ticker") == _count(seen, "trade") > 0


def test_orderbooks_are_pushed_only_when_changed_and_due():
    state, seen = _state(orderbook_interval_ms=1000)
    t0 = state.started
    state.hub.tick(t0)
    first = _count(seen, "orderbook")
    assert first == len(state.engine.books)
    state.hub.tick(t0 + 2)  # due, but no book changed
    assert _count(seen, "orderbook") == first
    state.step_prices(t0 + 2.1, 0.1)  # the market maker re-quotes every book
    state.hub.tick(t0 + 2.5)
    assert _count(seen, "orderbook") == first
    state.hub.tick(t0 + 3.1)
    assert _count(seen, "orderbook") == 2 * first
