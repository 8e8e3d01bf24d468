"""Synthetic run directories with a known truth, written with the real run-directory writer.

``QueueModel`` is a c-worker FIFO server with a fixed service time, fed by an open schedule of
evenly spaced arrivals (each of N users sends ``rate_per_user`` req/s): below
``capacity_users = workers / (service_s * rate_per_user)`` every request is served in
``service_s``; above it the queue grows without bound. Tests and the benchmark share this module.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from surgeproof.rundir.schema import (
    FLAG_CLOSED_MODEL,
    FLAG_ORDER_SUBMIT,
    RECORD_DTYPE,
    Kind,
    Outcome,
)
from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta

T0_NS = 1_733_230_800_000_000_000  # 2024-12-03T22:00:00+09:00
NS = 1_000_000_000

#: (name, group, flags) of the endpoints synthetic users call, in rotation.
ENDPOINTS: tuple[tuple[str, str, int], ...] = (
    ("GET /v1/ticker", "quotation", 0),
    ("POST /v1/session", "login", 0),
    ("GET /v1/orderbook", "quotation", 0),
    ("POST /v1/orders", "orders", FLAG_ORDER_SUBMIT),
)


@dataclass(frozen=True)
class QueueModel:
    """A c-worker FIFO server with a fixed service time; its ceiling is known exactly."""

    workers: int = 4
    service_s: float = 0.025
    rate_per_user: float = 2.0
    timeout_s: float = 5.0

    @property
    def capacity_rps(self) -> float:
        return self.workers / self.service_s

    @property
    def capacity_users(self) -> float:
        return self.capacity_rps / self.rate_per_user


@dataclass
class Level:
    """One step: ``users`` for ``settle_s`` (not judged) then ``hold_s`` (a level event)."""

    users: int
    hold_s: float = 10.0
    settle_s: float = 2.0
    #: Generator falls behind: this share of sends is late by ``lag_s``, CPU reads 100%.
    generator_bound: bool = False
    lag_s: float = 0.5
    late_share: float = 0.3


@dataclass
class SyntheticRun:
    """What was written, for the tests' assertions."""

    path: Path
    levels: list[tuple[int, int, int]] = field(default_factory=list)  # (users, start, end)
    records: np.ndarray | None = None
    names: list[tuple[str, str]] = field(default_factory=list)


def serve(
    intended_ns: np.ndarray,
    model: QueueModel,
    stalls: Sequence[tuple[int, int]] = (),
    service_ns: np.ndarray | None = None,
) -> np.ndarray:
    """Completion times (ns) of FIFO requests sent at ``intended_ns`` (sorted) by c workers."""
    free = [0] * model.workers
    heapq.heapify(free)
    svc = service_ns if service_ns is not None else np.full(len(intended_ns), model.service_s * NS)
    ends = np.empty(len(intended_ns), dtype=np.int64)
    for i, t in enumerate(intended_ns.tolist()):
        start = max(t, heapq.heappop(free))
        for a, b in stalls:
            if a <= start < b:
                start = b
        end = start + int(svc[i])
        heapq.heappush(free, end)
        ends[i] = end
    return ends


