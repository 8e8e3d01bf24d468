"""Drive surgeproof's surge with plain Locust (web UI included).

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 \\
        --scenario martial-law-2024-12-03 --time-scale 1/24 --user-scale 1/2000 \\
        [--dialect upbit|bithumb|coinone|FILE]

The same ``SurgeUser`` (open model, roles from the phase mix) and the same shape as
``surgeproof run``. It writes a complete run directory to ``--surgeproof-dir`` (default
``reports/locust-<time>``): the records as a ``local`` source, the timeline, phase and level
events, the scenario and profile as run, and ``run.json`` with the same metadata ``surgeproof
run`` writes, its ``driver`` saying ``plain locust``; so ``surgeproof analyze``, ``report`` and
``gate`` work on it. A test stopped before the timeline's end (``-t``, Ctrl-C) is marked partial.
The target is whatever ``--host`` says: start one with ``surgeproof exchange``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import gevent
from locust import events

from surgeproof.load import shape as surge_shape
from surgeproof.load.accounts import accounts_for_target
from surgeproof.load.collector import Collector
from surgeproof.load.context import LoadContext
from surgeproof.load.dialect_choice import choose_dialect, ws_url_for
from surgeproof.load.judge import level_judge
from surgeproof.load.meta import DRIVER_PLAIN_LOCUST, end_status, iso_pair, run_meta
from surgeproof.load.options import RunOptions, copy_inputs
from surgeproof.load.recorder import now_ns
from surgeproof.load.sampler import Sampler
from surgeproof.load.target import is_loopback_url
from surgeproof.load.users.surge_user import SurgeUser
from surgeproof.rundir.schema import DIALECT_COPY
from surgeproof.rundir.writer import write_meta
from surgeproof.scenario.catalog import load_scenario
from surgeproof.scenario.plan import resolve
from surgeproof.scenario.units import parse_scale

__all__ = ["SurgeUser", "TimelineShape"]


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument(
        "--scenario",
        default="martial-law-2024-12-03",
        include_in_web_ui=True,
        help="surgeproof scenario name or YAML path",
    )
    parser.add_argument("--time-scale", default="1/24", include_in_web_ui=True)
    parser.add_argument("--user-scale", default="1/2000", include_in_web_ui=True)
    parser.add_argument(
        "--dialect",
        default="",
        include_in_web_ui=True,
        help="the API the target speaks (default: the scenario's, the profile's, else upbit)",
    )
    parser.add_argument("--surgeproof-dir", default="", help="where the run directory is written")


class TimelineShape(surge_shape.SurgeShape):
    """The scenario's timeline, from when the test starts."""

    def __init__(self) -> None:
        super().__init__(program=None, t0_ns=time.time_ns())
        self.finished = False

    def reset_time(self) -> None:
        super().reset_time()
        self.t0_ns = time.time_ns()

    def tick(self):
        env = self.runner.environment
        if getattr(env, "surgeproof", None) is None:
            _setup(env)
        t_s = (time.time_ns() - self.t0_ns) / 1e9
        self.program.advance(t_s, self.t0_ns)
        if self.program.users_for_tick(t_s) is None:
            self.finished = True
            return None  # plain Locust: the shape ends the test at the timeline's end
        env.surgeproof.set_state(self.program.state_at(t_s))
        return super().tick()


@events.test_start.add_listener
def _start(environment, **_kw) -> None:
    if getattr(environment, "surgeproof", None) is None:
        _setup(environment)


