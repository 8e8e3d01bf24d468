"""``surgeproof plan SCENARIO``: the fleet a scenario needs at its scales, before the night.

Reads no target and starts nothing (no Locust, no gevent): the scenario is resolved as ``run``
resolves it, the dialect chosen as ``run`` chooses it, and ``fleet.plan_fleet`` sizes it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from surgeproof.load import fleet_figures

if TYPE_CHECKING:
    from surgeproof.load.fleet import FleetPlan, PhaseDemand

#: Default worker host: a common 4-vCPU, 16 GiB cloud instance.
DEFAULT_HOST_CORES = 4
DEFAULT_HOST_MEMORY_GIB = 16.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plan`` subcommand."""
    from surgeproof.load.options import scale_arg
    from surgeproof.scenario.numbers import number_arg, whole_arg

    p = subparsers.add_parser(
        "plan",
        help="the generator fleet a scenario needs: peak rates, sessions, cores, memory, ports",
        description="Size the load generators for SCENARIO at the chosen scales from measured "
        "per-process figures: peak request rate and live websockets per phase, generator "
        "cores, processes, memory, open files, source addresses, worker hosts.",
    )
    p.add_argument("scenario")
    p.add_argument("--time-scale", type=scale_arg, default=1.0, help="e.g. 1/24")
    p.add_argument("--user-scale", type=scale_arg, default=1.0, help="e.g. 1/1000")
    p.add_argument("--profile", help="capacity profile (overrides the scenario's)")
    p.add_argument("--dialect", help="the API the target speaks (default: as run chooses it)")
    p.add_argument(
        "--host-cores",
        type=whole_arg,
        default=DEFAULT_HOST_CORES,
        help=f"cores of one worker host (default {DEFAULT_HOST_CORES})",
    )
    p.add_argument(
        "--host-memory",
        type=number_arg,
        default=DEFAULT_HOST_MEMORY_GIB,
        metavar="GIB",
        help=f"memory of one worker host in GiB (default {DEFAULT_HOST_MEMORY_GIB:g})",
    )
    p.add_argument(
        "--host-fd-limit",
        type=whole_arg,
        help="hard open-file limit per process on the hosts (default: this machine's)",
    )
    p.add_argument(
        "--host-addresses",
        type=whole_arg,
        default=1,
        help="source addresses each host connects to the target from (default 1)",
    )
    p.add_argument(
        "--ws-messages-per-s",
        type=number_arg,
        default=fleet_figures.WS_MESSAGES_PER_S,
        help="market-data messages each websocket receives per second (default: one per 3 s)",
    )
    p.add_argument("--json", action="store_true", help="one JSON document (for CI)")
    p.set_defaults(func=_plan)


def _plan(args: argparse.Namespace) -> int:
    from surgeproof.load import flag_bounds
    from surgeproof.load.dialect_choice import choose_dialect
    from surgeproof.load.fleet import HostSpec, plan_fleet
    from surgeproof.load.fleet_check import this_machine
    from surgeproof.load.fleet_figures import DEFAULT_EPHEMERAL_PORTS, FleetFigures
    from surgeproof.load.options import RunOptions, plan_for
    from surgeproof.load.users.fit import check_fit

    flag_bounds.check_number("--host-cores", args.host_cores, 1, 4096)
    flag_bounds.check_number("--host-memory", args.host_memory, 0.25, 65536, what="GiB")
    flag_bounds.check_number("--host-addresses", args.host_addresses, 1, 65536)
    flag_bounds.check_number("--ws-messages-per-s", args.ws_messages_per_s, 0, 1000)
    if args.host_fd_limit is not None:
        flag_bounds.check_number("--host-fd-limit", args.host_fd_limit, 1024, 1 << 31)
    opts = RunOptions(
        scenario=args.scenario,
        time_scale=args.time_scale,
        user_scale=args.user_scale,
        profile=args.profile,
        dialect=args.dialect,
    )
    flag_bounds.check_number("--time-scale", opts.time_scale, 1e-9, 1e3, what="a factor")
    plan = plan_for(opts)
    choice = choose_dialect(args.dialect, plan, None)
    dialect = choice.dialect
    notes = check_fit(dialect, plan.behaviours)
    here = this_machine(loopback_target=True)
    host = HostSpec(
        cores=args.host_cores,
        memory_bytes=args.host_memory * 2**30,
        fd_limit=args.host_fd_limit or here.host.fd_limit,
        source_addresses=args.host_addresses,
        ports_per_source=DEFAULT_EPHEMERAL_PORTS,
    )
    figures = FleetFigures(ws_messages_per_s=args.ws_messages_per_s)
    websocket = dialect.websocket is not None and "ticker" in dialect.websocket.subscribe
    try:
        fleet = plan_fleet(plan, figures, host, dialect=dialect.name, websocket=websocket)
    except ValueError as exc:
        from surgeproof.errors import UserError

        raise UserError(str(exc)) from None
    local = _this_machine_lines(fleet, plan, here, websocket, figures, dialect.name)
    if args.json:
        print(json.dumps(to_json(fleet, choice.chosen_by, notes, local), indent=2))
    else:
        print("\n".join(render_text(fleet, choice.chosen_by, notes, local)))
    return 0


