"""The faults a run replays, on one schedule and in one event shape.

Every fault — a team's own command (``--fault-command``, ``--fault-shell``, a scenario's
``faults:`` with ``command``/``shell``), or one the embedded exchange plays (a target outage, a
websocket gateway crash, a stall) — is a :class:`PlannedFault` due at a time after t0. The
conductor's tick hands the schedule the time and the schedule fires what is due. Each fault is a
``fault_start`` event when it begins and a ``fault_end`` event when its action is over (a
command's exit, an outage's restart, a stall's end, a gateway's kill), with the same fields
whatever its kind, so the analysis measures recovery from all of them alike. Injections keep
their older events too (``target_down``/``target_up``, ``gateway_down``, ``stall``).

The schedule also notices the faults nobody injected — an embedded exchange that exits, a
gateway that dies — so the analysis sees every outage the run lived through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surgeproof.errors import UserError
from surgeproof.load.collector import Collector
from surgeproof.load.fault_command import CommandRun, CommandSpec, command_env
from surgeproof.load.gateway_fault import GatewayWatch
from surgeproof.load.options import RunOptions
from surgeproof.load.outage import TargetWatch, play_outage
from surgeproof.load.recorder import now_ns
from surgeproof.load.server_metrics import ServerMetricsPoller
from surgeproof.load.target import Target, fetch_json

#: Seconds a command's output reader may outlive the command (a child holding its pipe).
READER_GRACE_S = 1.0


@dataclass(frozen=True)
class PlannedFault:
    """One fault due ``at_s`` real seconds after t0."""

    index: int
    name: str
    kind: str  # "command" | "target-outage" | "gateway-crash" | "stall"
    at_s: float
    origin: str  # where it was asked for: "--fault-command 30m:...", "scenario faults[2]"
    command: CommandSpec | None = None
    timeout_s: float = 0.0
    seconds: float = 0.0  # outage / stall length (real seconds)
    gateway: int = 0

    def start_fields(self) -> dict[str, Any]:
        """What ``fault_start`` says of this fault besides its time."""
        out: dict[str, Any] = {
            "fault": self.index,
            "name": self.name,
            "kind": self.kind,
            "planned_at_s": self.at_s,
            "origin": self.origin,
        }
        if self.command is not None:
            out.update(self.command.to_event(), timeout_s=self.timeout_s)
        if self.kind in ("target-outage", "stall"):
            out["seconds"] = self.seconds
        if self.kind == "gateway-crash":
            out["gateway"] = self.gateway
        return out

    def describe(self) -> str:
        what = {
            "command": lambda: self.command.shown() if self.command else "",
            "target-outage": lambda: f"embedded exchange killed for {self.seconds:g} s",
            "gateway-crash": lambda: f"websocket gateway {self.gateway} killed",
            "stall": lambda: f"exchange stalled for {self.seconds:g} s",
        }[self.kind]()
        return f"{self.name} at t={self.at_s:g} s: {what}"


def planned_faults(opts: RunOptions, time_scale: float, scenario_faults=()) -> list[PlannedFault]:
    """Every fault of the run, in time order: scenario ``faults:`` and ``--fault-command`` /
    ``--fault-shell`` in scenario time (scaled by ``time_scale``), the ``--inject-*`` flags in
    run seconds (as they always were)."""
    items: list[tuple[float, str, str, dict[str, Any]]] = []
    for i, f in enumerate(scenario_faults):
        origin = f"scenario faults[{i}]"
        fields: dict[str, Any] = {"seconds": f.seconds * time_scale, "gateway": f.gateway}
        if f.kind == "command":
            spec = CommandSpec(argv=f.argv) if f.shell is None else CommandSpec(shell=f.shell)
            fields.update(command=spec, timeout_s=f.timeout_s)
        items.append((f.at_s * time_scale, f.kind, f"{origin} {f.name}", {"name": f.name,
                                                                          **fields}))  # fmt: skip
    for at_s, spec in opts.fault_commands:
        flag = "--fault-shell" if spec.shell is not None else "--fault-command"
        fields = {"command": spec, "timeout_s": opts.fault_timeout_s}
        items.append((at_s * time_scale, "command", f"{flag} {spec.shown()}", fields))
    for at_s, seconds in opts.stalls:
        items.append((at_s, "stall", f"--inject-stall {at_s:g}:{seconds:g}", {"seconds": seconds}))
    for at_s, seconds in opts.outages:
        origin = f"--inject-target-outage {at_s:g}:{seconds:g}"
        items.append((at_s, "target-outage", origin, {"seconds": seconds}))
    for at_s, gateway in opts.gateway_crashes:
        origin = f"--inject-gateway-crash {at_s:g}:{gateway}"
        items.append((at_s, "gateway-crash", origin, {"gateway": gateway}))
    items.sort(key=lambda it: it[0])
    out = []
    for index, (at_s, kind, origin, fields) in enumerate(items):
        name = fields.pop("name", None) or f"fault-{index + 1}"
        out.append(PlannedFault(index, name, kind, at_s, origin, **fields))
    return out


def check_faults(faults: list[PlannedFault], end_s: float, remote_target: str | None) -> None:
    """Refuse a fault the run cannot play: after its end, or embedded-only against --target."""
    for f in faults:
        if f.at_s >= end_s:
            raise UserError(
                f"{f.origin}: at {f.at_s:g} s the run is over (it lasts {end_s:g} s); "
                "play it earlier"
            )
        if remote_target and f.kind == "target-outage":
            raise UserError(
                f"{f.origin}: a target outage kills and restarts the embedded exchange; not "
                "with --target (use a fault command that fails your own over)"
            )


class FaultSchedule:
    """Faults still due, the ones playing now, and the watches on the target."""

    def __init__(
        self, faults: list[PlannedFault], target: Target, collector: Collector, run_dir: Path
    ) -> None:
        self.target = target
        self.collector = collector
        self.run_dir = run_dir
        self.due = sorted(faults, key=lambda f: f.at_s)
        self.t0_ns = 0
        self.outage = None  # the greenlet playing an injected target outage
        self.commands: list[tuple[PlannedFault, CommandRun, Any]] = []
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
        while self.due and self.due[0].at_s <= t_s:
            f = self.due[0]
            if f.kind in ("target-outage", "gateway-crash") and self.injecting():
                break  # one injection into the exchange at a time: wait for the outage's end
            self.due.pop(0)
            self._fire(f)
        if self.exits is not None:
            self.exits.check(self.collector, self.injecting())

    def _fire(self, f: PlannedFault) -> None:
        import gevent

        if f.kind == "command":
            self._command(f)
        elif f.kind == "target-outage":
            self.outage = gevent.spawn(self._outage, f)
        elif f.kind == "gateway-crash":
            assert self.gateways is not None  # checked before the run: the exchange has some
            t = self.gateways.crash(self.target, self.collector, f.gateway)
            if t is not None:
                self._start(f, t)
                self._end(f, now_ns(), {"injected": True})
            else:
                self._start(f, now_ns())
                self._end(f, now_ns(), {"injected": False, "error": "gateway not serving"})
        else:
            self._stall(f)

    def observe(self, poller: ServerMetricsPoller) -> None:
        """Gateway deaths and returns in the metrics just polled."""
        if self.gateways is not None and not self.injecting():
            # During a target outage the gateways die with the exchange: that is its outage.
            self.gateways.observe(self.collector, poller.gateways)

    def finish(self) -> None:
        """The run is over: commands still running are killed, their ends recorded."""
        for f, run, greenlet in self.commands:
            if run.proc is not None and run.proc.poll() is None:
                run.stop_for_run_end()
                greenlet.kill(block=True, timeout=KILL_WAIT_S)
                self._command_end(f, run)

    def cancel(self) -> None:
        """A restart still pending, or a command, must not outlive the run."""
        if self.outage is not None:
            self.outage.kill(block=False)
        for _f, run, greenlet in self.commands:
            run.stop_for_run_end()
            greenlet.kill(block=False)

    # -- the kinds ------------------------------------------------------------------------

    def _start(self, f: PlannedFault, t_ns: int, **extra: Any) -> None:
        at = (t_ns - self.t0_ns) / 1e9 if self.t0_ns else None
        self.collector.event("fault_start", t_ns=t_ns, **f.start_fields(), at_s=at, **extra)
        print(f"surgeproof run: fault {f.describe()} — started", flush=True)

    def _end(self, f: PlannedFault, t_ns: int, fields: dict[str, Any]) -> None:
        self.collector.event(
            "fault_end", t_ns=t_ns, fault=f.index, name=f.name, kind=f.kind, **fields
        )

    def _command(self, f: PlannedFault) -> None:
        import gevent

        assert f.command is not None
        run = CommandRun(f.command, f.timeout_s, command_env(self._env(f)))
        started = run.start()
        self._start(f, run.started_ns, pid=run.proc.pid if run.proc is not None else None)
        if not started:
            self._command_end(f, run)
            return
        greenlet = gevent.spawn(self._play_command, f, run)
        self.commands.append((f, run, greenlet))

    def _play_command(self, f: PlannedFault, run: CommandRun) -> None:
        import gevent

        reader = gevent.spawn(run.read_output)
        run.wait()
        reader.join(timeout=READER_GRACE_S)
        reader.kill(block=False)
        self._command_end(f, run)

    def _command_end(self, f: PlannedFault, run: CommandRun) -> None:
        if getattr(run, "_reported", False):
            return
        run._reported = True  # type: ignore[attr-defined]
        fields = run.end_fields()
        self._end(f, run.ended_ns or now_ns(), fields)
        how = (
            fields["error"]
            or ("killed at its timeout" if fields["timed_out"] else None)
            or ("killed: the run ended" if fields["killed_by_run_end"] else None)
            or (f"exit {fields['exit_status']}" if fields["signal"] is None else fields["signal"])
        )
        print(
            f"surgeproof run: fault {f.name} ended after {fields['duration_s']:.1f} s ({how})",
            flush=True,
        )

    def _env(self, f: PlannedFault) -> dict[str, str]:
        """The documented variables a fault command finds the run and its target by."""
        t = self.target
        env = {
            "SURGEPROOF_TARGET_URL": t.url,
            "SURGEPROOF_TARGET_WS_URL": t.ws_url or "",
            "SURGEPROOF_TARGET_EMBEDDED": "1" if t.embedded else "0",
            "SURGEPROOF_RUN_DIR": str(self.run_dir),
            "SURGEPROOF_RUN_ID": self.run_dir.name,
            "SURGEPROOF_T0_NS": str(self.t0_ns),
            "SURGEPROOF_FAULT_NAME": f.name,
            "SURGEPROOF_FAULT_INDEX": str(f.index),
            "SURGEPROOF_FAULT_AT_S": f"{f.at_s:g}",
        }
        proc = t.process
        if t.embedded and proc is not None and proc.poll() is None:
            env["SURGEPROOF_TARGET_PID"] = str(proc.pid)
        return env

    def _outage(self, f: PlannedFault) -> None:
        played = play_outage(
            self.target,
            self.collector,
            f.seconds,
            on_down=lambda t_ns, pid: self._start(f, t_ns, pid=pid),
        )
        if played is not None:  # None: the exchange was already gone, nothing was injected
            down, up, pid = played
            self._end(f, up, {"down_s": (up - down) / 1e9, "pid": pid})

    def _stall(self, f: PlannedFault) -> None:
        import gevent

        start = now_ns()
        body = json.dumps({"seconds": f.seconds}).encode()
        answer = fetch_json(self.target.url + "/admin/stall", data=body)
        end = start + int(f.seconds * 1e9)
        self.collector.event("stall", start_ns=start, end_ns=end)
        self._start(f, start)
        fields = {"injected": answer is not None}
        gevent.spawn_later(f.seconds, self._end, f, end, fields)


#: Longest the end of a run waits for a killed command's greenlet.
KILL_WAIT_S = 5.0
