"""Everything one running exchange holds, and its background clock (prices, liquidity, gauges)."""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING

from surgeproof.exchange.accounts import Account, seed_accounts
from surgeproof.exchange.candle_history import seed_candles
from surgeproof.exchange.capacity import AutoScaler, WorkerPool
from surgeproof.exchange.config import ExchangeConfig
from surgeproof.exchange.durable_orders import DurableOrders
from surgeproof.exchange.engine import Engine
from surgeproof.exchange.errors import ConfigError
from surgeproof.exchange.ledger import Ledger
from surgeproof.exchange.market_maker import Liquidity
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.metrics import Metrics
from surgeproof.exchange.money import UNIT
from surgeproof.exchange.pricing import PriceModel
from surgeproof.exchange.ratelimit import LimitStyle, RateLimiter
from surgeproof.exchange.sessions import SessionTable
from surgeproof.exchange.wshub import WsHub
from surgeproof.exchange.wsprotocol import WsProtocol

if TYPE_CHECKING:
    from surgeproof.exchange.gateway_pool import GatewayPool


class ExchangeState:
    """The exchange's resources, books, ledger and counters (one per server)."""

    def __init__(
        self,
        config: ExchangeConfig,
        protocol: WsProtocol | None = None,
        limit_style: LimitStyle | None = None,
    ) -> None:
        if protocol is None or limit_style is None:
            from surgeproof.exchange.dialects import get_dialect

            dialect = get_dialect(config.dialect)
            protocol = protocol or dialect.websocket(config.ws_ping_timeout_s)
            limit_style = limit_style or dialect.limit_style
        self.config = config
        self.started = time.time()
        self.accounts: list[Account] = seed_accounts(config.accounts, config.seed)
        self.by_member = {a.member_id: a for a in self.accounts}
        start = {m: float(spec["price"]) for m, spec in config.markets.items()}
        self.prices = PriceModel(config.price, start, config.seed)
        self.ledger = Ledger()
        self.engine = Engine(list(config.markets), self.ledger, config.fee_bp, config.seed)
        start_units = {m: ref.units() for m, ref in self.prices.refs.items()}
        self.marketdata = MarketData(self.engine, start_units, config.markets)
        rng = random.Random(config.seed ^ 0xCA4D1E)
        for market, units in start_units.items():
            self.marketdata.seed_candles(
                market,
                seed_candles(
                    units,
                    config.candle_history_minutes,
                    self.started,
                    config.price,
                    config.market_maker,
                    rng,
                ),
            )
        self.liquidity = Liquidity(self.engine, config.market_maker)
        # The dialect's request verifier (API-key signatures, nonces); set by the app.
        self.auth: object | None = None
        self.sessions = SessionTable(config.max_sessions, config.session_ttl_s)
        self.limiter = RateLimiter(
            config.rate_limits,
            config.limits,
            config.block_after_429s,
            config.block_s,
            limit_style,
        )
        self.metrics = Metrics()
        self.api_pool = (
            WorkerPool("api", config.api_workers, config.max_queue) if config.api_workers else None
        )
        self.db_pool = WorkerPool("member_db", config.member_db_workers, config.max_queue)
        self.autoscaler = None
        if config.autoscale is not None and self.api_pool is not None:
            a = config.autoscale
            self.autoscaler = AutoScaler(self.api_pool, a.threshold, a.lag_s, a.step, a.max_workers)
        self.hub = WsHub(
            self.marketdata,
            protocol,
            ticker_interval_s=config.ticker_interval_ms / 1000.0,
            orderbook_interval_s=config.orderbook_interval_ms / 1000.0,
        )
        # Set by the server when websockets are served by gateway processes.
        self.gateways: GatewayPool | None = None
        # WebSocket connections this process can hold (set from its open-file limit).
        self.fd_budget = 1 << 30
        self._ws_counted = {"sent": 0, "dropped": 0}
        self.engine.on_trade.append(self.hub.on_trade)
        self.engine.on_trade.append(self._count_fill)
        self.stall_until = 0.0
        self.stalls: list[dict[str, float]] = []
        self.acked: list[str] = []
        #: The order journal that survives a restart (``durability.orders``), or None.
        self.durable: DurableOrders | None = None
        if config.durability.orders:
            if not config.state_dir:
                # Checked here, not with the config: a run hands the folder over at start.
                raise ConfigError(
                    "'durability.orders' needs a state directory (--state-dir or 'state_dir')"
                )
            self.durable = DurableOrders(config.state_dir, config.durability.lose_last_on_restart)
            recovered = self.durable.recovered
            self.engine.restore(recovered.orders, recovered.generation, config.seed)
            self.acked = list(recovered.acked)
            self.engine.on_close.append(self.durable.changed)
        self.queue_timeout_s = config.queue_timeout_ms / 1000.0
        self.service_s = config.service_time_ms / 1000.0
        self.db_time_s = config.member_db_time_ms / 1000.0
        self._seed_balances(start_units)

    def _seed_balances(self, start_units: dict[str, int]) -> None:
        cfg = self.config
        for account in self.accounts:
            self.ledger.deposit(account.access_key, "KRW", cfg.initial_krw * UNIT)
            for market, price in start_units.items():
                base = market.split("-", 1)[1]
                self.ledger.deposit(
                    account.access_key, base, cfg.initial_coin_krw * UNIT * UNIT // price
                )
        self.liquidity.fund(start_units)
        for market, ref in self.prices.refs.items():
            self.liquidity.requote(market, ref.units())

    def _count_fill(self, trade) -> None:
        self.metrics.at(int(trade.ts)).fills += 1

    def ws_connections(self) -> int:
        """Open WebSocket connections, in this process and in every gateway."""
        gw = self.gateways
        return self.hub.connections + (gw.connections if gw is not None else 0)

    def ws_admitted(self) -> int:
        """Connections counted against ``max_ws_connections`` (open plus being upgraded)."""
        gw = self.gateways
        return self.hub.connections + (gw.admitted if gw is not None else 0)

    def pools(self) -> list[WorkerPool]:
        return [p for p in (self.api_pool, self.db_pool) if p is not None]

    # -- the clock -------------------------------------------------------------------------

    def step_prices(self, now: float, dt: float) -> None:
        """Move prices, re-quote the market maker, print a tape trade, push book updates."""
        self.prices.step(now, dt)
        for market, ref in self.prices.refs.items():
            self.liquidity.requote(market, ref.units())
            self.liquidity.trade_tape(market, ref.units())
        self.marketdata.invalidate()

    def sample(self, now: float) -> None:
        """Write gauges into the current second; finish utilisation of the previous one."""
        second = int(now)
        stats = self.metrics.at(second)
        stats.active_sessions = len(self.sessions)
        stats.ws_connections = self.ws_connections()
        self._count_ws_messages(stats)
        for pool in self.pools():
            stats.workers[pool.name] = pool.workers
            depth = pool.queue_depth_max.get(second, 0)
            stats.queue_depth_max[pool.name] = max(depth, pool.queued)
            prev = self.metrics._index.get(second - 1)
            if prev is not None:
                prev.utilisation[pool.name] = round(pool.utilisation(second - 1), 4)
                prev.queue_depth_max[pool.name] = max(
                    prev.queue_depth_max.get(pool.name, 0),
                    pool.queue_depth_max.get(second - 1, 0),
                )
            pool.utilisation(second)  # keeps busy-time accounting current

    def _count_ws_messages(self, stats) -> None:
        """Add messages written (here and by the gateways) since the last sample to ``stats``."""
        sent, dropped = self.hub.fanout.sent, self.hub.fanout.dropped
        gw = self.gateways
        if gw is not None:
            gw.sample(stats)
            sent += gw.messages_sent
            dropped += gw.messages_dropped
        stats.ws_messages_sent += sent - self._ws_counted["sent"]
        stats.ws_messages_dropped += dropped - self._ws_counted["dropped"]
        self._ws_counted = {"sent": sent, "dropped": dropped}

    async def run_clock(self) -> None:
        """The background loop; cancelled on shutdown."""
        update = max(self.config.price.update_s, 0.05)
        last_price = time.time()
        last_second = int(last_price)
        while True:
            await asyncio.sleep(min(update, 0.25))
            now = time.time()
            if now - last_price >= update:
                self.step_prices(now, now - last_price)
                last_price = now
            self.hub.tick(now)
            self.sample(now)
            if int(now) != last_second:
                last_second = int(now)
                self.sessions.expire(now)
                if self.autoscaler is not None:
                    self.autoscaler.observe(last_second - 1, now)
                self.limiter.forget_idle(last_second - 2)
                for pool in self.pools():
                    pool.forget_before(last_second - 3700)
