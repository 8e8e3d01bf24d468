"""The conductor of a run: from the target's start to a complete (or honestly partial) run dir.

The conductor (this process) owns the plan, the shape, the run directory and the target; the
simulated users run in-process (``--workers 0``) or in Locust workers (``worker_fleet``) that
receive the current ``LoadState`` every second and ship their records back every second. The
faults a run replays live in ``fault_schedule``, run.json's first form in ``meta``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from surgeproof.load import messages
from surgeproof.load.abort_rule import AbortRule
from surgeproof.load.collector import Collector
from surgeproof.load.dialect_choice import (
    DialectChoice,
    ws_url_for,
)
from surgeproof.load.fault_schedule import FaultSchedule, planned_faults
from surgeproof.load.live import Live
from surgeproof.load.liveness import tune_locust_heartbeat
from surgeproof.load.meta import DRIVER_SURGEPROOF, end_status, iso_pair, run_meta
from surgeproof.load.options import RunOptions
from surgeproof.load.progress import Progress
from surgeproof.load.recorder import now_ns
from surgeproof.load.server_metrics import ServerMetricsPoller
from surgeproof.load.target import (
    Target,
    check_ws_url,
    default_target_config,
    fetch_json,
    start_embedded,
)
from surgeproof.load.worker_fleet import WorkerFleet
from surgeproof.rundir.schema import LOCUST_DIR, ORDERS_DIR
from surgeproof.rundir.writer import write_meta
from surgeproof.scenario.programs import Program
from surgeproof.scenario.programs import kind_of as program_kind

#: Time between the conductor's start signal and t0, so workers and users start together.
LEAD_S = 1.0
#: Longest the end of a run waits for calls still in flight before recording them cancelled.
DRAIN_CAP_S = 10.0
#: Longest a stop may take after SIGTERM/SIGINT (two drains, the workers' last batches, the
#: exchange's last second) before the stop guard ends the run itself.
FINISH_CAP_S = 60.0


class Conductor:
    """One run: the target, the Locust runner, the tick loop and the run directory."""

    def __init__(
        self,
        opts: RunOptions,
        plan,
        model: str,
        run_dir: Path,
        dialect: DialectChoice,
        embedded_dialect: str | None = None,
        live: Live | None = None,
    ) -> None:
        self.opts = opts
        self.plan = plan
        self.model = model
        self.run_dir = run_dir
        self.dialect = dialect
        self.embedded_dialect = embedded_dialect
        self.collector = Collector(run_dir)
        #: The live views (``--metrics-port``, ``--dashboard``), fed by the collector; the
        #: launcher closes them once the run's answer is written.
        self.live = live
        self.stop_reason: str | None = None
        self.meta: dict[str, Any] = {}
        self.fleet = WorkerFleet(opts, self.collector, run_dir / "server" / "workers.log")
        self.faults: FaultSchedule | None = None
        #: Whether the load started (the shape's first tick): before it, a failure is "failed".
        self.started = False
        self.guard = None  # the StopGuard, once signals are ours
        self.marks = None  # the MarkEndpoint (--mark-port), while the run goes

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

    def _write_meta(self, status: str, **extra: Any) -> None:
        write_meta(self.run_dir, {**self.meta, "status": status, **extra})

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
            accounts = self.opts.exchange_accounts or max(
                100, math.ceil(self.plan.peak_users * 1.2)
            )
            target = start_embedded(
                self.opts.target_config or default_target_config(),
                accounts,
                self.run_dir / "server" / "exchange.log",
                self.embedded_dialect,
            )
            target.ws_url = ws_url_for(dialect, target.url, target.ws_url)
        if target.ws_url:
            check_ws_url(target.ws_url, self.opts.allow_remote_target)
        return target

    def _program(self) -> Program:
        """The plan's program to play; its judge reads the run directory as it is written."""
        from surgeproof.load.judge import level_judge

        return self.plan.program.runtime(
            level_judge(self.run_dir, self.plan.slos),
            judge_delay_s=self.opts.timeout_s + 1.5,
            closed_model=self.model == "closed",
        )

    def _local_context(self, target: Target, program):
        """The in-process users' context (``--workers 0``)."""
        from surgeproof.load.accounts import accounts_for_target, require_accounts
        from surgeproof.load.context import LoadContext

        embedded_like = target.embedded or target.loopback
        ctx = LoadContext(
            source="local",
            accounts=accounts_for_target(target.url, embedded_like, self.opts.accounts_file),
            dialect=self.dialect.dialect,
            ws_url=target.ws_url,
            max_inflight_per_user=self.opts.max_inflight_per_user,
        )
        require_accounts(ctx.accounts, self.plan.behaviours)
        ctx.set_state(program.state_at(0.0))
        return ctx

    def _worker_setup(self, target: Target) -> dict[str, Any]:
        """What every worker needs to play its share (sent once, when it says hello)."""
        dialect = self.dialect.dialect
        return {
            "url": target.url,
            "ws_url": target.ws_url,
            "dialect": {"text": dialect.text, "source": dialect.source},
            "embedded_like": target.embedded or target.loopback,
            "accounts_file": self.opts.accounts_file,
            "max_inflight_per_user": self.opts.max_inflight_per_user,
            "timeout_s": self.opts.timeout_s,
            # A program that judges levels as it goes (a step search) reads the run directory
            # meanwhile: no shard may wait on a worker's host for the end.
            "records_while_running": program_kind(self.plan.program).judges_live,
        }

    # -- the run --------------------------------------------------------------------------

    def _run(self) -> Path:
        import locust
        from locust.env import Environment

        from surgeproof.load.shape import SurgeShape
        from surgeproof.load.users.surge_user import SurgeUser

        opts = self.opts
        started = now_ns()
        _log_to(self.run_dir / LOCUST_DIR / "locust.log")
        target = self._start_target()
        faults = planned_faults(opts, self.plan.time_scale, self.plan.scenario.faults)
        self.faults = FaultSchedule(faults, target, self.collector, self.run_dir)
        try:
            if self.live is not None:
                self.live.start(self.collector, self.run_dir.name, target)
            program = self._program()
            shape = SurgeShape(program, now_ns())
            # Only what Locust's master reads: it sends vars(options) with every spawn message,
            # and a worker rebuilds Locust's whole argument parser once per key it receives
            # (locust 2.47 WorkerRunner, "custom arguments"): with the ~80 keys of a full parse
            # that cost each worker ~0.1 s of CPU per second of a ramp.
            options = argparse.Namespace(headless=True, enable_rebalancing=True, host=target.url)
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
            self.meta = run_meta(
                run_id=self.run_dir.name,
                started_ns=started,
                t0_ns=0,
                plan=self.plan,
                model=self.model,
                dialect=self.dialect.meta(),
                target={
                    "url": target.url,
                    "embedded": target.embedded,
                    "loopback": target.loopback,
                    "config": target.config,
                },
                workers_expected=self.fleet.expected,
                client={
                    "timeout_s": opts.timeout_s,
                    "max_inflight_per_user": opts.max_inflight_per_user,
                },
                driver={"kind": DRIVER_SURGEPROOF},
            )
            self._write_meta("running")
            self.collector.event("run_start", t_ns=started)
            self._open_marks()
            self._install_signals()
            if self.fleet.expected:
                tune_locust_heartbeat()
                runner = env.create_master_runner(opts.master_bind_host, self.fleet.master_port())
                self.fleet.start(runner, self._worker_setup(target), lambda: self.stop_reason)
                ctx = None
            else:
                runner = env.create_local_runner()
                ctx = env.surgeproof = self._local_context(target, program)
            # t0 only once every process is ready: the plan's second 0 is the same for all. On a
            # whole second, so a worker's Unix seconds are the analysis's 1-s windows too.
            t0 = -(-(now_ns() + int(LEAD_S * 1e9)) // 1_000_000_000) * 1_000_000_000
            shape.t0_ns = t0
            self.faults.t0_ns = t0
            if self.live is not None:
                self.live.set_t0(t0)
            self.meta["t0_ns"] = t0
            self._write_meta("running")
            poller = None
            if target.embedded or (target.loopback and target.config):
                poller = ServerMetricsPoller(target.url, self.run_dir, started / 1e9 - 1)
                self.faults.watch_gateways()
            self._loop(runner, program, shape, t0, ctx, poller)
            self._finish(runner, ctx, poller, program)
            self._look_up_orders(target, ctx)
            if self.opts.shards_stay:
                self._analyse_where_shards_lie(runner)
        finally:
            if self.marks is not None:  # the run failed before its end: no event to add now
                self.marks.close()
            self.faults.cancel()
            self.fleet.stop()
            target.stop()
            if self.guard is not None:
                self.guard.done()
        return self.run_dir

    def _open_marks(self) -> None:
        """The loopback endpoint external tools mark the run's clock through (--mark-port)."""
        if self.opts.mark_port is None or self.opts.fleet_key is None:
            return
        from surgeproof.load.mark_endpoint import MarkEndpoint

        def on_mark(text: str) -> None:
            self.collector.event("mark", text=text, via="endpoint")
            print(f"surgeproof run: mark {text!r}", flush=True)

        self.marks = MarkEndpoint(
            self.opts.fleet_key.secret, self.run_dir.name, self.opts.mark_port, on_mark
        )
        self.marks.start(self.run_dir)
        print(f"surgeproof run: marks on {self.marks.url} (surgeproof mark RUN_DIR TEXT)")

    def _close_marks(self) -> None:
        if self.marks is None:
            return
        self.marks.close()
        if self.marks.refused:
            self.collector.event("marks_refused", counts=dict(self.marks.refused))
            said = ", ".join(f"{n} {why}" for why, n in sorted(self.marks.refused.items()))
            print(f"surgeproof run: marks refused: {said}", flush=True)
        self.marks = None

    def _send_state(self, runner, ctx, state) -> None:
        if ctx is not None:
            ctx.set_state(state)
        else:
            self.fleet.broadcast(runner, messages.STATE, state.to_message())

    def _loop(self, runner, program, shape, t0, ctx, poller) -> None:
        import gevent

        from surgeproof.load.sampler import Sampler

        opts = self.opts
        assert self.faults is not None
        sampler = Sampler(ctx) if ctx is not None else None
        progress = Progress(self.collector, program, t0, opts.progress_every_s)
        abort = AbortRule(opts.abort_error_ratio, opts.abort_after_s)
        last_state = None
        last_second = 0
        while now_ns() < t0:
            gevent.sleep(0.02)
        self._send_state(runner, ctx, program.state_at(0.0))
        self.started = True
        runner.start_shape()
        while True:
            gevent.sleep(0.2)
            t_s = (now_ns() - t0) / 1e9
            program.advance(t_s, t0)
            for ev in program.events_until(t_s, t0):
                self.collector.event(ev.pop("type"), **ev)
            state = program.state_at(t_s)
            second = int(t_s)
            if state != last_state or second != last_second:
                self._send_state(runner, ctx, state)
                last_state = state
            self.faults.tick(t_s)
            if sampler is None:
                # Every tick, not every second: a dead local worker is handed to Locust at once.
                self.fleet.tick(runner)
            if second != last_second:
                last_second = second
                if sampler is not None:
                    raw, names, sample = sampler.take()
                    self.collector.batch("local", raw, names, sample)
                    self.collector.orders("local", ctx.orders.take())
                if poller is not None:
                    poller.poll()
                    self.faults.observe(poller)
                progress.maybe_print(t_s, state)
                self._show_invalid()
                self._check_abort(abort, t_s)
            if self.stop_reason is not None:
                break
            if t_s >= program.end_s or program.users_for_tick(t_s) is None:
                break
            deadline = t0 + int(self._cap_s(program) * 1e9)
            if now_ns() >= deadline:
                self.stop_reason = f"stopped at the duration cap ({(deadline - t0) / 1e9:.0f}s)"
                break

    def _check_abort(self, abort: AbortRule, t_s: float) -> None:
        ratio = abort.check(t_s, self.collector.latest.values())
        if ratio is not None and self.stop_reason is None:
            self.collector.event("abort", rule=abort.rule, value=ratio)
            self.stop_reason = (
                f"aborted: error ratio {ratio:.2f} > {abort.ratio:g} for {abort.after_s:g}s"
            )

    def _cap_s(self, program: Program) -> float:
        """Seconds after t0 at which the run is cut: ``--max-duration``, else the program's end
        plus its overrun (a search's end moves out with every level it holds again)."""
        if self.opts.max_duration is not None:
            return self.opts.max_duration
        return program.end_s + program.overrun_s

    def _finish(self, runner, ctx, poller, program) -> None:
        import gevent

        ended = now_ns()
        if ctx is not None:
            grace = min(self.opts.timeout_s + 0.5, DRAIN_CAP_S)
            ctx.drain(grace)
            runner.stop()
            ctx.drain(grace)  # users leaving log out: their last calls get the same grace
            ctx.cancel_all()
            from surgeproof.load.sampler import Sampler

            raw, names, last = Sampler(ctx).take()
            self.collector.batch("local", raw, names, None)
            self.collector.orders("local", ctx.orders.take())
            self.collector.note_invalid("local", last.get("invalid_requests"))
        else:
            self.fleet.finish(runner, keep=self.opts.shards_stay)
            runner.stop()
        if poller is not None:
            gevent.sleep(1.1)  # let the exchange close the last second
            poller.poll(final=True)
            self.faults.observe(poller)  # type: ignore[union-attr]
            poller.write_ledger()
            poller.close()
        if not self.opts.shards_stay:
            runner.quit()  # else the workers answer for their shards first
        assert self.faults is not None
        self.faults.finish()  # a fault command still running is killed: never outlives the run
        self._close_marks()
        self._show_invalid()
        here = self.collector.record_counts()
        # Records that stayed on the workers' hosts (--shards-stay) are the run's records too.
        counts = {**here, **self.fleet.kept_counts()}
        status, why = end_status(
            self.stop_reason, sum(counts.values()), self.collector.calls_sent()
        )
        self.collector.event("run_end", status=status)
        utc, kst = iso_pair(ended)
        extra: dict[str, Any] = {
            "ended_at_utc": utc,
            "ended_at_kst": kst,
            "partial_reason": self.stop_reason,
            "counts": {"records": counts},
        }
        if status == "failed":
            extra["failed_reason"] = why
        if self.stop_reason:
            extra["stopped_at_utc"] = utc
        summary = program.summary()
        if summary is not None and program.summary_key:
            extra[program.summary_key] = summary
        self.meta["workers"].update(self.fleet.meta(here))
        self.collector.close()
        self._write_meta(status, **extra)
        print(
            f"surgeproof run: {status}"
            + (f" ({why})" if why else "")
            + f"; {sum(counts.values())} records in {self.run_dir}",
            flush=True,
        )

    def _analyse_where_shards_lie(self, runner) -> None:
        """``--shards-stay``: the analysis, its passes run by each worker over its own shard;
        then the workers may leave. A failure leaves the shards where they are, gatherable."""
        from surgeproof.analysis.run import analyze_run, write_analysis
        from surgeproof.analysis.shard_hosts import ShardHostError
        from surgeproof.load.shard_service import FleetShardHosts
        from surgeproof.rundir.schema import RunDirError

        kept = self.fleet.kept_shards()
        try:
            if not kept or self.opts.no_analyze:
                return
            print(
                f"surgeproof run: analysing {len(kept)} record shard(s) where they lie "
                f"({', '.join(sorted(kept))}); only partial results cross",
                flush=True,
            )
            hosts = FleetShardHosts(self.fleet.gate, kept)
            try:
                write_analysis(self.run_dir, analyze_run(self.run_dir, hosts=hosts))
            except (ShardHostError, RunDirError) as exc:
                print(
                    f"surgeproof run: analysis where the shards lie failed: {exc}; the records "
                    "stay on the workers' hosts (run.json workers.missing_shards says how to "
                    "gather them)",
                    flush=True,
                )
                return
            asked, answered = hosts.crossed["asked"], hosts.crossed["answered"]
            print(
                f"surgeproof run: analysed where the shards lie: {asked:,} bytes of plans out, "
                f"{answered:,} bytes of partial results back",
                flush=True,
            )
        finally:
            runner.quit()
            self.fleet.release()

    def _look_up_orders(self, target: Target, ctx) -> None:
        """Every order the target acknowledged, asked for through ``order_status`` while it still
        runs (the run itself is over and recorded; an interrupt stops only the lookups)."""
        from surgeproof.load.order_lookup import default_budget, look_up_orders

        opts = self.opts
        if not opts.reconcile or not (self.run_dir / ORDERS_DIR).is_dir():
            return
        budget = default_budget(target.embedded, opts.reconcile_rate, opts.reconcile_time_s)
        if ctx is not None:
            accounts = ctx.accounts
        else:
            from surgeproof.load.accounts import accounts_for_target

            embedded_like = target.embedded or target.loopback
            accounts = accounts_for_target(target.url, embedded_like, opts.accounts_file)
        before = self.stop_reason
        done = look_up_orders(
            self.run_dir,
            self.dialect.dialect,
            target.url,
            accounts,
            budget,
            timeout_s=opts.timeout_s,
            stop=lambda: self.stop_reason != before,
        )
        if done.acknowledged:
            print(f"surgeproof run: {done.sentence()}", flush=True)

    def _show_invalid(self) -> None:
        """Requests the dialect could not build, one line per new reason (never a value)."""
        for endpoint, reason in self.collector.take_invalid_notes():
            shown = "".join(ch for ch in reason if ch.isprintable())
            print(
                f"surgeproof run: cannot build {endpoint}: {shown} (recorded as invalid_request)",
                flush=True,
            )

    def _install_signals(self) -> None:
        from surgeproof.load.stop_guard import StopGuard

        def stop(signame: str) -> None:
            if self.stop_reason is None:
                self.stop_reason = f"interrupted ({signame})"
                print(f"surgeproof run: {signame}: stopping, flushing records...", flush=True)

        # Not gevent's signal handlers: those run on the hub, which a stuck greenlet keeps from
        # running. The guard's run between bytecodes and are watched from an OS thread, so a
        # stuck run still stops (bounded) and leaves run.json marked.
        self.guard = StopGuard(self.run_dir, stop, self._last_words, finish_cap_s=FINISH_CAP_S)
        self.guard.start()

    def _last_words(self) -> tuple[dict[str, Any], int, int, str | None]:
        """What a hard stop writes: run.json so far, records on disk, calls sent, the reason."""
        meta = self.meta or {"run_id": self.run_dir.name, "scenario_name": self.plan.scenario.name}
        counts = self.collector.record_counts()
        return (
            {**meta, "counts": {"records": counts}},
            sum(counts.values()),
            self.collector.calls_sent(),
            self.stop_reason,
        )


def _log_to(path: Path) -> None:
    """Locust's own log goes to the run directory, not over the progress lines."""
    import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