def _this_machine_lines(fleet, plan, here, websocket, figures, dialect) -> list[str]:
    """What ``surgeproof run`` would say here with the workers this machine can give."""
    from surgeproof.load.fleet import plan_fleet
    from surgeproof.load.fleet_check import shortfalls

    mine = plan_fleet(plan, figures, here.host, dialect=dialect, websocket=websocket)
    workers = 0 if mine.cores <= 1 else min(mine.cores, here.host.cores)
    lines = [
        "  " + s.replace("surgeproof run: WARNING ", "") for s in shortfalls(mine, here, workers)
    ]
    h = here.host
    what = (
        f"{h.cores} core(s), {_gib(here.available_bytes)} free of {_gib(h.memory_bytes)}, "
        f"{h.fd_limit:,} open files per process"
    )
    run = "in-process (--workers 0)" if workers == 0 else f"--workers {workers}"
    if not lines:
        return [f"this machine ({what}) offers it: surgeproof run {run}"]
    return [f"this machine ({what}) cannot offer it with {run}:", *lines]


def render_text(fleet: FleetPlan, chosen_by: str, notes: list[str], local: list[str]) -> list[str]:
    """The per-phase table and the summary, for people."""
    scaled = fleet.user_scale != 1.0
    ratio = _ratio(fleet.user_scale)
    unit = fleet.unit
    noun = unit.removesuffix("s")  # "concurrent user" or "concurrent order"
    per = 1 / fleet.user_scale
    head = (
        f"{fleet.scenario}: profile {fleet.profile or 'none'} ({unit}), dialect {fleet.dialect} "
        f"({chosen_by}); time scale {fleet.time_scale:g}, user scale {fleet.user_scale:g}: "
        f"1 simulated user = {per:,.6g} real {noun}{'' if per == 1 else 's'} ({ratio})"
    )
    cols = ["phase", "users"]
    if scaled:
        cols.append(f"real {unit.split()[-1]} ({ratio})")
    cols += ["req/s", "+retries", "websockets", "re-opened", "cores", "memory"]
    rows = [cols]
    for d in fleet.phases:
        row = [d.name + (" (reconnect)" if d.reconnect else ""), _n(d.users)]
        if scaled:
            row.append(_n(d.real_users))
        row += [
            _n(d.requests_per_s),
            f"+{_n(d.retries_per_s)}" if d.retries_per_s else "-",
            _n(d.sessions),
            _n(d.reopened) if d.reopened else "-",
            f"{d.cores:,.1f}",
            _size(d.memory_bytes),
        ]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    table = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    p, f, h = fleet.peak, fleet.figures, fleet.host
    lines = [head, "", *table, ""]
    real_rate = (
        f"; real {_n(fleet.real(p.requests_per_s))} req/s ({ratio})" if scaled else f" ({ratio})"
    )
    retry = (
        f"; up to {_n(p.peak_per_s)} with retries (every retried call failing, "
        f"max_attempts {p.max_attempts})"
        if p.retries_per_s
        else ""
    )
    lines.append(f"peak       {_n(p.requests_per_s)} req/s offered in {p.name}{real_rate}{retry}")
    s = fleet.peak_sessions
    real_ws = f" (real {_n(fleet.real(s.sessions))}, {ratio})" if scaled else ""
    lines.append(f"websockets {_n(s.sessions)} live in {s.name}{real_ws}")
    real_users = f"real {_n(fleet.real(fleet.peak_users))} {unit} ({ratio})"
    lines.append(f"users      {_n(fleet.peak_users)} simulated at most: {real_users}")
    no_retry = fleet.cores_without_retries
    per_core = ", ".join(f"{b} {_n(f.planning_per_core(b))}" for b in f.per_core)
    lines.append(
        f"needs      {_plural(fleet.cores, 'generator core')} at {f.core_load:.0%} planning load"
        + (f" ({_n(no_retry)} without the retry margin)" if no_retry != fleet.cores else "")
        + f"; planned req/s per core: {per_core}"
    )
    by = ", ".join(f"{k} {v:,}" for k, v in fleet.hosts_by.items())
    lines.append(
        f"fleet      {_plural(fleet.processes, 'generator process')} on "
        f"{_plural(fleet.hosts, 'host')} of {h.cores} cores, {_size(h.memory_bytes)}: "
        f"{fleet.deciding} decide "
        f"(hosts by {by})"
    )
    users_mem = fleet.memory_bytes - fleet.processes * f.process_bytes
    lines.append(
        f"memory     {_size(fleet.memory_bytes)} for the generators: {_size(users_mem)} for "
        f"users ({f.session_bytes / 1024:.1f} KiB per websocket session, "
        f"{f.user_bytes / 1024:.1f} KiB per HTTP-only user) + {_n(fleet.processes)} processes "
        f"x {_size(f.process_bytes)}; {f.memory_share:.0%} of a host's memory planned"
    )
    lines.append(
        f"open files {_n(fleet.fds_per_process)} per process at the peak (limit "
        f"{h.fd_limit:,}; a websocket or an own keep-alive connection each)"
    )
    lines.append(
        f"ports      {_n(fleet.connections)} connections to one target address:port at the "
        f"peak: {_n(fleet.source_addresses)} source address(es) of ~{h.ports_per_source:,} "
        f"ephemeral ports; {h.source_addresses} per host (--host-addresses)"
    )
    if fleet.reconnect_s:
        storm = max(fleet.phases, key=lambda d: d.reopened)
        lines.append(
            f"reconnect  {_n(storm.reopened)} websockets re-open at the start of {storm.name}: "
            f"~{fleet.reconnect_s:,.1f} s on the planned cores' {1 - f.core_load:.0%} headroom "
            f"({f.connect_cpu_s * 1000:g} ms CPU each); their old ports wait out TIME_WAIT "
            f"({fleet_figures.TIME_WAIT_S:g} s, counted above)"
        )
    lines.append(
        f"records    {_count(fleet.records)} over the run ({_size(fleet.record_bytes)} at "
        f"{f.record_bytes} B each); the run's writer takes in {_n(fleet.peak_records_per_s)} "
        f"records/s at the peak ({_size(fleet.peak_records_per_s * f.record_bytes)}/s)"
    )
    lines += local
    for a in fleet.assumptions:
        lines.append(f"assumption: {a}")
    lines.append(
        "assumption: request rates are the behaviours' schedules (an action the dialect lacks "
        "is a skipped slot: fewer calls); HTTP and websockets counted as one target port"
    )
    for note in notes:
        lines.append(f"note: {note}")
    lines.append(
        f"figures: {fleet_figures.RESULTS} (surgeproof plan --json lists each with its "
        "benchmark command)"
    )
    return lines