class _PlainRun:
    """The run directory of one plain-Locust test: what ``surgeproof run``'s conductor writes."""

    def __init__(self, environment) -> None:
        opts = environment.parsed_options
        self.plan = resolve(
            load_scenario(opts.scenario),
            None,
            parse_scale(opts.time_scale),
            parse_scale(opts.user_scale),
        )
        host = environment.host or ""
        self.dialect = choose_dialect(opts.dialect or None, self.plan, None)
        self.run_dir = Path(
            opts.surgeproof_dir or f"reports/locust-{time.strftime('%Y%m%dT%H%M%S')}"
        )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        copy_inputs(self.plan, self.run_dir)
        (self.run_dir / DIALECT_COPY).write_text(self.dialect.dialect.text, encoding="utf-8")
        shape = environment.shape_class
        self.shape = shape if isinstance(shape, TimelineShape) else None
        # A program that judges levels as it goes (a step search) reads this run directory.
        self.program = self.plan.program.runtime(
            level_judge(self.run_dir, self.plan.slos),
            judge_delay_s=RunOptions.timeout_s + 1.5,
            closed_model=self.plan.scenario.model == "closed",
        )
        if self.shape is not None:
            self.shape.program = self.program
        self.t0_ns = self.shape.t0_ns if self.shape is not None else now_ns()
        self.ctx = LoadContext(
            source="local",
            dialect=self.dialect.dialect,
            ws_url=ws_url_for(self.dialect.dialect, host, None),
            accounts=accounts_for_target(host, is_loopback_url(host), None),
            locust_stats=True,  # Locust's web UI and CSVs show the calls too
        )
        self.ctx.set_state(self.program.state_at(0.0))
        self.collector = Collector(self.run_dir)
        self.sampler = Sampler(self.ctx)
        self.meta = run_meta(
            run_id=self.run_dir.name,
            started_ns=now_ns(),
            t0_ns=self.t0_ns,
            plan=self.plan,
            model=self.plan.scenario.model,
            dialect=self.dialect.meta(),
            target={
                "url": host,
                "embedded": False,
                "loopback": is_loopback_url(host),
                "config": None,
            },
            workers_expected=0,
            client={
                "timeout_s": SurgeUser.network_timeout,
                "max_inflight_per_user": self.ctx.max_inflight_per_user,
            },
            driver={
                "kind": DRIVER_PLAIN_LOCUST,
                "locustfile": str(Path(__file__).resolve()),
                "command": " ".join(["locust", *sys.argv[1:]]),
            },
        )
        self.meta["workers"]["seen"] = ["local"]
        write_meta(self.run_dir, {**self.meta, "status": "running"})
        self.collector.event("run_start", t_ns=self.t0_ns)
        self.flusher = gevent.spawn(self._flush_every_second)

    def _flush_every_second(self) -> None:
        while True:
            gevent.sleep(1.0)
            self._events()
            self.collector.batch("local", *self.sampler.take())
            self.collector.orders("local", self.ctx.orders.take())

    def _events(self) -> None:
        t_s = (now_ns() - self.t0_ns) / 1e9
        for ev in self.program.events_until(t_s, self.t0_ns):
            self.collector.event(ev.pop("type"), **ev)

    def finish(self) -> None:
        """The last records and events, then run.json: complete, or partial when cut short."""
        self.flusher.kill(block=False)
        self.ctx.cancel_all()
        self._events()
        raw, names, sample = self.sampler.take()
        self.collector.batch("local", raw, names, sample)
        self.collector.orders("local", self.ctx.orders.take())
        ended = now_ns()
        reached_end = (self.shape is not None and self.shape.finished) or (
            ended - self.t0_ns
        ) / 1e9 >= self.program.end_s
        reason = None if reached_end else "the Locust test stopped before the timeline's end"
        counts = self.collector.record_counts()
        status, why = end_status(reason, sum(counts.values()), self.collector.calls_sent())
        self.collector.event("run_end", status=status)
        self.collector.close()
        utc, kst = iso_pair(ended)
        extra = {"ended_at_utc": utc, "ended_at_kst": kst, "counts": {"records": counts}}
        if reason:
            extra["stopped_at_utc"] = utc
        if status == "failed":
            extra["failed_reason"] = why
        write_meta(self.run_dir, {**self.meta, "status": status, "partial_reason": reason, **extra})


def _setup(environment) -> None:
    run = _PlainRun(environment)
    environment.surgeproof = run.ctx
    environment.surgeproof_run = run


@events.test_stop.add_listener
def _stop(environment, **_kw) -> None:
    run = getattr(environment, "surgeproof_run", None)
    if run is not None:
        run.finish()
