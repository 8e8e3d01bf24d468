"""The exchange's capacity config: resources, limits, markets; from YAML and flags."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surgeproof.exchange.dialects.quotas import DEFAULTS as DIALECT_RATE_LIMITS
from surgeproof.exchange.errors import ConfigError

#: The APIs the exchange can speak (``dialect:`` in the target config, ``--dialect``).
DIALECTS = tuple(DIALECT_RATE_LIMITS)
#: Upbit's published per-second limits per rate-limit group (BRIEF §4), plus the app login.
UPBIT_RATE_LIMITS: dict[str, int] = DIALECT_RATE_LIMITS["upbit"]

#: Start prices (KRW) just before 22:23 KST on 3 Dec 2024, roughly.
DEFAULT_MARKETS: dict[str, dict[str, Any]] = {
    "KRW-BTC": {"price": 131_000_000, "korean_name": "비트코인", "english_name": "Bitcoin"},
    "KRW-ETH": {"price": 5_400_000, "korean_name": "이더리움", "english_name": "Ethereum"},
    "KRW-XRP": {"price": 3_400, "korean_name": "리플", "english_name": "XRP"},
}


#: More gateway processes than this only trade CPU for context switches on one machine.
MAX_WS_GATEWAYS = 64
#: The candle store keeps one day of 1-minute candles.
MAX_CANDLE_HISTORY = 24 * 60
#: Every whole-number knob (accounts, workers, queues, caps, rates) is at most this.
MAX_WHOLE = 10**9
#: Every other number (milliseconds, seconds, ratios) is finite and at most this in size.
MAX_NUMBER = 1e9
#: A market's start price (KRW): the amounts the engine books stay below 10^15.
MAX_PRICE_KRW = 10**12


@dataclass(frozen=True)
class Autoscale:
    """Adds ``step`` API workers ``lag_s`` after utilisation first reached ``threshold``."""

    threshold: float = 0.8
    lag_s: float = 30.0
    step: int = 2
    max_workers: int = 32


@dataclass(frozen=True)
class PriceProcess:
    """Geometric random walk of each market's reference price, updated every ``update_s``."""

    update_s: float = 0.5
    drift_per_s: float = 0.0
    volatility_per_s: float = 0.0005


@dataclass(frozen=True)
class MarketMaker:
    """A seeded liquidity account quoting ``levels`` per side around the reference price."""

    levels: int = 15
    spread_ticks: int = 2
    level_krw: int = 20_000_000
    tape_krw: int = 200_000


@dataclass(frozen=True)
class Durability:
    """Whether acknowledged orders survive a restart (``durable_orders.py``)."""

    #: Journal acknowledged orders in ``state_dir``; a restart recovers them.
    orders: bool = False
    #: Test knob: a restart recovers all but the last N orders the dead process acknowledged.
    lose_last_on_restart: int = 0


