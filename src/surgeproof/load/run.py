"""``surgeproof run``: one run from start to a complete (or honestly partial) run directory.

The conductor (this process) owns the plan, the shape, the run directory and the target; the
simulated users run in-process (``--workers 0``) or in Locust workers that receive the current
``LoadState`` every second and ship their records back every second.
"""

from __future__ import annotations

import math
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from surgeproof.errors import UserError
from surgeproof.load import messages
from surgeproof.load.collector import Collector
from surgeproof.load.dialect_choice import (
    DialectChoice,
    choose_dialect,
    embedded_dialect_arg,
    ws_url_for,
)
from surgeproof.load.fleet_check import warn_fleet
from surgeproof.load.gateway_fault import GatewayWatch, check_gateway_crashes
from surgeproof.load.liveness import LocalWorkers, die_with_parent, tune_locust_heartbeat
from surgeproof.load.meta import git_commit, host_info, iso_pair, versions
from surgeproof.load.options import (
    RunOptions,
    check_injections,
    check_options,
    make_run_dir,
    plan_for,
)
from surgeproof.load.outage import TargetWatch, play_outage
from surgeproof.load.progress import Progress
from surgeproof.load.recorder import now_ns
from surgeproof.load.server_metrics import ServerMetricsPoller
from surgeproof.load.target import (
    Target,
    check_ws_url,
    describe_host,
    fetch_json,
    start_embedded,
)
from surgeproof.rundir.schema import DIALECT_COPY, LOCUST_DIR
from surgeproof.rundir.writer import write_meta

#: Time between the conductor's start signal and t0, so workers and users start together.
LEAD_S = 1.0
#: Longest the end of a run waits for calls still in flight before recording them cancelled.
DRAIN_CAP_S = 10.0
WORKER_CONNECT_TIMEOUT_S = 60.0
#: Workers on other machines are started by hand or by an orchestrator: give them longer.
REMOTE_WORKER_CONNECT_TIMEOUT_S = 180.0


def execute(opts: RunOptions) -> Path:
    """Run ``opts`` to the end; returns the run directory. Raises UserError on bad input."""
    check_options(opts)
    check_gateway_crashes(
        opts.gateway_crashes, opts.target, opts.target_config or _default_target_config()
    )
    plan = plan_for(opts)
    check_injections(opts, plan)
    target_says = _target_says(opts)
    choice = choose_dialect(opts.dialect, plan, target_says)
    from surgeproof.load.users.fit import check_fit

    for note in check_fit(choice.dialect, _behaviours(plan)):
        print(f"surgeproof run: note: {note}", flush=True)
    embedded_dialect = None
    if not opts.target:
        name = embedded_dialect_arg(choice)
        embedded_dialect = name if name != (target_says or "upbit") else None
    # Before anything starts: say what the machine(s) cannot offer of the peak (CPU, fds...).
    warn_fleet(plan, opts, choice.dialect)
    model = opts.model or plan.scenario.model
    if opts.target and not Target(opts.target, None, False).loopback:
        print(
            f"surgeproof run: REMOTE target {opts.target}: host {describe_host(opts.target)} "
            "(allowed by --allow-remote-target)",
            flush=True,
        )
    run_dir = make_run_dir(opts, plan)
    (run_dir / DIALECT_COPY).write_text(choice.dialect.text, encoding="utf-8")

    import gevent  # noqa: F401 - Locust monkey-patches on import; import it before anything else
    import locust  # noqa: F401

    return _Conductor(opts, plan, model, run_dir, choice, embedded_dialect).run()


