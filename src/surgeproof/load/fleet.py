"""Fleet sizing: what generating a plan's load takes, from measured per-process figures.

Pure: a Plan (the scenario at its scales), the per-process figures (``fleet_figures``) and the
size of one worker host go in; a ``FleetPlan`` comes out. Every rate is what the run offers,
in simulated users (the scales are stated beside every real number where it is shown).

What a phase asks of the generator, per user of its mix (shares normalised):
* calls/s = intensity × Σ share × the behaviour's own ``rate_per_s``; retrying behaviours may
  re-send each call up to ``max_attempts - 1`` more times (the retry margin, an upper bound
  reached only when every such call fails);
* CPU = Σ calls/s ÷ that behaviour's requests per core, plus the held websockets' upkeep,
  planned at ``core_load`` of a core;
* live websockets = users × share of behaviours that hold one (none when the dialect has no
  websocket); descriptors per user as ``fd_budget`` counts them (the one fd rule);
* connections to the target = websockets + users with their own keep-alive connection + each
  process's shared pool; a ``reconnect`` phase re-opens every websocket at its start while the
  old connections' ports stay in TIME_WAIT on the generator, which closed them (the reconnect
  margin). Each source address has ``ports_per_source`` ephemeral ports per target address:port.
The peak of a phase is taken at the larger of its start and end users (a ramp down starts with
the previous phase's crowd under the new mix).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from surgeproof.load.fd_budget import RESERVE_FDS, fds_per_user, users_per_process_allowed
from surgeproof.load.fleet_figures import FleetFigures
from surgeproof.load.users.registry import BEHAVIOUR_CLASSES
from surgeproof.scenario.plan import Plan
from surgeproof.scenario.programs import Stretch


@dataclass(frozen=True)
class HostSpec:
    """One generator machine: what it offers a fleet."""

    cores: int
    memory_bytes: float
    #: Hard RLIMIT_NOFILE of a process (the soft limit is raised to it: fd_budget).
    fd_limit: int
    #: Addresses a host's connections to one target address:port can come from.
    source_addresses: int = 1
    ports_per_source: int = 28_232


@dataclass(frozen=True)
class PhaseDemand:
    """What one phase offers at its largest crowd (simulated users unless named real)."""

    index: int
    name: str
    users: float
    real_users: float
    requests_per_s: float
    #: Further attempts per second if every call of a retrying behaviour failed (upper bound).
    retries_per_s: float
    #: The phase's retry policy's attempts per call (1: no retries).
    max_attempts: int
    sessions: float
    #: Users with their own keep-alive HTTP connection (the others share their process's pool).
    own_connections: float
    fds_per_user: float
    #: Generator cores at planning load (requests, retries and websocket upkeep), and the
    #: part of them the retry margin takes.
    cores: float
    retry_cores: float
    #: Generator memory for the users (process baselines not included).
    memory_bytes: float
    #: Websockets opened per second while the phase ramps up (arrivals).
    connects_per_s: float
    #: Websockets opened at the phase's start: a reconnect storm, or roles turning watcher.
    reopened: float
    reconnect: bool
    #: Records the phase writes (requests as scheduled, websocket connects and gap intervals).
    records: float
    duration_s: float

    @property
    def peak_per_s(self) -> float:
        """Requests/s with the retry margin."""
        return self.requests_per_s + self.retries_per_s


@dataclass(frozen=True)
class FleetPlan:
    """What generating a plan needs: demand per phase, its peak, and the fleet that offers it."""

    scenario: str
    profile: str | None
    unit: str
    dialect: str
    time_scale: float
    user_scale: float
    assumptions: tuple[str, ...]
    phases: tuple[PhaseDemand, ...]
    #: The phase with the most requests/s (retry margin included) and the most websockets.
    peak: PhaseDemand
    peak_sessions: PhaseDemand
    peak_users: float
    #: Generator cores at planning load, and the processes (one per core, more if the fd
    #: limit per process says so).
    cores: int
    processes: int
    host: HostSpec
    hosts: int
    #: Hosts each resource alone would need; ``hosts`` is the largest.
    hosts_by: dict[str, int]
    memory_bytes: float
    fds_per_process: float
    #: Peak connections to one target address:port (reconnect margin included) and the source
    #: addresses they need.
    connections: float
    source_addresses: int
    records: float
    record_bytes: float
    #: Records per second the run's writer (the master) takes in at the peak.
    peak_records_per_s: float
    #: Seconds the planned cores' headroom takes to re-open the biggest storm (0: none).
    reconnect_s: float
    figures: FleetFigures = field(repr=False)

    @property
    def cores_without_retries(self) -> int:
        """Generator cores the plan needs if no call is retried."""
        return max(1, math.ceil(max(d.cores - d.retry_cores for d in self.phases) - 1e-9))

    @property
    def deciding(self) -> str:
        """The resource that decides the number of hosts."""
        return max(self.hosts_by, key=lambda k: self.hosts_by[k])

    def real(self, simulated: float) -> float:
        """The real-scale figure ``simulated`` stands for."""
        return simulated / self.user_scale


def phase_demand(
    stretch: Stretch,
    figures: FleetFigures,
    *,
    user_scale: float,
    websocket: bool,
    prev_mix: Mapping[str, float] | None = None,
) -> PhaseDemand:
    """Demand of one stretch of a plan at its largest crowd."""
    crowd = max(stretch.users, stretch.from_users)
    shares = _shares(stretch.mix)
    calls = {b: stretch.intensity * s * _cls(b).rate_per_s for b, s in shares.items()}
    per_user = sum(calls.values())
    extra = (stretch.retry.max_attempts - 1) if stretch.retry is not None else 0
    retried = {b: c * extra for b, c in calls.items() if _cls(b).retries}
    cpu_s = sum(calls[b] / figures.requests_per_core(b) for b in calls)
    retry_cpu_s = sum(r / figures.requests_per_core(b) for b, r in retried.items())
    ws_share = _ws_share(shares) if websocket else 0.0
    own_share = sum(s for b, s in shares.items() if not _cls(b).shares_connection)
    sessions = crowd * ws_share
    upkeep = sessions * figures.ws_messages_per_s * figures.message_cpu_s
    prev_ws = _ws_share(_shares(prev_mix)) if prev_mix is not None and websocket else ws_share
    from_users = stretch.from_users
    reopened = from_users * (ws_share if stretch.reconnect else max(0.0, ws_share - prev_ws))
    arrivals = max(0.0, stretch.users - from_users) * ws_share
    # Websocket records: a connect and a first message per opening, a gap per interval held.
    ws_records = (
        2 * (arrivals + reopened) + ws_share * stretch.user_seconds / figures.gap_interval_s
    )
    return PhaseDemand(
        index=stretch.index,
        name=stretch.name,
        users=crowd,
        real_users=crowd / user_scale,
        requests_per_s=crowd * per_user,
        retries_per_s=crowd * sum(retried.values()),
        max_attempts=1 + extra,
        sessions=sessions,
        own_connections=crowd * own_share,
        fds_per_user=fds_per_user(stretch.mix),
        cores=(crowd * (cpu_s + retry_cpu_s) + upkeep) / figures.core_load,
        retry_cores=crowd * retry_cpu_s / figures.core_load,
        memory_bytes=crowd
        * (ws_share * figures.session_bytes + (1 - ws_share) * figures.user_bytes),
        connects_per_s=arrivals / stretch.ramp_s if stretch.ramp_s > 0 else 0.0,
        reopened=reopened,
        reconnect=stretch.reconnect,
        records=per_user * stretch.user_seconds + ws_records,
        duration_s=stretch.duration_s,
    )


def plan_fleet(
    plan: Plan,
    figures: FleetFigures,
    host: HostSpec,
    *,
    dialect: str = "upbit",
    websocket: bool = True,
) -> FleetPlan:
    """The fleet that offers ``plan``: demand per phase, its peak, and hosts of ``host``'s size."""
    phases: list[PhaseDemand] = []
    prev = None
    for st in plan.program.stretches():
        kw = {"user_scale": plan.user_scale, "websocket": websocket, "prev_mix": prev}
        phases.append(phase_demand(st, figures, **kw))
        prev = st.mix
    if not phases:
        raise ValueError("a plan without phases or a search has no load to size")
    peak = max(phases, key=lambda d: d.peak_per_s)
    peak_sessions = max(phases, key=lambda d: d.sessions)
    by_cores = max(phases, key=lambda d: d.cores)
    cores = max(1, math.ceil(by_cores.cores - 1e-9))
    # One worker per core; more when a process could not hold its users' descriptors.
    fd_processes = max(
        math.ceil(d.users / max(1, users_per_process_allowed(host.fd_limit, d.fds_per_user)))
        for d in phases
    )
    processes = max(cores, fd_processes)
    per_host = max(1, host.cores)
    memory_users = max(d.memory_bytes for d in phases)
    base = figures.process_bytes
    usable = host.memory_bytes * figures.memory_share
    room = usable - per_host * base
    connections = max(_connections(d, processes, figures) for d in phases)
    hosts_by = {
        "cores": math.ceil(cores / per_host),
        "open files": math.ceil(fd_processes / per_host),
        "memory": math.ceil(memory_users / room) if room > 0 else math.inf,
        "ports": math.ceil(connections / (host.ports_per_source * host.source_addresses)),
    }
    if hosts_by["memory"] == math.inf:
        raise ValueError(
            f"a host of {host.memory_bytes / 2**30:g} GiB cannot hold {per_host} generator "
            f"processes of {base / 2**20:.0f} MiB each"
        )
    hosts = max(1, *hosts_by.values())
    processes = max(processes, hosts)
    memory = memory_users + processes * base
    fds_per_process = max(d.fds_per_user * d.users / processes for d in phases) + RESERVE_FDS
    records = sum(d.records for d in phases)
    peak_records = max(
        d.requests_per_s + d.sessions / figures.gap_interval_s + 2 * d.connects_per_s
        for d in phases
    )
    storm = max((d.reopened for d in phases), default=0.0)
    # The storm lands on cores busy with the phase's calls: only their headroom is free for it.
    spare = cores * max(1.0 - figures.core_load, 0.05)
    reconnect_s = storm * figures.connect_cpu_s / spare if storm else 0.0
    unit = "concurrent users"
    if plan.profile is not None:
        units = {f.unit for f in plan.profile.figures.values()}
        unit = next((u for u in units if u != "concurrent users"), unit)
    return FleetPlan(
        scenario=plan.scenario.name,
        profile=plan.profile.name if plan.profile else None,
        unit=unit,
        dialect=dialect,
        time_scale=plan.time_scale,
        user_scale=plan.user_scale,
        assumptions=plan.assumptions,
        phases=tuple(phases),
        peak=peak,
        peak_sessions=peak_sessions,
        peak_users=max(d.users for d in phases),
        cores=cores,
        processes=processes,
        host=host,
        hosts=hosts,
        hosts_by=hosts_by,
        memory_bytes=memory,
        fds_per_process=fds_per_process,
        connections=connections,
        source_addresses=math.ceil(connections / host.ports_per_source),
        records=records,
        record_bytes=records * figures.record_bytes,
        peak_records_per_s=peak_records,
        reconnect_s=reconnect_s,
        figures=figures,
    )


def _connections(d: PhaseDemand, processes: int, figures: FleetFigures) -> float:
    """Connections to one target address:port at the phase's peak (HTTP and websockets
    together, as where both are served from one host and port)."""
    pools = processes * figures.shared_pool_connections if d.users > d.own_connections else 0
    held = d.own_connections + d.sessions + min(pools, d.users - d.own_connections)
    # Re-opened websockets: the old connections' ports stay in TIME_WAIT meanwhile.
    return held + (d.reopened if d.reconnect else 0.0)


def _shares(mix: Mapping[str, float]) -> dict[str, float]:
    total = sum(mix.values()) or 1.0
    return {b: s / total for b, s in mix.items() if b in BEHAVIOUR_CLASSES}


def _cls(behaviour: str):
    return BEHAVIOUR_CLASSES[behaviour]


def _ws_share(shares: Mapping[str, float]) -> float:
    return sum(s for b, s in shares.items() if _cls(b).watches_websocket)