def queue_run(
    path: Path,
    model: QueueModel,
    levels: Sequence[Level],
    *,
    stalls: Sequence[tuple[float, float]] = (),
    sources: int = 1,
    seed: int = 7,
    exp_service: bool = False,
    status: str = "complete",
    user_scale: float = 1.0,
    gap_s: float = 1.0,
    ledger: dict | None = None,
    carry_queue: bool = False,
) -> SyntheticRun:
    """Write an open-model step run of ``levels`` against ``model`` into ``path``.

    Each level starts with an empty queue unless ``carry_queue``: then a backlog built by one
    level is still being served in the next (recovery after load falls).
    """
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    run = SyntheticRun(path, names=[(n, g) for n, g, _ in ENDPOINTS])
    stall_ns = [(T0_NS + int(a * NS), T0_NS + int(b * NS)) for a, b in stalls]
    events = JsonlLog(path / "events.jsonl")
    timeline = JsonlLog(path / "timeline.jsonl")
    events.append({"t_ns": T0_NS, "type": "run_start"})
    for a, b in stall_ns:
        events.append({"t_ns": a, "type": "stall", "start_ns": a, "end_ns": b})
    batches: list[np.ndarray] = []
    t = T0_NS
    for i, lv in enumerate(levels):
        rate = lv.users * model.rate_per_user
        span = lv.settle_s + lv.hold_s
        n = round(rate * span)
        intended = t + (np.arange(n) * (NS / rate)).astype(np.int64)
        svc = rng.exponential(model.service_s * NS, n).astype(np.int64) + 1 if exp_service else None
        lag = np.full(n, 200_000, dtype=np.int64)  # 0.2 ms: a healthy generator
        if lv.generator_bound:
            late = rng.random(n) < lv.late_share
            lag[late] = int(lv.lag_s * NS)
        sent = intended + lag
        if carry_queue:
            # Placeholder end = sent + service: the whole run is queued together below.
            ends = sent + (svc if svc is not None else int(model.service_s * NS))
        else:
            order = np.argsort(sent, kind="stable")
            ends = np.empty(n, dtype=np.int64)
            ends[order] = serve(sent[order], model, stall_ns, None if svc is None else svc[order])
        rec = np.zeros(n, dtype=RECORD_DTYPE)
        rec["intended_ns"] = intended
        rec["sent_ns"] = sent
        timed_out = ends - sent > model.timeout_s * NS
        rec["end_ns"] = np.where(timed_out, sent + int(model.timeout_s * NS), ends)
        rec["outcome"] = np.where(timed_out, Outcome.TIMEOUT, Outcome.OK)
        rec["status"] = np.where(timed_out, 0, 200)
        ep = np.arange(n) % len(ENDPOINTS)
        rec["name_id"] = ep
        rec["flags"] = np.array([f for _, _, f in ENDPOINTS], dtype=np.uint8)[ep]
        rec["kind"] = Kind.HTTP
        rec["user"] = np.arange(n) % lv.users
        rec["concurrency"] = lv.users
        batches.append(rec)
        hold_start = t + int(lv.settle_s * NS)
        hold_end = t + int(span * NS)
        events.append(
            {
                "t_ns": hold_end,
                "type": "level",
                "start_ns": hold_start,
                "end_ns": hold_end,
                "target_users": lv.users,
                "label": f"level-{i + 1}",
            }
        )
        run.levels.append((lv.users, hold_start, hold_end))
        for sec in range(int(span)):
            for s in range(sources):
                timeline.append(
                    {
                        "t_ns": t + sec * NS + NS // 2,
                        "source": _source_name(s, sources),
                        "target_users": lv.users,
                        "active_users": lv.users / sources,
                        "cpu_percent": 100.0 if lv.generator_bound else 35.0,
                        "late_sends": 0,
                        "missed": 0,
                        "inflight": 0,
                    }
                )
        t = hold_end + int(gap_s * NS)
    events.append({"t_ns": t, "type": "run_end", "status": status})
    events.close()
    timeline.close()
    records = np.concatenate(batches) if batches else np.empty(0, RECORD_DTYPE)
    if carry_queue:
        order = np.argsort(records["sent_ns"], kind="stable")
        svc_all = records["end_ns"] - records["sent_ns"]
        ends = np.empty(len(records), dtype=np.int64)
        ends[order] = serve(records["sent_ns"][order], model, stall_ns, svc_all[order])
        sent = records["sent_ns"]
        timed_out = ends - sent > model.timeout_s * NS
        records["end_ns"] = np.where(timed_out, sent + int(model.timeout_s * NS), ends)
        records["outcome"] = np.where(timed_out, Outcome.TIMEOUT, Outcome.OK)
        records["status"] = np.where(timed_out, 0, 200)
    # Records land in the file in completion order, as the recorder writes them.
    records = records[np.argsort(records["end_ns"], kind="stable")]
    run.records = records
    _write_records(path, records, sources)
    write_meta(path, _meta(status, user_scale, "open"))
    if ledger is not None:
        import json

        (path / "server").mkdir(exist_ok=True)
        (path / "server" / "ledger.json").write_text(json.dumps(ledger))
    return run


@dataclass(frozen=True)
class ClosedQueue:
    """Closed-loop users against a c-worker FIFO server with a fixed service time.

    Each user sends, waits for the answer, then waits before the next call: ``pace_s`` users
    (Locust's ``constant_throughput(1 / pace_s)``) send at most once per pace interval;
    ``think_s`` users think that long after each answer (uniform in ±``jitter`` of it). The
    saturation point is known exactly: where the users' unloaded demand meets the capacity.
    """

    workers: int
    service_s: float
    pace_s: float | None = None
    think_s: float | None = None
    jitter: float = 0.0

    @property
    def capacity_rps(self) -> float:
        return self.workers / self.service_s

    @property
    def saturation_users(self) -> float:
        cycle = self.pace_s if self.pace_s is not None else self.service_s + (self.think_s or 0)
        return self.capacity_rps * cycle