class _Conductor:
    def __init__(
        self,
        opts: RunOptions,
        plan,
        model: str,
        run_dir: Path,
        dialect: DialectChoice,
        embedded_dialect: str | None = None,
    ) -> None:
        self.opts = opts
        self.plan = plan
        self.model = model
        self.run_dir = run_dir
        self.dialect = dialect
        self.embedded_dialect = embedded_dialect
        self.collector = Collector(run_dir)
        self.stop_reason: str | None = None
        self.target: Target | None = None
        self.meta: dict[str, Any] = {}
        self.lost: list[dict[str, Any]] = []
        self.seen: list[str] = []
        self.done_sources: set[str] = set()
        self.local = LocalWorkers()
        #: source -> {"host", "pid", "node"}: where each worker ran (run.json workers.nodes).
        self.nodes: dict[str, dict[str, Any]] = {}
        self.last_batch_ns: dict[str, int] = {}
        self._await_rebalance: list[dict[str, Any]] = []
        self.outage = None  # the greenlet playing an injected target outage
        #: Gateway deaths and returns of the exchange, from the metrics polled every second.
        self.gateways: GatewayWatch | None = None
        #: Whether the load started (the shape's first tick): before it, a failure is "failed".
        self.started = False

    # -- set-up ---------------------------------------------------------------------------

    def _start_target(self) -> Target:
        dialect = self.dialect.dialect
        if self.opts.target:
            url = self.opts.target
            target = Target(url, ws_url_for(dialect, url, None), False)
            if target.loopback:
                cfg = fetch_json(url + "/admin/config", timeout_s=2.0)
                target.config = cfg or {}
        else:
            peak = max(
                [p.users for p in self.plan.phases]
                + [self.plan.search.max_users if self.plan.search else 0.0]
            )
            accounts = self.opts.exchange_accounts or max(100, math.ceil(peak * 1.2))
            target = start_embedded(
                self.opts.target_config or _default_target_config(),
                accounts,
                self.run_dir / "server" / "exchange.log",
                self.embedded_dialect,
            )
            target.ws_url = ws_url_for(dialect, target.url, target.ws_url)
        if target.ws_url:
            check_ws_url(target.ws_url, self.opts.allow_remote_target)
        return target

    def _program(self):
        from surgeproof.load.program import SearchProgram, TimelineProgram

        closed = self.model == "closed"
        if self.plan.search is None:
            return TimelineProgram(self.plan, closed_model=closed)
        from surgeproof.load.judge import level_judge

        return SearchProgram(
            self.plan,
            level_judge(self.run_dir, self.plan.slos),
            judge_delay_s=self.opts.timeout_s + 1.5,
            closed_model=closed,
        )

    def _write_meta(self, status: str, **extra: Any) -> None:
        write_meta(self.run_dir, {**self.meta, "status": status, **extra})

    # -- the run --------------------------------------------------------------------------

    def run(self) -> Path:
        try:
            return self._run()
        except BaseException as exc:
            if not self.started:
                self._mark_failed(exc)
            raise

    def _mark_failed(self, exc: BaseException) -> None:
        """A run that ends before its first request says so in run.json, with the reason: never
        left "running" (which readers take for a run whose writer died mid-way)."""
        if isinstance(exc, KeyboardInterrupt):
            reason = "interrupted before the first request"
        else:
            reason = " ".join(str(exc).split()) or type(exc).__name__
        utc, kst = iso_pair(now_ns())
        meta = self.meta or {"run_id": self.run_dir.name, "scenario_name": self.plan.scenario.name}
        self.collector.close()
        write_meta(
            self.run_dir,
            {
                **meta,
                "status": "failed",
                "failed_reason": reason,
                "ended_at_utc": utc,
                "ended_at_kst": kst,
            },
        )

    def _run(self) -> Path:
        import locust
        from locust.argument_parser import get_parser
        from locust.env import Environment

        from surgeproof.load.accounts import accounts_for_target
        from surgeproof.load.context import LoadContext
        from surgeproof.load.shape import SurgeShape
        from surgeproof.load.users.surge_user import SurgeUser

        opts = self.opts
        started = now_ns()
        _log_to(self.run_dir / LOCUST_DIR / "locust.log")
        self.target = target = self._start_target()
        try:
            program = self._program()
            shape = SurgeShape(program, now_ns())
            options = get_parser(default_config_files=[]).parse_args(
                ["--headless", "--enable-rebalancing"]
            )
            options.host = target.url
            SurgeUser.network_timeout = opts.timeout_s
            SurgeUser.connection_timeout = min(5.0, opts.timeout_s)
            SurgeUser.host = target.url
            env = Environment(
                user_classes=[SurgeUser],
                shape_class=shape,
                host=target.url,
                parsed_options=options,
                events=locust.events,
            )
            self.meta = self._base_meta(started, 0, target)
            self._write_meta("running")
            self.collector.event("run_start", t_ns=started)
            self._install_signals()
            distributed = opts.workers + opts.expect_workers > 0
            if distributed:
                tune_locust_heartbeat()
                runner = env.create_master_runner(opts.master_bind_host, self._master_port())
                self._start_workers(env, runner, target)
                ctx = None
            else:
                runner = env.create_local_runner()
                embedded_like = target.embedded or target.loopback
                ctx = LoadContext(
                    source="local",
                    accounts=accounts_for_target(target.url, embedded_like, opts.accounts_file),
                    dialect=self.dialect.dialect,
                    ws_url=target.ws_url,
                    max_inflight_per_user=opts.max_inflight_per_user,
                )
                _check_accounts(ctx.accounts, self.plan)
                ctx.set_state(program.state_at(0.0))
                env.surgeproof = ctx
            # t0 only once every process is ready: the plan's second 0 is the same for all.
            t0 = now_ns() + int(LEAD_S * 1e9)
            shape.t0_ns = t0
            self.meta["t0_ns"] = t0
            self._write_meta("running")
            poller = None
            if target.embedded or (target.loopback and target.config):
                poller = ServerMetricsPoller(target.url, self.run_dir, started / 1e9 - 1)
                self.gateways = GatewayWatch()
            self.meta["workers"]["expected"] = opts.workers + opts.expect_workers
            self._loop(env, runner, program, shape, t0, ctx, poller)
            self._finish(env, runner, ctx, poller, program)
        finally:
            if self.outage is not None:
                self.outage.kill(block=False)  # a restart still pending must not outlive the run
            self._stop_workers()
            target.stop()
        return self.run_dir

    def _loop(self, env, runner, program, shape, t0, ctx, poller) -> None:
        import gevent

        from surgeproof.load.sampler import Sampler

        opts = self.opts
        sampler = Sampler(ctx) if ctx is not None else None
        progress = Progress(self.collector, program, t0, opts.progress_every_s)
        search_grace_s = self.plan.duration_s + 120.0 - program.end_s
        stalls = sorted(opts.stalls)
        outages = sorted(opts.outages)
        crashes = sorted(opts.gateway_crashes)
        watch = TargetWatch(self.target) if self.target and self.target.embedded else None
        last_state = None
        last_second = 0
        prev_workers: dict[str, int] = {}
        abort_since: float | None = None
        while now_ns() < t0:
            gevent.sleep(0.02)
        first = program.state_at(0.0)
        if ctx is not None:
            ctx.set_state(first)
        else:
            runner.send_message(messages.STATE, first.to_message())
        self.started = True
        runner.start_shape()
        while True:
            gevent.sleep(0.2)
            t_s = (now_ns() - t0) / 1e9
            if hasattr(program, "advance"):
                program.advance(t_s, t0)
            for ev in program.events_until(t_s, t0):
                self.collector.event(ev.pop("type"), **ev)
            state = program.state_at(t_s)
            second = int(t_s)
            if state != last_state or second != last_second:
                if ctx is not None:
                    ctx.set_state(state)
                else:
                    runner.send_message(messages.STATE, state.to_message())
                last_state = state
            while stalls and stalls[0][0] <= t_s:
                self._stall(*stalls.pop(0))
            if outages and outages[0][0] <= t_s and not self._injecting():
                assert self.target is not None
                self.outage = gevent.spawn(
                    play_outage, self.target, self.collector, outages.pop(0)[1]
                )
            while crashes and crashes[0][0] <= t_s and not self._injecting():
                assert self.target is not None and self.gateways is not None
                self.gateways.crash(self.target, self.collector, crashes.pop(0)[1])
            if watch is not None:
                watch.check(self.collector, self._injecting())
            if sampler is None:
                # Every tick, not every second: a dead local worker is handed to Locust at once.
                self._flag_exited_workers(runner)
                prev_workers = self._track_workers(runner, prev_workers)
            if second != last_second:
                last_second = second
                if sampler is not None:
                    raw, names, sample = sampler.take()
                    self.collector.batch("local", raw, names, sample)
                if poller is not None:
                    poller.poll()
                    self._observe_gateways(poller)
                progress.maybe_print(t_s, state)
                abort_since = self._check_abort(t_s, abort_since)
            if self.stop_reason is not None:
                break
            if t_s >= program.end_s or program.users_for_tick(t_s) is None:
                break
            deadline = t0 + int(self._cap_s(program, search_grace_s) * 1e9)
            if now_ns() >= deadline:
                self.stop_reason = f"stopped at the duration cap ({(deadline - t0) / 1e9:.0f}s)"
                break

    def _cap_s(self, program, search_grace_s: float) -> float:
        """Seconds after t0 at which the run is cut: ``--max-duration``, else the program's end
        plus a grace (a search's end moves out with every level it holds again)."""
        if self.opts.max_duration is not None:
            return self.opts.max_duration
        if self.plan.search is not None:
            return program.end_s + max(search_grace_s, 30.0)
        return program.end_s + 30.0

    def _finish(self, env, runner, ctx, poller, program) -> None:
        import gevent

        ended = now_ns()
        if ctx is not None:
            grace = min(self.opts.timeout_s + 0.5, DRAIN_CAP_S)
            ctx.drain(grace)
            runner.stop()
            ctx.drain(grace)  # users leaving log out: their last calls get the same grace
            ctx.cancel_all()
            from surgeproof.load.sampler import Sampler

            raw, names, _sample = Sampler(ctx).take()
            self.collector.batch("local", raw, names, None)
        else:
            runner.send_message(messages.FINISH, {})
            wait_until = time.monotonic() + 8.0
            live = {s for s in self.seen if s not in {x["source"] for x in self.lost}}
            while time.monotonic() < wait_until and not live <= self.done_sources:
                gevent.sleep(0.1)
            runner.stop()
        if poller is not None:
            gevent.sleep(1.1)  # let the exchange close the last second
            poller.poll(final=True)
            self._observe_gateways(poller)
            poller.write_ledger()
            poller.close()
        runner.quit()
        status = "partial" if self.stop_reason else "complete"
        self.collector.event("run_end", status=status)
        utc, kst = iso_pair(ended)
        extra: dict[str, Any] = {
            "ended_at_utc": utc,
            "ended_at_kst": kst,
            "partial_reason": self.stop_reason,
            "counts": {"records": self.collector.record_counts()},
        }
        if self.stop_reason:
            extra["stopped_at_utc"] = utc
        summary = program.summary()
        if summary is not None:
            extra["search"] = summary
        self.meta["workers"]["lost"] = self.lost
        self.meta["workers"]["seen"] = self.seen
        if self.nodes:
            # What each worker says it shipped beside what reached this run directory.
            for source, node in self.nodes.items():
                node["received"] = extra["counts"]["records"].get(source, 0)
            self.meta["workers"]["nodes"] = self.nodes
        self.collector.close()
        self._write_meta(status, **extra)
        print(
            f"surgeproof run: {status}"
            + (f" ({self.stop_reason})" if self.stop_reason else "")
            + f"; {sum(extra['counts']['records'].values())} records in {self.run_dir}",
            flush=True,
        )

    # -- pieces ---------------------------------------------------------------------------

    def _base_meta(self, started: int, t0: int, target: Target) -> dict[str, Any]:
        utc, kst = iso_pair(started)
        scale = {
            "time_scale": self.plan.time_scale,
            "user_scale": self.plan.user_scale,
            "assumption": "; ".join(self.plan.assumptions) or "unscaled",
        }
        return {
            "run_id": self.run_dir.name,
            "started_at_utc": utc,
            "started_at_kst": kst,
            "t0_ns": t0,
            "scenario": self.plan.to_dict(),
            "scenario_name": self.plan.scenario.name,
            "profile_name": self.plan.profile.name if self.plan.profile else None,
            "load_model": self.model,
            "dialect": self.dialect.meta(),
            "scale": scale,
            "target": {
                "url": target.url,
                "embedded": target.embedded,
                "loopback": target.loopback,
                "config": target.config,
            },
            "workers": {"expected": self.opts.workers, "seen": [], "lost": []},
            "host": host_info(),
            "versions": versions(),
            "git_commit": git_commit(),
            "client": {
                "timeout_s": self.opts.timeout_s,
                "max_inflight_per_user": self.opts.max_inflight_per_user,
            },
        }

    def _install_signals(self) -> None:
        import gevent

        def stop(signame: str) -> None:
            if self.stop_reason is None:
                self.stop_reason = f"interrupted ({signame})"
                print(f"surgeproof run: {signame}: stopping, flushing records...", flush=True)

        gevent.signal_handler(signal.SIGINT, stop, "SIGINT")
        gevent.signal_handler(signal.SIGTERM, stop, "SIGTERM")

    def _stall(self, at_s: float, seconds: float) -> None:
        assert self.target is not None
        start = now_ns()
        import json

        fetch_json(self.target.url + "/admin/stall", data=json.dumps({"seconds": seconds}).encode())
        self.collector.event("stall", start_ns=start, end_ns=start + int(seconds * 1e9))

    def _check_abort(self, t_s: float, since: float | None) -> float | None:
        limit = self.opts.abort_error_ratio
        if limit is None:
            return None
        latest = self.collector.latest.values()
        sent = sum(int(s.get("sent", 0)) for s in latest)
        errors = sum(int(s.get("errors", 0)) for s in latest)
        ratio = errors / sent if sent else 0.0
        if ratio <= limit:
            return None
        since = t_s if since is None else since
        if t_s - since >= self.opts.abort_after_s:
            rule = f"error ratio > {limit:g} for {self.opts.abort_after_s:g}s"
            self.collector.event("abort", rule=rule, value=ratio)
            self.stop_reason = (
                f"aborted: error ratio {ratio:.2f} > {limit:g} for {self.opts.abort_after_s:g}s"
            )
        return since

    # -- workers --------------------------------------------------------------------------

    def _master_port(self) -> int:
        if self.opts.master_port:
            return self.opts.master_port
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def _start_workers(self, env, runner, target: Target) -> None:
        import gevent

        def on_batch(environment, msg, **_kw) -> None:
            d = msg.data
            source = str(d["source"])
            self.last_batch_ns[source] = now_ns()
            names = {int(i): (str(n), str(g)) for i, n, g in d.get("names", [])}
            self.collector.batch(source, bytes(d.get("raw") or b""), names, d.get("sample"))

        def on_ready(environment, msg, **_kw) -> None:
            source = str(msg.data["source"])
            if source not in self.seen:
                self.seen.append(source)
                self.collector.event("worker_joined", source=source, users=0, node=str(msg.node_id))

        def on_done(environment, msg, **_kw) -> None:
            source = str(msg.data["source"])
            self.done_sources.add(source)
            if "shipped" in msg.data:
                self.nodes.setdefault(source, {})["shipped"] = int(msg.data["shipped"])

        def on_hello(environment, msg, **_kw) -> None:
            d = msg.data or {}
            source = str(d.get("source") or messages.source_of(msg.node_id))
            pid, host = d.get("pid"), d.get("host")
            self.nodes[source] = {"host": host, "pid": pid, "node": str(msg.node_id)}
            if host == socket.gethostname() and pid in {p.pid for p in self.local.procs}:
                self.local.node_pid[str(msg.node_id)] = int(pid)
            runner.send_message(messages.SETUP, setup, client_id=msg.node_id)

        setup = {
            "url": target.url,
            "ws_url": target.ws_url,
            "dialect": {"text": self.dialect.dialect.text, "source": self.dialect.dialect.source},
            "embedded_like": target.embedded or target.loopback,
            "accounts_file": self.opts.accounts_file,
            "max_inflight_per_user": self.opts.max_inflight_per_user,
            "timeout_s": self.opts.timeout_s,
        }
        runner.register_message(messages.BATCH, on_batch)
        runner.register_message(messages.READY, on_ready)
        runner.register_message(messages.DONE, on_done)
        runner.register_message(messages.HELLO, on_hello)
        port = runner.master_bind_port
        log_path = self.run_dir / "server" / "workers.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")  # noqa: SIM115 - the workers hold it; closed below
        bind = self.opts.master_bind_host
        local_master = "127.0.0.1" if bind in ("", "*", "0.0.0.0", "::") else bind
        for _ in range(self.opts.workers):
            self.local.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "surgeproof.cli",
                        "worker",
                        "--master",
                        local_master,
                        "--master-port",
                        str(port),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    # Ctrl-C reaches the conductor only, which finishes the workers in order;
                    # a SIGKILLed conductor takes its workers with it.
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            )
        log.close()
        expected = self.opts.workers + self.opts.expect_workers
        timeout = WORKER_CONNECT_TIMEOUT_S
        if self.opts.expect_workers:
            timeout = REMOTE_WORKER_CONNECT_TIMEOUT_S
            print(
                f"surgeproof run: waiting up to {timeout:.0f}s for {self.opts.expect_workers} "
                f"worker(s): surgeproof worker --master {self.opts.master_bind_host} "
                f"--master-port {port}",
                flush=True,
            )
        deadline = time.monotonic() + timeout
        while len(self.seen) < expected:
            if self.stop_reason is not None:
                raise UserError(f"{self.stop_reason} while waiting for workers")
            if time.monotonic() > deadline:
                raise UserError(
                    f"only {len(self.seen)} of {expected} workers connected within {timeout:.0f}s"
                )
            gevent.sleep(0.1)

    def _observe_gateways(self, poller: ServerMetricsPoller) -> None:
        if self.gateways is not None and not self._injecting():
            # During a target outage the gateways die with the exchange: that is its outage.
            self.gateways.observe(self.collector, poller.gateways)

    def _injecting(self) -> bool:
        return self.outage is not None and not self.outage.dead

    def _flag_exited_workers(self, runner) -> None:
        """A local worker whose process exited is missing now, not after its heartbeats lapse."""
        for node_id in self.local.exited_nodes():
            node = runner.clients.get(node_id)
            if node is not None and node.state != "missing":
                node.heartbeat = -1  # Locust marks it missing and rebalances on its next beat

    def _track_workers(self, runner, prev: dict[str, int]) -> dict[str, int]:
        """worker_lost / rebalanced events from Locust's view of its workers."""
        now: dict[str, int] = {}
        for node in runner.clients.values():
            if node.state != "missing":
                now[node.id] = sum(node.user_classes_count.values())
        for node_id, users in prev.items():
            if node_id in now:
                continue
            source = messages.source_of(node_id)
            if node_id in self.local.reported:
                how = "process exit"
            elif node_id in runner.clients:
                how = "heartbeat"
            else:
                how = "worker stopped"
            t_lost = now_ns()
            entry = {
                "source": source,
                "t_ns": t_lost,
                "users": users,
                "detected_by": how,
                "last_batch_ns": self.last_batch_ns.get(source),
            }
            self.lost.append(entry)
            self.collector.latest.pop(source, None)  # its last sample no longer counts
            self.collector.event(
                "worker_lost",
                t_ns=t_lost,
                source=source,
                users=users,
                detected_by=how,
                last_batch_ns=entry["last_batch_ns"],
            )
            self._await_rebalance.append(entry)
        if self._await_rebalance and now:
            self._check_restored(runner, now)
        return now

    def _check_restored(self, runner, now: dict[str, int]) -> None:
        """``rebalanced`` once the living workers' own samples, taken after the loss, show the
        offered users running again (Locust's dispatch alone is not users running)."""
        first = self._await_rebalance[0]
        target = runner.target_user_count
        samples = [self.collector.latest.get(messages.source_of(n)) for n in now]
        if target <= 0 or not all(s and s["t_ns"] > first["t_ns"] for s in samples):
            return
        active = sum(int(s.get("active_users", 0)) for s in samples if s)
        if active < target:  # restored means every offered user runs again, not most of them
            return
        t = max(int(s["t_ns"]) for s in samples if s)
        self.collector.event(
            "rebalanced",
            t_ns=t,
            workers=len(now),
            users=active,
            gap_s=(t - first["t_ns"]) / 1e9,
            short_from_ns=first["last_batch_ns"] or first["t_ns"],
        )
        for entry in self._await_rebalance:
            # The window in which offered load fell short: from the last batch the worker
            # shipped (it may have died any time after) to the users running again.
            entry["short_from_ns"] = entry["last_batch_ns"] or entry["t_ns"]
            entry["restored_t_ns"] = t
            entry["short_s"] = (t - entry["short_from_ns"]) / 1e9
        self._await_rebalance = []

    def _stop_workers(self) -> None:
        for p in self.local.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()