@dataclass(frozen=True)
class ExchangeConfig:
    """Every knob of the reference exchange; its capacity is the ground truth of a test."""

    seed: int = 1
    # The API spoken on the wire: upbit | bithumb | coinone (the engine behind is the same).
    dialect: str = "upbit"
    accounts: int = 100
    markets: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_MARKETS))
    # API worker pool: 0 workers means unbounded (no pool at all).
    api_workers: int = 0
    service_time_ms: float = 0.0
    # Member database (logins).
    member_db_workers: int = 4
    member_db_time_ms: float = 20.0
    # Bounded queue per pool.
    max_queue: int = 1000
    queue_timeout_ms: float = 5000.0
    # Sessions and connections (0 = unlimited).
    max_sessions: int = 0
    session_ttl_s: float = 600.0
    max_ws_connections: int = 0
    # WebSocket gateway processes (0 = websockets served by the core process itself).
    ws_gateways: int = 0
    # Replace a gateway that dies while the exchange runs (false: a dead gateway stays dead).
    gateway_restart: bool = True
    # Market-data cadence: at most one ticker / orderbook push per market per interval
    # (0 = push on every trade / every book change, which costs O(subscribers) per trade).
    ticker_interval_ms: float = 500.0
    orderbook_interval_ms: float = 500.0
    # Coinone's websocket closes a connection that sent no PING for this long (0 = never).
    ws_ping_timeout_s: float = 1800.0
    # Minutes of 1-minute candles generated from the price process at start.
    candle_history_minutes: int = 200
    # Rate limits.
    limits: bool = True
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(UPBIT_RATE_LIMITS))
    client_identity: str = "ip"  # or "header": X-Client-Id
    block_after_429s: int = 10
    block_s: float = 10.0
    max_body_bytes: int = 64 * 1024
    fee_bp: int = 5  # 0.05% (Upbit KRW market)
    initial_krw: int = 100_000_000
    initial_coin_krw: int = 50_000_000
    autoscale: Autoscale | None = None
    price: PriceProcess = field(default_factory=PriceProcess)
    market_maker: MarketMaker = field(default_factory=MarketMaker)
    durability: Durability = field(default_factory=Durability)
    # Where the exchange keeps what survives a restart ("" = nowhere; ``--state-dir``).
    state_dir: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain JSON-able data."""
        return dataclasses.asdict(self)


_NESTED = {
    "autoscale": Autoscale,
    "price": PriceProcess,
    "market_maker": MarketMaker,
    "durability": Durability,
}
_FIELDS = {f.name: f for f in dataclasses.fields(ExchangeConfig)}


def _coerce(name: str, value: Any, default: Any, where: str) -> Any:
    if name in _NESTED:
        if value is None or value is False:
            if name == "autoscale":
                return None
            raise ConfigError(f"{where}: '{name}' must be a mapping")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{name}' must be a mapping, got {value!r}")
        cls = _NESTED[name]
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, item in value.items():
            if key not in known:
                raise ConfigError(f"{where}: unknown key '{name}.{key}' (known: {sorted(known)})")
            kwargs[key] = _coerce(f"{name}.{key}", item, known[key].default, where)
        return cls(**kwargs)
    if name == "limits" and isinstance(value, str):
        if value.lower() in ("on", "true", "yes"):
            return True
        if value.lower() in ("off", "false", "no"):
            return False
        raise ConfigError(f"{where}: 'limits' must be on or off, got {value!r}")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: '{name}' must be true or false, got {value!r}")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WHOLE:
            raise ConfigError(
                f"{where}: '{name}' must be a whole number from 0 to {MAX_WHOLE:,}, "
                f"got {_shown(value)}"
            )
        return value
    if isinstance(default, float):
        low = -MAX_NUMBER if name.endswith("drift_per_s") else 0.0
        number = _finite(value)
        if number is None or not low <= number <= MAX_NUMBER:
            raise ConfigError(
                f"{where}: '{name}' must be a finite number from {low:g} to {MAX_NUMBER:g}, "
                f"got {_shown(value)}"
            )
        return number
    return value


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and abs(value) > MAX_WHOLE:
        return None  # and no OverflowError from a 400-digit integer
    number = float(value)
    return number if math.isfinite(number) else None


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WHOLE:
        return "a larger integer"
    return repr(value)[:40]


def _check(config: ExchangeConfig, where: str) -> ExchangeConfig:
    if config.dialect not in DIALECTS:
        raise ConfigError(
            f"{where}: 'dialect' must be one of {', '.join(DIALECTS)}, got {config.dialect!r}"
        )
    if config.client_identity not in ("ip", "header"):
        raise ConfigError(f"{where}: 'client_identity' must be ip or header")
    if not config.markets:
        raise ConfigError(f"{where}: 'markets' must name at least one market")
    for market, spec in config.markets.items():
        if not isinstance(market, str) or not market.startswith("KRW-") or len(market) < 5:
            raise ConfigError(f"{where}: market {market!r} must look like KRW-XXX")
        price = _finite(spec.get("price") if isinstance(spec, dict) else None)
        if price is None or not 0 < price <= MAX_PRICE_KRW:
            raise ConfigError(
                f"{where}: market {market} needs a positive 'price' of at most {MAX_PRICE_KRW:,}"
            )
    for group, rate in config.rate_limits.items():
        if isinstance(rate, bool) or not isinstance(rate, int) or not 0 < rate <= MAX_WHOLE:
            raise ConfigError(
                f"{where}: rate limit of '{group}' must be a whole number from 1 to {MAX_WHOLE:,}"
            )
    if config.accounts < 1:
        raise ConfigError(f"{where}: 'accounts' must be at least 1")
    if config.member_db_workers < 1:
        raise ConfigError(f"{where}: 'member_db_workers' must be at least 1")
    if config.ws_gateways > MAX_WS_GATEWAYS:
        raise ConfigError(f"{where}: 'ws_gateways' must be at most {MAX_WS_GATEWAYS}")
    if config.candle_history_minutes > MAX_CANDLE_HISTORY:
        raise ConfigError(
            f"{where}: 'candle_history_minutes' must be at most {MAX_CANDLE_HISTORY} (one day)"
        )
    if not isinstance(config.state_dir, str):
        raise ConfigError(f"{where}: 'state_dir' must be a folder's path")
    if config.durability.lose_last_on_restart and not config.durability.orders:
        raise ConfigError(
            f"{where}: 'durability.lose_last_on_restart' needs 'durability.orders: true' "
            "(without the order journal a restart forgets every order)"
        )
    if config.autoscale is not None and not 0 < config.autoscale.threshold <= 1:
        raise ConfigError(f"{where}: 'autoscale.threshold' must be in (0, 1]")
    return config


def build_config(
    data: dict[str, Any] | None = None, where: str = "config", **overrides: Any
) -> ExchangeConfig:
    """A validated config from a mapping (e.g. parsed YAML) plus keyword overrides."""
    merged: dict[str, Any] = dict(data or {})
    merged.update({k: v for k, v in overrides.items() if v is not None})
    dialect = merged.get("dialect", "upbit")
    if not isinstance(dialect, str) or dialect not in DIALECTS:
        raise ConfigError(
            f"{where}: 'dialect' must be one of {', '.join(DIALECTS)}, got {dialect!r}"
        )
    group_defaults = DIALECT_RATE_LIMITS[dialect]
    kwargs: dict[str, Any] = {"rate_limits": dict(group_defaults)}
    for key, value in merged.items():
        if key not in _FIELDS:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(_FIELDS))})")
        default = _FIELDS[key].default
        if default is dataclasses.MISSING:
            default = _FIELDS[key].default_factory()  # type: ignore[misc]
        if key == "rate_limits":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: 'rate_limits' must map group to requests per second")
            unknown = sorted(str(g) for g in value if g not in group_defaults)
            if unknown:
                raise ConfigError(
                    f"{where}: unknown rate-limit group {unknown[0]!r} of the {dialect} dialect "
                    f"(known: {', '.join(group_defaults)})"
                )
            value = {**group_defaults, **value}
        elif key == "dialect":
            pass  # checked above
        elif key == "markets":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: 'markets' must map KRW-XXX to {{price: ...}}")
            value = {
                m: {**DEFAULT_MARKETS.get(m, {}), **(s if isinstance(s, dict) else {"price": s})}
                for m, s in value.items()
            }
        else:
            value = _coerce(key, value, default, where)
        kwargs[key] = value
    return _check(ExchangeConfig(**kwargs), where)


def load_config(path: str | Path | None = None, **overrides: Any) -> ExchangeConfig:
    """Read a capacity config YAML file (or defaults when ``path`` is None) plus overrides."""
    if path is None:
        return build_config(None, **overrides)
    from surgeproof.exchange.safe_yaml import load_yaml_file

    p = Path(path)
    data = load_yaml_file(p)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of config keys at the top level")
    return build_config(data, where=str(p), **overrides)
