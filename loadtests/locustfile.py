"""Drive surgeproof's surge with plain Locust (web UI included).

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 \\
        --scenario martial-law-2024-12-03 --time-scale 1/24 --user-scale 1/2000 \\
        [--dialect upbit|bithumb|coinone|FILE]

The same ``SurgeUser`` (open model, roles from the phase mix) and the same shape as
``surgeproof run``; records go to ``--surgeproof-dir`` (default ``reports/locust-<time>``) as a
``local`` source, so ``surgeproof analyze`` reads them. The target is whatever ``--host`` says:
start one with ``surgeproof exchange`` (or ``python -m surgeproof.exchange``).
"""

from __future__ import annotations

import time
from pathlib import Path

import gevent
from locust import events

from surgeproof.load import shape as surge_shape
from surgeproof.load.accounts import accounts_for_target
from surgeproof.load.collector import Collector
from surgeproof.load.context import LoadContext
from surgeproof.load.dialect_choice import choose_dialect, ws_url_for
from surgeproof.load.program import TimelineProgram
from surgeproof.load.sampler import Sampler
from surgeproof.load.target import is_loopback_url
from surgeproof.load.users.surge_user import SurgeUser
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
        help="the API the target speaks (default: the scenario's, else upbit)",
    )
    parser.add_argument("--surgeproof-dir", default="", help="where records are written")


class TimelineShape(surge_shape.SurgeShape):
    """The scenario's timeline, from when the test starts."""

    def __init__(self) -> None:
        super().__init__(program=None, t0_ns=time.time_ns())

    def reset_time(self) -> None:
        super().reset_time()
        self.t0_ns = time.time_ns()

    def tick(self):
        env = self.runner.environment
        if getattr(env, "surgeproof", None) is None:
            _setup(env)
        t_s = (time.time_ns() - self.t0_ns) / 1e9
        if self.program.users_for_tick(t_s) is None:
            return None  # plain Locust: the shape ends the test at the timeline's end
        env.surgeproof.set_state(self.program.state_at(t_s))
        return super().tick()


@events.test_start.add_listener
def _start(environment, **_kw) -> None:
    if getattr(environment, "surgeproof", None) is None:
        _setup(environment)


def _setup(environment) -> None:
    opts = environment.parsed_options
    plan = resolve(
        load_scenario(opts.scenario),
        None,
        parse_scale(opts.time_scale),
        parse_scale(opts.user_scale),
    )
    host = environment.host or ""
    dialect = choose_dialect(opts.dialect or None, plan, None).dialect
    run_dir = Path(opts.surgeproof_dir or f"reports/locust-{time.strftime('%Y%m%dT%H%M%S')}")
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = LoadContext(
        source="local",
        dialect=dialect,
        ws_url=ws_url_for(dialect, host, None),
        accounts=accounts_for_target(host, is_loopback_url(host), None),
        locust_stats=True,  # Locust's web UI and CSVs show the calls too
    )
    environment.surgeproof = ctx
    shape = environment.shape_class
    if isinstance(shape, TimelineShape):
        shape.program = TimelineProgram(plan)
        ctx.set_state(shape.program.state_at(0.0))
    collector = Collector(run_dir)
    sampler = Sampler(ctx)

    def flush() -> None:
        while True:
            gevent.sleep(1.0)
            collector.batch("local", *sampler.take())

    environment.surgeproof_flusher = gevent.spawn(flush)
    environment.surgeproof_collector = collector


@events.test_stop.add_listener
def _stop(environment, **_kw) -> None:
    ctx = getattr(environment, "surgeproof", None)
    if ctx is None:
        return
    environment.surgeproof_flusher.kill(block=False)
    ctx.cancel_all()
    raw, names, _ = Sampler(ctx).take()
    environment.surgeproof_collector.batch("local", raw, names, None)
    environment.surgeproof_collector.close()