def _default_target_config() -> str | None:
    """``scenarios/targets/default.yaml``: the embedded exchange as the demo and docs describe it
    (per-user rate-limit identity, since every simulated user shares 127.0.0.1)."""
    from surgeproof.scenario.catalog import scenarios_dir

    path = scenarios_dir() / "targets" / "default.yaml"
    return str(path) if path.is_file() else None


def _log_to(path: Path) -> None:
    """Locust's own log goes to the run directory, not over the progress lines."""
    import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _target_says(opts: RunOptions) -> str | None:
    """The dialect the target config (embedded) or a loopback surgeproof exchange names."""
    if opts.target:
        if not Target(opts.target, None, False).loopback:
            return None
        cfg = fetch_json(opts.target + "/admin/config", timeout_s=2.0)
        said = cfg.get("dialect") if isinstance(cfg, dict) else None
        return said if isinstance(said, str) else None
    path = opts.target_config or _default_target_config()
    if not path:
        return None
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # the exchange itself reports a broken config, with its reason
    said = doc.get("dialect") if isinstance(doc, dict) else None
    return said if isinstance(said, str) else None


def _behaviours(plan) -> set[str]:
    """Every behaviour some phase (or the search) gives a share of users."""
    mixes = [p.mix for p in plan.phases] + ([plan.search.mix] if plan.search else [])
    return {b for m in mixes for b, share in m.items() if share > 0}


def _check_accounts(accounts, plan) -> None:
    from surgeproof.load.users.registry import NEEDS_ACCOUNTS

    needing = sorted(_behaviours(plan) & NEEDS_ACCOUNTS)
    if needing and not accounts:
        raise UserError(
            f"behaviours {', '.join(needing)} need accounts: pass --accounts-file or set "
            "$SURGEPROOF_ACCOUNTS_FILE (the embedded exchange provides its own)"
        )
