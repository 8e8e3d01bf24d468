"""Record layout, outcome and kind codes, and file names of a run directory."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

#: Bumped whenever a file's meaning changes; readers refuse versions they do not know.
SCHEMA_VERSION = 1

RUN_META = "run.json"
EVENTS = "events.jsonl"
TIMELINE = "timeline.jsonl"
RECORDS_DIR = "records"
RECORDS_SUFFIX = ".bin"
NAMES_SUFFIX = ".names.jsonl"
SERVER_DIR = "server"
SERVER_METRICS = "server/metrics.jsonl"
SERVER_LEDGER = "server/ledger.json"
LOCUST_DIR = "locust"
#: The client side's order journal, one file per source: ``orders/<source>.jsonl``.
ORDERS_DIR = "orders"
#: Orders looked up through the dialect's ``order_status`` after a run (``order_lookup``).
LOOKUPS_DIR = "reconciliation"
LOOKUP_ANSWERS = "reconciliation/order_status.jsonl"
LOOKUP_PROGRESS = "reconciliation/progress.json"
SCENARIO_COPY = "scenario.yaml"
#: What a run id may be: it names the run's folder and its evidence pack, so never a path.
RUN_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}"
PROFILE_COPY = "profile.yaml"
DIALECT_COPY = "dialect.yaml"


class RunDirError(Exception):
    """A run directory that cannot be read; the message is one line for the user."""


class Outcome(IntEnum):
    """What became of one intended request or websocket event."""

    OK = 0
    CLIENT_ERROR = 1  # 4xx other than 429/418: the request itself was refused
    RATE_LIMITED = 2  # 429
    BLOCKED = 3  # 418: the client kept going after 429s
    SERVER_ERROR = 4  # 5xx, 503 shedding included
    TIMEOUT = 5  # no answer within the client timeout
    CONNECTION_ERROR = 6  # refused, reset, DNS, TLS
    MISSED = 7  # due on the schedule but never sent: the generator could not keep up
    CANCELLED = 8  # in flight when its user was stopped or the run ended
    #: Due while its user already had the most calls in flight that it may have, because the
    #: target was not answering them: never sent, and the target's failure, not the generator's.
    BACKLOGGED = 9
    #: The dialect could not build the request from this call's values (a template filter that
    #: cannot take a value, a header or path that cannot go on the wire, keys a signer cannot
    #: sign with): never sent; a fault of the test's set-up, not of the target or the generator.
    INVALID_REQUEST = 10


class Kind(IntEnum):
    """What a record measures."""

    HTTP = 0
    WS_CONNECT = 1  # upgrade handshake; latency = handshake time
    WS_FIRST_MESSAGE = 2  # subscribe sent → first data message
    WS_GAP = 3  # longest gap between data messages in a reporting interval


OUTCOME_NAMES = {o.value: o.name.lower() for o in Outcome}
KIND_NAMES = {k.value: k.name.lower() for k in Kind}

#: Flag bits in the ``flags`` column.
FLAG_CLOSED_MODEL = 1  # sent by a closed-loop user: intended_ns is just sent_ns
FLAG_ORDER_SUBMIT = 2  # an order submission (POST /v1/orders): the compensation view counts these
FLAG_RETRY = 4  # a re-send of an earlier failed call (attempt > 0)

#: One fixed-width little-endian record per intended request or websocket event.
#: Times are Unix epoch nanoseconds from the generator host's wall clock.
RECORD_DTYPE = np.dtype(
    [
        ("intended_ns", "<i8"),  # when the schedule wanted it sent
        ("sent_ns", "<i8"),  # when it was sent; 0 if never sent (MISSED)
        ("end_ns", "<i8"),  # when the answer (or the error) arrived; 0 if never sent
        ("name_id", "<u2"),  # index into this source's names file
        ("status", "<i2"),  # HTTP status; 101 for a websocket upgrade; 0 when there was none
        ("outcome", "u1"),  # Outcome
        ("kind", "u1"),  # Kind
        ("attempt", "u1"),  # 0 for a first try, n for the n-th retry
        ("flags", "u1"),  # FLAG_* bits
        ("user", "<u4"),  # simulated user's id, unique within a source
        ("concurrency", "<u4"),  # offered concurrent users (simulated) at intended_ns
    ]
)
assert RECORD_DTYPE.itemsize == 40
