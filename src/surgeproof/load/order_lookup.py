"""After a run: every order the exchange acknowledged, looked up through its own API.

The order journal (``orders/<source>.jsonl``) names each acknowledged order, its account and
who placed it; each is asked for once through the dialect's ``order_status``, signed with its
own account's keys, at most ``rate_per_s`` a second and for at most ``max_s`` seconds, and the
raw answer appended to ``reconciliation/order_status.jsonl`` at once. A second invocation reads
that file and asks only for the orders without a conclusive answer yet (found, or "no such
order"): it continues where the first stopped. What each answer means is the analysis' to say
(``analysis/order_status.py``); this module only asks and writes down.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from surgeproof.analysis.order_status import acknowledged_orders, read_journal, read_lookups
from surgeproof.dialect.answer import read_answer
from surgeproof.dialect.model import Dialect
from surgeproof.load.accounts import Account
from surgeproof.load.recorder import now_ns
from surgeproof.load.users.act import MARKET, login, order_status
from surgeproof.rundir.schema import LOOKUP_ANSWERS, LOOKUP_PROGRESS
from surgeproof.rundir.writer import JsonlLog

#: Bounds of the budget flags (a lookup pass is bounded in rate, time and parallelism).
MAX_RATE_PER_S = 10_000.0
MAX_TIME_S = 24 * 3600.0
MAX_CONCURRENCY = 64


@dataclass(frozen=True)
class LookupBudget:
    """How hard and how long the exchange is asked: lookups a second, seconds, in parallel."""

    rate_per_s: float = 20.0
    max_s: float = 60.0
    concurrency: int = 4

    def to_dict(self) -> dict[str, Any]:
        return {"rate_per_s": self.rate_per_s, "max_s": self.max_s, "concurrency": self.concurrency}

    def describe(self) -> str:
        return f"{self.rate_per_s:g}/s for at most {self.max_s:g} s"


def default_budget(
    embedded: bool, rate_per_s: float | None = None, max_s: float | None = None
) -> LookupBudget:
    """The budget a run uses: the flags', else 20/s for a real target and 200/s for the embedded
    exchange (loopback, ours: the lookups only have to fit into a test's minute)."""
    base = LookupBudget(200.0, 60.0, 8) if embedded else LookupBudget()
    return LookupBudget(
        rate_per_s if rate_per_s is not None else base.rate_per_s,
        max_s if max_s is not None else base.max_s,
        base.concurrency,
    )


@dataclass
class LookupPass:
    """What one invocation did."""

    acknowledged: int = 0
    already: int = 0
    looked_up: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    stopped: str = "done"
    pending: int = 0

    def sentence(self) -> str:
        got = ", ".join(f"{n:,} {k}" for k, n in sorted(self.answers.items())) or "none"
        head = (
            f"order lookups: {self.looked_up:,} of {self.acknowledged:,} acknowledged orders "
            f"asked for ({got})"
        )
        if self.already:
            head += f"; {self.already:,} answered before"
        if self.pending:
            head += f"; {self.pending:,} left ({self.stopped}): `surgeproof reconcile` continues"
        return head


class _Pacer:
    """Hands out start times ``1 / rate`` apart to any number of lookers; None past the deadline."""

    def __init__(self, rate_per_s: float, deadline: float) -> None:
        self.gap = 1.0 / rate_per_s
        self.next = time.monotonic()
        self.deadline = deadline
        self.lock = threading.Lock()

    def wait_turn(self) -> bool:
        with self.lock:
            at = max(self.next, time.monotonic())
            if at >= self.deadline:
                return False
            self.next = at + self.gap
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return True


class _Asker:
    """One looker: its own keep-alive connection, and the app sessions its accounts opened."""

    def __init__(self, dialect: Dialect, url: str, timeout_s: float) -> None:
        self.dialect = dialect
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host, self.port, self.base = parts.hostname, parts.port, parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self.conn: http.client.HTTPConnection | None = None
        self.sessions: dict[str, str | None] = {}

    def ask(self, order_id: str, account: Account) -> dict[str, Any]:
        d = self.dialect
        token = self._session(account)
        spec = d.actions["order_status"]
        values = d.market_vars(MARKET)
        wanted = order_status(order_id)
        values.update(wanted.values)
        draft = d.draft(spec, values, account, token)
        status, content, header, error = self._send(spec.method, draft.target, draft.body_bytes,
                                                    draft.headers)  # fmt: skip
        line: dict[str, Any] = {"status": status}
        if error is not None:
            return {**line, "answer": "failed", "outcome": error, "error": error}
        reading = read_answer(d, spec, status, header, content, wanted.wants)
        if reading.kind is None:
            return {
                **line,
                "answer": "found",
                "outcome": "ok",
                "order_state": _short(reading.fields.get("order_state")),
                "executed_volume": _short(reading.fields.get("executed_volume")),
            }
        code = reading.code or _code(d, content)
        rules = d.reconcile
        unknown = rules is not None and (
            status in rules.unknown_statuses or (code is not None and code in rules.unknown_codes)
        )
        return {
            **line,
            "answer": "unknown" if unknown else "failed",
            "outcome": reading.kind,
            "code": _short(code),
            "error": None if unknown else f"{reading.kind} (HTTP {status})",
        }

    def _session(self, account: Account) -> str | None:
        """An app session for signing schemes that need one (logged in once per account)."""
        d = self.dialect
        if not d.signing.needs_session or "login" not in d.actions:
            return None
        if account.member_id in self.sessions:
            return self.sessions[account.member_id]
        spec = d.actions["login"]
        a = login(account.member_id, account.password)
        values = d.market_vars(MARKET)
        values.update(a.values)
        draft = d.draft(spec, values, account, None)
        status, content, header, error = self._send(spec.method, draft.target, draft.body_bytes,
                                                    draft.headers)  # fmt: skip
        token = None
        if error is None:
            reading = read_answer(d, spec, status, header, content, a.wants)
            if reading.kind is None and reading.fields.get("session_token") is not None:
                token = str(reading.fields["session_token"])
        self.sessions[account.member_id] = token
        return token

    def _send(self, method: str, target: str, body: bytes | None, headers: dict[str, str]):
        headers = {"X-Client-Id": "surgeproof-reconcile", **headers}
        for attempt in (0, 1):  # a keep-alive connection the server closed: once more, fresh
            if self.conn is None:
                cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
                self.conn = cls(self.host, self.port, timeout=self.timeout_s)
            try:
                self.conn.request(method, self.base + target, body, headers)
                resp = self.conn.getresponse()
                content = resp.read(4 << 20)
                return resp.status, content, resp.getheader, None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt or isinstance(exc, TimeoutError):
                    kind = "timeout" if isinstance(exc, TimeoutError) else "connection_error"
                    return 0, b"", lambda _h: None, kind
        return 0, b"", lambda _h: None, "connection_error"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def look_up_orders(
    run_dir: Path,
    dialect: Dialect,
    target_url: str,
    accounts: list[Account],
    budget: LookupBudget,
    *,
    timeout_s: float = 10.0,
    stop: Callable[[], bool] = lambda: False,
    target_label: str | None = None,
) -> LookupPass:
    """Ask the target for every acknowledged order not yet answered; append the answers."""
    run_dir = Path(run_dir)
    journal, _damage = read_journal(run_dir)
    orders = acknowledged_orders(journal)
    done, _damage = read_lookups(run_dir)
    conclusive = {oid for oid, a in done.items() if a.get("answer") in ("found", "unknown")}
    todo = [o for oid, o in orders.items() if oid not in conclusive]
    result = LookupPass(acknowledged=len(orders), already=len(orders) - len(todo))
    started = now_ns()
    if todo and "order_status" not in dialect.actions:
        result.stopped = f"dialect {dialect.name} has no order_status"
        result.pending = len(todo)
        _progress(run_dir, budget, started, result, target_label or target_url)
        return result
    by_member = {a.member_id: a for a in accounts}
    log = JsonlLog(run_dir / LOOKUP_ANSWERS) if todo else None
    pacer = _Pacer(budget.rate_per_s, time.monotonic() + budget.max_s)
    queue = list(reversed(todo))
    lock = threading.Lock()

    def work() -> None:
        asker = _Asker(dialect, target_url, timeout_s)
        try:
            while True:
                with lock:
                    if not queue or stop():
                        return
                    order = queue.pop()
                account = by_member.get(order.account or "")
                if account is None:
                    why = f"no credentials here for account {order.account}"
                    line = {"answer": "failed", "status": 0, "outcome": "not_sent", "error": why}
                else:
                    if not pacer.wait_turn():
                        with lock:
                            queue.append(order)
                            result.stopped = "time budget"
                        return
                    line = asker.ask(order.order_id, account)
                entry = {
                    "t_ns": now_ns(),
                    "order_id": order.order_id,
                    "source": order.source,
                    "user": order.user,
                    "account": order.account,
                    **line,
                }
                assert log is not None
                log.append(entry)
                with lock:
                    result.looked_up += 1
                    result.answers[line["answer"]] = result.answers.get(line["answer"], 0) + 1
        finally:
            asker.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(budget.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if log is not None:
        log.close()
    if stop() and queue:
        result.stopped = "interrupted"
    result.pending = len(queue)
    _progress(run_dir, budget, started, result, target_label or target_url)
    return result


def _progress(
    run_dir: Path, budget: LookupBudget, started: int, result: LookupPass, target: str
) -> None:
    """``reconciliation/progress.json``: this invocation added to the earlier ones."""
    path = run_dir / LOOKUP_PROGRESS
    earlier: list[Any] = []
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            earlier = old.get("invocations", []) if isinstance(old, dict) else []
        except (ValueError, OSError, RecursionError):
            earlier = []
    invocation = {
        "started_ns": started,
        "ended_ns": now_ns(),
        "budget": budget.to_dict(),
        "looked_up": result.looked_up,
        "answers": result.answers,
        "stopped": result.stopped,
        "target": target,
    }
    conclusive = result.already + result.answers.get("found", 0) + result.answers.get("unknown", 0)
    doc = {
        "invocations": [*earlier[-99:], invocation],
        "acknowledged": result.acknowledged,
        "conclusive": conclusive,
        "pending": result.acknowledged - conclusive,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _code(dialect: Dialect, content: bytes) -> str | None:
    """The error code at the dialect's ``reconcile.code`` (the errors' code is read already)."""
    rules = dialect.reconcile
    if rules is None or rules.code_pointer is None or not content:
        return None
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return None
    value = rules.code_pointer.find(data)
    return None if value is None or isinstance(value, dict | list) else str(value)


def _short(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    return str(value)[:128]
