"""Before a run: can the machine(s) it has offer the plan's peak? Said, not refused.

``run`` calls ``warn_fleet`` once before anything starts. It sizes the plan (``fleet``), reads
this machine (cores it may use, memory, the hard open-file limit, the ephemeral port range) and
prints one line per resource the run's processes cannot offer — CPU, memory, open files, ports —
naming the workers or hosts that would, so that a run does not find out as "generator-bound"
an hour in. The open-files line is ``fd_budget``'s (its one rule).
"""

from __future__ import annotations

import math
import os
import resource
from dataclasses import dataclass
from pathlib import Path

from surgeproof.load.fd_budget import fd_budget_warning
from surgeproof.load.fleet import FleetPlan, HostSpec, plan_fleet
from surgeproof.load.fleet_figures import DEFAULT_EPHEMERAL_PORTS, FleetFigures
from surgeproof.load.source_address import SOURCE_COUNT, source_addresses
from surgeproof.scenario.plan import Plan

PREFIX = "surgeproof run: WARNING"
_PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: Stands for an unlimited RLIMIT_NOFILE in sizing (a process never gets that many anyway).
_UNLIMITED_FDS = 1 << 20


@dataclass(frozen=True)
class Machine:
    """This machine as a generator host, and the memory free on it now."""

    host: HostSpec
    available_bytes: float


def this_machine(loopback_target: bool) -> Machine:
    """Cores this process may run on, memory, hard fd limit, ports and source addresses."""
    import psutil

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    mem = psutil.virtual_memory()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    fd_limit = _UNLIMITED_FDS if hard == resource.RLIM_INFINITY else int(hard)
    host = HostSpec(
        cores=cores,
        memory_bytes=float(mem.total),
        fd_limit=fd_limit,
        source_addresses=SOURCE_COUNT if loopback_target else 1,
        ports_per_source=ephemeral_ports(),
    )
    return Machine(host, float(mem.available))


def ephemeral_ports() -> int:
    """Ports of this machine's ephemeral range (Linux's default when it cannot be read)."""
    try:
        low, high = (int(x) for x in _PORT_RANGE.read_text().split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL_PORTS
    return max(1, high - low + 1)


def shortfalls(
    fleet: FleetPlan, machine: Machine, workers: int, expect_workers: int = 0
) -> list[str]:
    """What ``workers`` local processes (0: users in this one) and ``expect_workers`` started
    elsewhere cannot offer of ``fleet``'s peak, one line each (CPU, memory, ports)."""
    host = machine.host
    total = workers + expect_workers
    local = workers if workers > 0 else (0 if expect_workers else 1)
    share = local / max(total, 1)
    out = []
    peak = fleet.peak
    with_retries = f", {peak.peak_per_s:,.0f} with retries" if peak.retries_per_s > 0 else ""
    # Each process runs on one core at most; local ones share this machine's cores.
    offered = min(local, host.cores) + expect_workers
    need = fleet.cores
    if need > offered:
        if need <= host.cores:
            fix = f"use --workers {need}"
        else:
            hosts = math.ceil(need / host.cores)
            fix = (
                f"run {need} workers on {hosts} hosts of {host.cores} cores like this one "
                "(surgeproof worker --master HOST; --expect-workers), see surgeproof plan"
            )
        where = "users in this process" if workers == 0 else f"{workers} local worker(s)"
        if expect_workers:
            where += f" and {expect_workers} elsewhere"
        out.append(
            f"{PREFIX} the peak ({peak.requests_per_s:,.0f} req/s in {peak.name}{with_retries}) "
            f"needs ~{need:,} generator cores at {fleet.figures.core_load:.0%} planning load; "
            f"{where} on this machine's {host.cores} core(s) offer {offered:,}: {fix}"
        )
    users_mem = (fleet.memory_bytes - fleet.processes * fleet.figures.process_bytes) * share
    mem_need = users_mem + max(local, 1) * fleet.figures.process_bytes
    mem_room = machine.available_bytes * fleet.figures.memory_share
    if local and mem_need > mem_room:
        per_host = host.memory_bytes * fleet.figures.memory_share
        hosts = math.ceil(mem_need / per_host) if per_host > 0 else 0
        out.append(
            f"{PREFIX} the generator needs ~{_gib(mem_need)} here at the peak "
            f"({fleet.peak_users * share:,.0f} users), {fleet.figures.memory_share:.0%} of the "
            f"{_gib(machine.available_bytes)} free is {_gib(mem_room)}: spread the users over "
            f"{max(hosts, 2)} or more hosts like this one"
        )
    conns = fleet.connections * share
    room = host.ports_per_source * host.source_addresses
    if local and conns > room:
        hosts = math.ceil(conns / room)
        out.append(
            f"{PREFIX} ~{conns:,.0f} connections to one target port from this machine at the "
            f"peak; its {host.source_addresses} source address(es) have ~{host.ports_per_source:,}"
            f" ephemeral ports each towards it ({room:,}): spread the users over {hosts} or more "
            "hosts (or give the target more addresses)"
        )
    return out


def warn_fleet(plan: Plan, opts, dialect) -> list[str]:
    """Print (and return) what this machine and the run's workers cannot offer of ``plan``'s
    peak, before the run; the run goes on either way."""
    loopback = not opts.target or bool(source_addresses(opts.target))
    machine = this_machine(loopback)
    websocket = dialect.websocket is not None and "ticker" in dialect.websocket.subscribe
    fleet = plan_fleet(
        plan, FleetFigures(), machine.host, dialect=dialect.name, websocket=websocket
    )
    lines = shortfalls(fleet, machine, opts.workers, opts.expect_workers)
    mixes_users = [(st.mix, st.users) for st in plan.program.stretches()]
    fd_line = fd_budget_warning(mixes_users, opts.workers + opts.expect_workers)
    if fd_line:
        lines.append(fd_line)
    for line in lines:
        print(line, flush=True)
    return lines


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"