def to_json(
    fleet: FleetPlan, chosen_by: str, notes: list[str], local: list[str]
) -> dict[str, object]:
    """The same as a JSON document, figures and their sources included."""
    doc = asdict(fleet)
    doc.pop("figures")
    doc["dialect_chosen_by"] = chosen_by
    doc["deciding"] = fleet.deciding
    doc["cores_without_retries"] = fleet.cores_without_retries
    doc["peak"] = _phase_json(fleet.peak, fleet)
    doc["peak_sessions"] = _phase_json(fleet.peak_sessions, fleet)
    doc["phases"] = [_phase_json(d, fleet) for d in fleet.phases]
    doc["peak_real_users"] = fleet.real(fleet.peak_users)
    f = fleet.figures
    doc["planning"] = {
        "core_load": f.core_load,
        "memory_share": f.memory_share,
        "ws_messages_per_s": f.ws_messages_per_s,
        "planned_requests_per_core": {b: f.planning_per_core(b) for b in f.per_core},
    }
    doc["figures"] = fleet_figures.provenance()
    doc["this_machine"] = local
    doc["notes"] = notes
    return doc


def _phase_json(d: PhaseDemand, fleet: FleetPlan) -> dict[str, object]:
    out = asdict(d)
    out["peak_per_s"] = d.peak_per_s
    out["real_requests_per_s"] = fleet.real(d.requests_per_s)
    out["real_sessions"] = fleet.real(d.sessions)
    return out


def _ratio(user_scale: float) -> str:
    return f"1:{1 / user_scale:,.6g}"


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n:,} {word}{'es' if word.endswith('s') else 's'}"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _count(x: float) -> str:
    for div, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if x >= div:
            return f"{x / div:,.2f} {word}"
    return _n(x)


def _size(n: float) -> str:
    for div, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n:,.0f} B"


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"
