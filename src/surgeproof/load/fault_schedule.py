"""The faults a run replays, on one schedule: stalls, target outages, websocket gateway crashes.

``--inject-stall``, ``--inject-target-outage`` and ``--inject-gateway-crash`` each name a
time after t0; the conductor's tick hands the schedule the time and the schedule fires what is
due (one injection at a time: a gateway crash waits for an outage to end). It also notices the
faults nobody injected — an embedded exchange that exits, a gateway that dies — so that the
analysis sees every outage the run lived through.
"""

from __future__ import annotations

import json

from surgeproof.load.collector import Collector
from surgeproof.load.gateway_fault import GatewayWatch
from surgeproof.load.options import RunOptions
from surgeproof.load.outage import TargetWatch, play_outage
from surgeproof.load.recorder import now_ns
from surgeproof.load.server_metrics import ServerMetricsPoller
from surgeproof.load.target import Target, fetch_json


class FaultSchedule:
    """Injections still due, the outage playing now, and the watches on the target."""

    def __init__(self, opts: RunOptions, target: Target, collector: Collector) -> None:
        self.target = target
        self.collector = collector
        self.stalls = sorted(opts.stalls)
        self.outages = sorted(opts.outages)
        self.crashes = sorted(opts.gateway_crashes)
        self.outage = None  # the greenlet playing an injected target outage
        self.exits = TargetWatch(target) if target.embedded else None
        #: Gateway deaths and returns, from the exchange metrics polled every second.
        self.gateways: GatewayWatch | None = None

    def watch_gateways(self) -> None:
        """The target reports its gateways (its metrics are polled): watch them."""
        self.gateways = GatewayWatch()

    def injecting(self) -> bool:
        return self.outage is not None and not self.outage.dead

    def tick(self, t_s: float) -> None:
        """Fire what is due at ``t_s`` seconds after t0; notice an exchange that exited."""
        import gevent

        while self.stalls and self.stalls[0][0] <= t_s:
            self._stall(self.stalls.pop(0)[1])
        if self.outages and self.outages[0][0] <= t_s and not self.injecting():
            seconds = self.outages.pop(0)[1]
            self.outage = gevent.spawn(play_outage, self.target, self.collector, seconds)
        while self.crashes and self.crashes[0][0] <= t_s and not self.injecting():
            assert self.gateways is not None  # checked before the run: the exchange has some
            self.gateways.crash(self.target, self.collector, self.crashes.pop(0)[1])
        if self.exits is not None:
            self.exits.check(self.collector, self.injecting())

    def observe(self, poller: ServerMetricsPoller) -> None:
        """Gateway deaths and returns in the metrics just polled."""
        if self.gateways is not None and not self.injecting():
            # During a target outage the gateways die with the exchange: that is its outage.
            self.gateways.observe(self.collector, poller.gateways)

    def cancel(self) -> None:
        """A restart still pending must not outlive the run."""
        if self.outage is not None:
            self.outage.kill(block=False)

    def _stall(self, seconds: float) -> None:
        start = now_ns()
        body = json.dumps({"seconds": seconds}).encode()
        fetch_json(self.target.url + "/admin/stall", data=body)
        self.collector.event("stall", start_ns=start, end_ns=start + int(seconds * 1e9))
