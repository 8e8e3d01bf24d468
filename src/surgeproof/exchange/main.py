"""The reference exchange's own command line, its options and its run: for
``python -m surgeproof.exchange`` (its own process) and ``surgeproof exchange`` (``cli.exchange``).
"""

from __future__ import annotations

import argparse
import sys

from surgeproof.exchange.decimal_text import float_text, whole_text
from surgeproof.exchange.dialects.quotas import DEFAULTS as DIALECTS

_NAMES = [f"{name} (default)" if i == 0 else name for i, name in enumerate(DIALECTS)]
HELP = (
    "start the embedded reference exchange on a loopback port, speaking the "
    f"{', '.join(_NAMES[:-1])} or {_NAMES[-1]} API"
)


def _whole(text: str) -> int:
    """An argparse type: ASCII digits only (``int()`` also reads ``"١٢٣"`` and ``"1_000"``)."""
    value = whole_text(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a whole number in plain digits, got {text!r}")
    return value


def _number(text: str) -> float:
    """An argparse type: a finite number >= 0 in plain decimal (``12``, ``2.5``)."""
    value = float_text(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 like 12 or 2.5, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The exchange's options (shared by both entry points)."""
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback only)")
    parser.add_argument("--port", type=_whole, default=0, help="port; 0 picks a free one")
    parser.add_argument("--config", metavar="FILE.yaml", help="capacity config (scenarios/targets)")
    parser.add_argument("--json", action="store_true", help="print one JSON line once listening")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.add_argument(
        "--dialect",
        choices=tuple(DIALECTS),
        help=f"the exchange API to speak (overrides 'dialect:' of --config; default "
        f"{next(iter(DIALECTS))})",
    )
    parser.add_argument("--seed", type=_whole, help="seed of accounts, prices and uuids")
    parser.add_argument("--accounts", type=_whole, help="number of seeded accounts")
    parser.add_argument("--api-workers", type=_whole, help="API worker pool size (0 = unbounded)")
    parser.add_argument("--service-time-ms", type=_number, help="time each request holds a worker")
    parser.add_argument("--member-db-workers", type=_whole, help="member-DB pool size (logins)")
    parser.add_argument("--member-db-time-ms", type=_number, help="time each login holds the DB")
    parser.add_argument("--max-queue", type=_whole, help="waiters per pool before 503")
    parser.add_argument("--queue-timeout-ms", type=_number, help="longest wait in a queue")
    parser.add_argument("--max-sessions", type=_whole, help="concurrent sessions cap (0 = none)")
    parser.add_argument("--max-ws-connections", type=_whole, help="WebSocket cap (0 = none)")
    parser.add_argument(
        "--ws-gateways",
        type=_whole,
        help="serve websockets from N gateway processes (0 = in the core process)",
    )
    parser.add_argument(
        "--ws-port", type=_whole, default=0, help="the gateways' port (0 picks a free one)"
    )
    parser.add_argument(
        "--ticker-interval-ms", type=_number, help="at most one ticker push per market per interval"
    )
    parser.add_argument(
        "--candle-history-minutes", type=_whole, help="minutes of candles seeded at start"
    )
    parser.add_argument(
        "--client-identity",
        choices=("ip", "header"),
        help="rate-limit identity for public calls: IP or X-Client-Id header",
    )
    parser.add_argument(
        "--ws-ping-timeout-s",
        type=_number,
        help="coinone: close websockets that sent no PING for this long (0 = never)",
    )
    parser.add_argument("--no-limits", action="store_true", help="turn rate limits off")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where what survives a restart is kept (the order journal of 'durability')",
    )


def run(args: argparse.Namespace) -> int:
    """Resolve the config and serve until interrupted; bad input is one line on stderr, exit 2."""
    from surgeproof.exchange.config import load_config
    from surgeproof.exchange.errors import ConfigError
    from surgeproof.exchange.server import check_host, serve

    overrides = {
        "dialect": args.dialect,
        "ws_ping_timeout_s": args.ws_ping_timeout_s,
        "seed": args.seed,
        "accounts": args.accounts,
        "api_workers": args.api_workers,
        "service_time_ms": args.service_time_ms,
        "member_db_workers": args.member_db_workers,
        "member_db_time_ms": args.member_db_time_ms,
        "max_queue": args.max_queue,
        "queue_timeout_ms": args.queue_timeout_ms,
        "max_sessions": args.max_sessions,
        "max_ws_connections": args.max_ws_connections,
        "client_identity": args.client_identity,
        "ws_gateways": args.ws_gateways,
        "ticker_interval_ms": args.ticker_interval_ms,
        "candle_history_minutes": args.candle_history_minutes,
        "limits": False if args.no_limits else None,
        "state_dir": args.state_dir,
    }
    try:
        check_host(args.host, args.allow_remote)
        if not 0 <= args.port <= 65535:
            raise ConfigError(f"--port must be 0..65535, got {args.port}")
        if not 0 <= args.ws_port <= 65535:
            raise ConfigError(f"--ws-port must be 0..65535, got {args.ws_port}")
        config = load_config(args.config, **overrides)
        return serve(config, args.host, args.port, args.json, args.ws_port)
    except ConfigError as exc:
        print(f"surgeproof exchange: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