def closed_queue_run(
    path: Path,
    model: ClosedQueue,
    users: Sequence[int],
    *,
    hold_s: float = 10.0,
    settle_s: float = 3.0,
    seed: int = 11,
) -> SyntheticRun:
    """Write a closed-model step run (one level per entry of ``users``) into ``path``."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    run = SyntheticRun(path, names=[(n, g) for n, g, _ in ENDPOINTS])
    events = JsonlLog(path / "events.jsonl")
    timeline = JsonlLog(path / "timeline.jsonl")
    events.append({"t_ns": T0_NS, "type": "run_start"})
    svc = int(model.service_s * NS)
    wait_s = model.pace_s if model.pace_s is not None else model.think_s or 0.0
    batches = []
    t = T0_NS
    for i, n_users in enumerate(users):
        span = int((settle_s + hold_s) * NS)
        free = [t] * model.workers
        # (send time, user, time of that user's previous send)
        due = [(t + int(rng.random() * wait_s * NS), u, 0) for u in range(n_users)]
        heapq.heapify(due)
        sends, ends, who = [], [], []
        while due and due[0][0] < t + span:
            sent, user, _prev = heapq.heappop(due)
            end = max(sent, heapq.heappop(free)) + svc
            heapq.heappush(free, end)
            sends.append(sent)
            ends.append(end)
            who.append(user)
            if model.pace_s is not None:
                nxt = max(sent + int(model.pace_s * NS), end)
            else:
                think = (model.think_s or 0.0) * (1 + model.jitter * (2 * rng.random() - 1))
                nxt = end + int(think * NS)
            heapq.heappush(due, (nxt, user, sent))
        n = len(sends)
        rec = np.zeros(n, dtype=RECORD_DTYPE)
        rec["intended_ns"] = sends
        rec["sent_ns"] = sends
        rec["end_ns"] = ends
        rec["outcome"] = Outcome.OK
        rec["status"] = 200
        ep = np.arange(n) % len(ENDPOINTS)
        rec["name_id"] = ep
        rec["flags"] = (
            np.array([f for _, _, f in ENDPOINTS], dtype=np.uint8)[ep] | FLAG_CLOSED_MODEL
        )
        rec["kind"] = Kind.HTTP
        rec["user"] = who
        rec["concurrency"] = n_users
        batches.append(rec)
        hold_start, hold_end = t + int(settle_s * NS), t + span
        events.append(
            {
                "t_ns": hold_end,
                "type": "level",
                "start_ns": hold_start,
                "end_ns": hold_end,
                "target_users": n_users,
                "label": f"level-{i + 1}",
            }
        )
        run.levels.append((n_users, hold_start, hold_end))
        for sec in range(int(settle_s + hold_s)):
            timeline.append(
                {
                    "t_ns": t + sec * NS + NS // 2,
                    "source": "local",
                    "target_users": n_users,
                    "active_users": n_users,
                    "cpu_percent": 35.0,
                    "late_sends": 0,
                    "missed": 0,
                    "inflight": 0,
                }
            )
        # The next level starts once this one's last answers are in: levels do not overlap.
        t = max(ends, default=t + span) + NS
    events.append({"t_ns": t, "type": "run_end", "status": "complete"})
    events.close()
    timeline.close()
    records = np.concatenate(batches)
    records = records[np.argsort(records["end_ns"], kind="stable")]
    run.records = records
    _write_records(path, records, 1)
    write_meta(path, _meta("complete", 1.0, "closed"))
    return run


def usl_throughput(n: np.ndarray, sigma: float, kappa: float, lam: float) -> np.ndarray:
    """X(N) = λN / (1 + σ(N−1) + κN(N−1))."""
    n = np.asarray(n, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def usl_run(
    path: Path,
    users: Sequence[int],
    *,
    sigma: float,
    kappa: float,
    lam: float,
    hold_s: float = 10.0,
    noise: float = 0.0,
    seed: int = 3,
) -> SyntheticRun:
    """A closed-model run whose throughput at N users follows a known USL curve."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    run = SyntheticRun(path, names=[(n, g) for n, g, _ in ENDPOINTS])
    events = JsonlLog(path / "events.jsonl")
    batches = []
    t = T0_NS
    for n_users in users:
        x = float(usl_throughput(np.array([n_users]), sigma, kappa, lam)[0])
        x *= 1 + noise * rng.standard_normal()
        count = round(x * hold_s)
        resp_ns = int(n_users / x * NS)  # Little's law: N = X · R
        ends = t + ((np.arange(count) + 1) * (hold_s * NS / count)).astype(np.int64)
        rec = np.zeros(count, dtype=RECORD_DTYPE)
        rec["end_ns"] = ends
        rec["sent_ns"] = ends - resp_ns
        rec["intended_ns"] = rec["sent_ns"]
        rec["outcome"] = Outcome.OK
        rec["status"] = 200
        rec["name_id"] = 0
        rec["flags"] = FLAG_CLOSED_MODEL
        rec["concurrency"] = n_users
        rec["user"] = np.arange(count) % n_users
        batches.append(rec)
        events.append(
            {
                "t_ns": t + int(hold_s * NS),
                "type": "level",
                "start_ns": t,
                "end_ns": t + int(hold_s * NS),
                "target_users": n_users,
                "label": f"N={n_users}",
            }
        )
        run.levels.append((n_users, t, t + int(hold_s * NS)))
        t += int((hold_s + 1) * NS)
    events.close()
    records = np.concatenate(batches)
    run.records = records
    _write_records(path, records, 1)
    write_meta(path, _meta("complete", 1.0, "closed"))
    return run


