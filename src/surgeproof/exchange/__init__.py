"""The embedded reference exchange: the system under test (imports nothing else of surgeproof).

``running_exchange(config)`` serves it in-process; ``surgeproof exchange`` runs it as a process.
"""

from surgeproof.exchange.config import ExchangeConfig, build_config, load_config
from surgeproof.exchange.errors import ConfigError
from surgeproof.exchange.server import RunningExchange, exchange_in_thread, running_exchange

__all__ = [
    "ConfigError",
    "ExchangeConfig",
    "RunningExchange",
    "build_config",
    "exchange_in_thread",
    "load_config",
    "running_exchange",
]
