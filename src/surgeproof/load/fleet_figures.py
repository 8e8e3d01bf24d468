"""The per-process figures fleet sizing uses, each with the benchmark that measured it.

One place: when a benchmark in ``benchmarks/load/RESULTS.md`` is re-recorded, the figure it
gave changes here (and only here), with its section and command. Rules that are not
measurements live where the behaviour they describe lives and are only read here:
descriptors per user (``fd_budget``), source addresses (``source_address``), the shared pool of
a process (``users/connections.SHARED_CONNECTIONS``, mirrored below and checked by a test).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

RESULTS = "benchmarks/load/RESULTS.md"


@dataclass(frozen=True)
class Figure:
    """One measured figure, the RESULTS.md section that holds it and the command that gave it."""

    value: float
    unit: str
    what: str
    #: The RESULTS.md section the figure is read from.
    source: str
    #: The exact benchmark command (run from the repository's root) that measured it.
    command: str


HELD_SECTION = f"{RESULTS} 'Held users: memory, descriptors and CPU per user, 2026-12-06T12:23:39'"
HELD_COMMAND = (
    "python benchmarks/load/bench_load.py users --only held --held 10000 --held-rounds 1 "
    "--arrive 30 --settle 42 --hold 40 --record"
)

# -- CPU --------------------------------------------------------------------------------------

CPU_SECTIONS = (
    f"{RESULTS} 'Fleet figures: CPU per request, 2026-12-06T12:42:27' and "
    "'Fleet figures: CPU per request, 2026-12-06T13:06:44'"
)
#: Both rounds were this command, run twice (one round each, to keep each under 8 minutes).
CPU_COMMAND = (
    "python benchmarks/load/bench_load.py users --only cpu --rounds 1 --seconds 6 --users 2000 "
    "--start 1500 --factor 1.35 --record"
)


def _per_core(value: float, what: str) -> Figure:
    return Figure(
        value, "req/s per core", what + "; the lower of 2 rounds", CPU_SECTIONS, CPU_COMMAND
    )


#: Calls of each behaviour per generator CPU second, every call recorded in full, with 2,000
#: users in the process (about what a planned worker holds), at the highest offered rate the
#: exchange's one core answered on schedule (the generator's core was 27-50% busy there: these
#: are CPU per call, not a saturated core, whose per-second costs spread over more calls). A
#: signed call costs ~3x a ticker poll.
REQUESTS_PER_CORE = MappingProxyType(
    {
        "market_watcher": _per_core(13_650, "ticker and orderbook polls"),
        "app_user": _per_core(3_450, "logins, balances, limit orders, cancels (signed)"),
        "panic_seller": _per_core(5_000, "market orders, prices, balances (signed)"),
        "api_bot": _per_core(9_850, "quotation polls and some signed orders"),
        "retrying_client": _per_core(5_150, "app users' calls"),
    }
)

#: Share of a core a generator process is planned to use: the rest absorbs the jitter of an
#: open-model schedule, bursts of arrivals and reconnects, and the recorder's shipping, so the
#: run is never generator-bound at its plan (a saturated generator is what the analysis refuses
#: to claim a ceiling from).
PLANNING_CORE_LOAD = 0.7

#: CPU seconds one websocket opening costs (user spawn, upgrade handshake, subscription, first
#: message), and per market-data message a held session receives (frame split, gap clock).
WS_CONNECT_CPU = Figure(
    0.00043,
    "CPU s per websocket opened",
    "10,000 market watchers arriving over 30 s in one process: 4.31 CPU s",
    HELD_SECTION,
    HELD_COMMAND,
)
WS_MESSAGE_CPU = Figure(
    12e-6,
    "CPU s per message",
    "10,000 held sessions at one ticker per 3 s each (3,333 messages/s): 0.039 core, their "
    "polls included",
    HELD_SECTION,
    HELD_COMMAND,
)
#: Market-data messages per held session per second assumed (the benchmark's target pushes one
#: ticker per 3 s; ``surgeproof plan --ws-messages-per-s`` for a busier feed).
WS_MESSAGES_PER_S = 1 / 3

# -- memory -----------------------------------------------------------------------------------

WS_SESSION_MEMORY = Figure(
    3.5 * 1024,
    "bytes per session",
    "generator memory per market watcher holding a websocket (100,000 in 8 workers, the "
    "exchange on the same 2 cores)",
    f"{RESULTS} 'Concurrent live websocket sessions, 2026-12-06T12:58:49'",
    "python benchmarks/load/bench_load.py sessions --sessions 100000 --workers 8 --gateways 8 "
    "--ramp 400 --hold 30 --skip-plain --record",
)
HTTP_USER_MEMORY = Figure(
    3.7 * 1024,
    "bytes per user",
    "generator memory per HTTP-only user (app user, logged in, own keep-alive connection), "
    "10,000 in one process",
    HELD_SECTION,
    HELD_COMMAND,
)
PROCESS_MEMORY = Figure(
    85 * 2**20,
    "bytes per process",
    "a generator process before its users (79.6 MB measured: Python, gevent, Locust, "
    "surgeproof's users, dialects and fleet channel), rounded up for a worker's ZeroMQ socket "
    "and a second of records",
    HELD_SECTION,
    HELD_COMMAND,
)
#: Share of a host's memory planned for generator processes: the rest is the kernel's (socket
#: buffers are not in a process's resident memory), the page cache and the run's writer.
PLANNING_MEMORY_SHARE = 0.8

# -- connections and records ------------------------------------------------------------------

#: Linux's default ephemeral range, 32768-60999: ports one source address has towards one
#: target address:port.
DEFAULT_EPHEMERAL_PORTS = 60999 - 32768 + 1
#: Connections one process's shared pool opens at most (users/connections.SHARED_CONNECTIONS).
SHARED_POOL_CONNECTIONS = 128
#: Seconds a closed connection's port stays in TIME_WAIT on the side that closed it (Linux).
TIME_WAIT_S = 60.0
#: Websocket gap-interval records, one per session per interval (load/websocket.GAP_INTERVAL_S).
GAP_INTERVAL_S = 5.0
#: One record per request or websocket event (rundir/schema.RECORD_DTYPE).
RECORD_BYTES = 40


@dataclass(frozen=True)
class FleetFigures:
    """The numbers sizing uses (defaults: the measured figures above)."""

    per_core: Mapping[str, float] = field(
        default_factory=lambda: {b: f.value for b, f in REQUESTS_PER_CORE.items()}
    )
    core_load: float = PLANNING_CORE_LOAD
    session_bytes: float = WS_SESSION_MEMORY.value
    user_bytes: float = HTTP_USER_MEMORY.value
    process_bytes: float = PROCESS_MEMORY.value
    memory_share: float = PLANNING_MEMORY_SHARE
    connect_cpu_s: float = WS_CONNECT_CPU.value
    message_cpu_s: float = WS_MESSAGE_CPU.value
    ws_messages_per_s: float = WS_MESSAGES_PER_S
    shared_pool_connections: int = SHARED_POOL_CONNECTIONS
    gap_interval_s: float = GAP_INTERVAL_S
    record_bytes: int = RECORD_BYTES

    def requests_per_core(self, behaviour: str) -> float:
        """Calls/s of ``behaviour`` one core sends, saturated (the least known one's if unknown)."""
        return self.per_core.get(behaviour, min(self.per_core.values()))

    def planning_per_core(self, behaviour: str) -> float:
        """Calls/s of ``behaviour`` a core is planned for."""
        return self.requests_per_core(behaviour) * self.core_load


def provenance() -> list[dict[str, object]]:
    """Every figure with its unit and source (``surgeproof plan --json`` carries them)."""
    named = {f"requests_per_core.{b}": f for b, f in REQUESTS_PER_CORE.items()}
    named |= {
        "ws_connect_cpu_s": WS_CONNECT_CPU,
        "ws_message_cpu_s": WS_MESSAGE_CPU,
        "ws_session_bytes": WS_SESSION_MEMORY,
        "http_user_bytes": HTTP_USER_MEMORY,
        "process_bytes": PROCESS_MEMORY,
    }
    return [
        {
            "name": k,
            "value": f.value,
            "unit": f.unit,
            "what": f.what,
            "source": f.source,
            "command": f.command,
        }
        for k, f in named.items()
    ]