def _source_name(i: int, sources: int) -> str:
    return "local" if sources == 1 else f"worker-{i}"


def _write_records(path: Path, records: np.ndarray, sources: int) -> None:
    for s in range(sources):
        f = RecordFile(path, _source_name(s, sources))
        f.add_names({i: (n, g) for i, (n, g, _) in enumerate(ENDPOINTS)})
        part = records[s::sources]
        for lo in range(0, len(part), 1 << 20):
            f.append(part[lo : lo + (1 << 20)])
        f.close()


def _meta(status: str, user_scale: float, load_model: str) -> dict:
    return {
        "run_id": "synthetic",
        "status": status,
        "partial_reason": None if status == "complete" else "interrupted (SIGINT)",
        "t0_ns": T0_NS,
        "scenario_name": "synthetic",
        "profile_name": None,
        "load_model": load_model,
        "scale": {
            "time_scale": 1.0,
            "user_scale": user_scale,
            "assumption": f"1 simulated user stands for {1 / user_scale:g} real users",
        },
        "target": {"url": "http://127.0.0.1:1", "embedded": True, "config": {}},
        "workers": {"expected": 1, "seen": ["local"], "lost": []},
    }


def limited_run(
    path: Path,
    users: Sequence[int],
    *,
    rate_per_user: float,
    admitted_rps: float,
    hold_s: float = 10.0,
) -> SyntheticRun:
    """An open-model step run against a server that admits ``admitted_rps`` calls a second
    (served in 20 ms) and refuses the rest at once with 503 in 2 ms, like nginx ``limit_req``."""
    path.mkdir(parents=True, exist_ok=True)
    run = SyntheticRun(path, names=[(n, g) for n, g, _ in ENDPOINTS])
    events = JsonlLog(path / "events.jsonl")
    events.append({"t_ns": T0_NS, "type": "run_start"})
    batches = []
    t = T0_NS
    for i, n_users in enumerate(users):
        rate = n_users * rate_per_user
        count = round(rate * hold_s)
        intended = t + (np.arange(count) * (NS / rate)).astype(np.int64)
        # Each second admits its first ``admitted_rps`` arrivals.
        second = (intended - t) // NS
        _, first = np.unique(second, return_index=True)
        rank = np.arange(count) - np.repeat(first, np.diff(np.append(first, count)))
        admitted = rank < admitted_rps
        rec = np.zeros(count, dtype=RECORD_DTYPE)
        rec["intended_ns"] = intended
        rec["sent_ns"] = intended + 200_000
        rec["end_ns"] = rec["sent_ns"] + np.where(admitted, 20_000_000, 2_000_000)
        rec["outcome"] = np.where(admitted, Outcome.OK, Outcome.SERVER_ERROR)
        rec["status"] = np.where(admitted, 200, 503)
        rec["name_id"] = 0
        rec["kind"] = Kind.HTTP
        rec["concurrency"] = n_users
        rec["user"] = np.arange(count) % n_users
        batches.append(rec)
        events.append(
            {
                "t_ns": t + int(hold_s * NS),
                "type": "level",
                "start_ns": t,
                "end_ns": t + int(hold_s * NS),
                "target_users": n_users,
                "label": f"level-{i + 1}",
            }
        )
        run.levels.append((n_users, t, t + int(hold_s * NS)))
        t += int((hold_s + 1) * NS)
    events.append({"t_ns": t, "type": "run_end", "status": "complete"})
    events.close()
    records = np.concatenate(batches)
    records = records[np.argsort(records["end_ns"], kind="stable")]
    run.records = records
    _write_records(path, records, 1)
    write_meta(path, _meta("complete", 1.0, "open"))
    return run
