"""A websocket gateway of the embedded exchange killed mid-run, and gateway deaths noticed.

``--inject-gateway-crash AT[:ID]`` SIGKILLs gateway ID (default 0) of the embedded exchange AT
seconds into the run; the exchange replaces it on the same port, its sessions reconnect onto the
other gateways and the replacement. Every death is a ``gateway_down`` event (cause ``injected``
or ``died``) and every replacement that serves again a ``gateway_up`` event, read from the
``gateways`` list of ``/admin/metrics`` that the run polls every second: the analysis does not
care who killed the gateway.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from typing import Any

from surgeproof.errors import UserError
from surgeproof.load.collector import Collector
from surgeproof.load.recorder import now_ns
from surgeproof.load.target import Target, fetch_json
from surgeproof.scenario.numbers import parse_number, parse_whole


@dataclass(frozen=True)
class GatewayCrash:
    """SIGKILL websocket gateway ``gateway`` of the embedded exchange ``at_s`` seconds after t0."""

    at_s: float
    gateway: int = 0


def parse_gateway_crash(text: str) -> GatewayCrash:
    """``AT[:ID]`` (e.g. ``6`` or ``6:1``) → a GatewayCrash; a one-line UserError otherwise."""
    at, sep, gid = text.partition(":")
    try:
        crash = GatewayCrash(parse_number(at), parse_whole(gid) if sep else 0)
    except ValueError:
        crash = None
    if crash is None or not crash.at_s >= 0 or crash.gateway < 0:
        raise UserError(f"--inject-gateway-crash {text!r}: expected AT[:ID] like 20 or 20:1")
    return crash


def check_gateway_crashes(
    crashes: list[tuple[float, int]], remote_target: str | None, target_config: str | None
) -> None:
    """Refuse crashes the embedded exchange as configured cannot play (one-line UserError)."""
    if not crashes:
        return
    if remote_target:
        raise UserError(
            "--inject-gateway-crash kills a gateway process of the embedded exchange; "
            "not with --target"
        )
    from surgeproof.exchange.config import load_config
    from surgeproof.exchange.errors import ConfigError

    try:
        gateways = load_config(target_config).ws_gateways
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    if gateways <= 0:
        raise UserError(
            "--inject-gateway-crash: the embedded exchange runs no websocket gateways; use a "
            "--target-config with ws_gateways (e.g. scenarios/targets/sessions.yaml)"
        )
    for _at, gid in crashes:
        if gid >= gateways:
            raise UserError(
                f"--inject-gateway-crash: no gateway {gid}; the target config runs "
                f"{gateways} (ids 0-{gateways - 1})"
            )


def gateways_of(target: Target) -> list[dict[str, Any]] | None:
    """The exchange's ``gateways`` list now; None when it does not answer."""
    data = fetch_json(f"{target.url}/admin/metrics?since={int(now_ns() / 1e9)}", timeout_s=2.0)
    gateways = data.get("gateways") if isinstance(data, dict) else None
    return [g for g in gateways if isinstance(g, dict)] if isinstance(gateways, list) else None


@dataclass
class _Down:
    """A death recorded as ``gateway_down``, waiting for its replacement to serve."""

    t_ns: int
    pid: int | None
    died_at: float | None  # the exchange's died_at once seen (None: not yet, for an injection)


@dataclass
class GatewayWatch:
    """Turns the exchange's ``gateways`` list, read every second, into down/up events."""

    #: id -> the last entry seen for that gateway.
    seen: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: id -> the death recorded and not yet followed by a serving replacement.
    down: dict[int, _Down] = field(default_factory=dict)

    def crash(self, target: Target, collector: Collector, gateway: int) -> int | None:
        """SIGKILL gateway ``gateway`` now and record ``gateway_down`` (cause ``injected``);
        the kill's time, or None when nothing was killed."""
        gateways = gateways_of(target) or []
        self.observe(collector, gateways)  # a death before this one is its own event
        entry = next((g for g in gateways if _int(g.get("id")) == gateway), None)
        pid = _int(entry.get("pid")) if entry else None
        if entry is None or pid is None or not entry.get("alive", True) or gateway in self.down:
            print(
                f"surgeproof run: websocket gateway {gateway} is not serving; "
                "no gateway crash injected",
                flush=True,
            )
            return None
        t = now_ns()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None  # it died on its own a moment ago: the next poll records that death
        collector.event(
            "gateway_down", t_ns=t, gateway=gateway, pid=pid, cause="injected", signal="SIGKILL"
        )
        self.down[gateway] = _Down(t, pid, None)
        return t

    def observe(self, collector: Collector, gateways: list[dict[str, Any]] | None) -> None:
        """Record deaths not yet recorded and replacements now serving."""
        for g in gateways or []:
            gid = _int(g.get("id"))
            if gid is None:
                continue
            before = self.seen.get(gid)
            self.seen[gid] = g
            if before is not None and _restarts(g) < _restarts(before):
                # The whole exchange was restarted (a target outage): a new baseline, not a death.
                self.down.pop(gid, None)
                continue
            self._death(collector, gid, g, before)
            self._return(collector, gid, g)

    def _death(
        self, collector: Collector, gid: int, g: dict[str, Any], before: dict[str, Any] | None
    ) -> None:
        died_at = _float(g.get("died_at"))
        pending = self.down.get(gid)
        if (
            pending is not None
            and pending.died_at is None
            and died_at is not None
            and died_at * 1e9 >= pending.t_ns - 1e9
        ):
            pending.died_at = died_at  # the injected death, as the exchange saw it
            return
        if before is None:
            return  # deaths before the run's first look at the exchange are not the run's
        new_death = (
            (died_at is not None and died_at != _float(before.get("died_at")))
            or _restarts(g) > _restarts(before)
            or (before.get("alive", True) and not g.get("alive", True))
        )
        if not new_death or (pending is not None and pending.died_at == died_at):
            return
        t = int(died_at * 1e9) if died_at is not None else now_ns()
        pid = _int(before.get("pid"))
        collector.event(
            "gateway_down",
            t_ns=t,
            gateway=gid,
            pid=pid,
            cause="died",
            last_exit=g.get("last_exit"),
        )
        self.down[gid] = _Down(t, pid, died_at)

    def _return(self, collector: Collector, gid: int, g: dict[str, Any]) -> None:
        pending = self.down.get(gid)
        restarted_at = _float(g.get("restarted_at"))
        if pending is None or restarted_at is None or not g.get("alive", True):
            return
        if _int(g.get("pid")) == pending.pid or restarted_at * 1e9 < pending.t_ns - 1e9:
            return  # still the dead process's entry, or an older restart
        up = max(int(restarted_at * 1e9), pending.t_ns)
        collector.event(
            "gateway_up",
            t_ns=up,
            gateway=gid,
            pid=_int(g.get("pid")),
            down_s=(up - pending.t_ns) / 1e9,
        )
        del self.down[gid]


def _restarts(g: dict[str, Any]) -> int:
    return _int(g.get("restarts")) or 0


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
