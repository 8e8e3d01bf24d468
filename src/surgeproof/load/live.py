"""The live views of a run — Prometheus metrics and the dashboard — over one merge.

``--metrics-port`` and ``--dashboard`` read the same ``LiveTally``, fed by the collector as the
run directory is written. Both stay up after the run: the dashboard shows the analysis's
verdict and links the report, then both linger ``--metrics-linger`` seconds for a last look
(or scrape).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surgeproof.load.dashboard import Dashboard, open_dashboard
from surgeproof.load.live_metrics import LiveMetrics, LiveTally, open_live_metrics
from surgeproof.load.live_seconds import FLUSH_MARGIN_S
from surgeproof.load.subscription import CONNECT_TIMEOUT_S


class Live:
    """The tally and the servers that show it."""

    def __init__(
        self,
        tally: LiveTally,
        metrics: LiveMetrics | None,
        dashboard: Dashboard | None,
        linger_s: float,
    ) -> None:
        self.tally = tally
        self.metrics = metrics
        self.dashboard = dashboard
        self.linger_s = linger_s
        self._started = False

    def start(self, collector, run_id: str, target=None) -> None:
        """Observe ``collector`` (the run directory's writer) and start serving."""
        self.tally.info["run_id"] = run_id
        collector.observers.append(self.tally)
        # Workers that keep their own record shards tally their records into these buckets.
        collector.tally_bounds_s = self.tally.bounds_s
        if self.metrics is not None:
            self.metrics.start(target)
        if self.dashboard is not None:
            self.dashboard.facts.run_id = run_id
            self.dashboard.start()
            print(f"surgeproof run: live dashboard on {self.dashboard.url}", flush=True)
        self._started = True

    def set_t0(self, t0_ns: int) -> None:
        self.tally.start(t0_ns)

    def analysing(self) -> None:
        if self.dashboard is not None:
            self.dashboard.facts.finishing = True

    def finish(self, final: dict[str, Any] | None, report: Path | None) -> None:
        """The run's answer for the dashboard (None: no analysis was asked for)."""
        if self.dashboard is not None:
            self.dashboard.facts.finishing = False
            if final is not None:
                self.dashboard.finish(final, report)

    def close(self, linger: bool = True) -> None:
        """Stop serving, after ``linger_s`` so a last look or scrape sees the final values."""
        import gevent

        if linger and self._started and self.linger_s > 0:
            what = (
                "the dashboard and metrics"
                if self.metrics and self.dashboard
                else ("the dashboard" if self.dashboard else "the final metrics")
            )
            print(f"surgeproof run: serving {what} for {self.linger_s:g}s", flush=True)
            gevent.sleep(self.linger_s)
        for server in (self.metrics, self.dashboard):
            if server is not None:
                server.close()


def open_live(opts, plan) -> Live | None:
    """The live views ``opts`` asks for, bound (a busy port fails now) but not serving yet."""
    if opts.metrics_port is None and opts.dashboard_port is None:
        return None
    tally = LiveTally(
        plan.slos,
        scenario=plan.scenario.name,
        model=opts.model or plan.scenario.model,
        workers_expected=opts.workers + opts.expect_workers,
        settle_s=max(opts.timeout_s, CONNECT_TIMEOUT_S) + FLUSH_MARGIN_S,
    )
    metrics = open_live_metrics(opts, tally)
    dashboard = open_dashboard(opts, plan, tally)
    return Live(tally, metrics, dashboard, opts.metrics_linger_s)
