"""Fleet sizing reads as a specification: a phase's calls, websockets and retries from its users
and behaviours; the peak and its phase; the hosts each resource needs, from the measured
per-process figures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from surgeproof.load import fleet_figures
from surgeproof.load.fd_budget import RESERVE_FDS, fds_per_user
from surgeproof.load.fleet import HostSpec, plan_fleet
from surgeproof.load.fleet_figures import FleetFigures
from surgeproof.load.users.registry import BEHAVIOUR_CLASSES
from surgeproof.rundir.schema import RECORD_DTYPE
from surgeproof.scenario.catalog import load_profile, load_scenario
from surgeproof.scenario.model import RetryPolicy, Scenario, UsersExpr
from surgeproof.scenario.plan import resolve
from surgeproof.scenario.programs.step_search import SEARCH_PHASE, StepSearch
from surgeproof.scenario.programs.timeline import SurgePhase, Timeline

FIG = FleetFigures()
HOST = HostSpec(cores=4, memory_bytes=16 * 2**30, fd_limit=1 << 20)


def one_phase(users: float, mix: dict[str, float], **kw) -> Scenario:
    phase = SurgePhase("only", 600.0, UsersExpr(users), mix=mix, **kw)
    return Scenario("one", "one phase", program=Timeline((phase,)))


def sized(
    scenario: Scenario, host: HostSpec = HOST, figures: FleetFigures = FIG, websocket: bool = True
):
    return plan_fleet(resolve(scenario), figures, host, websocket=websocket)


def night(profile: str, time_scale: float = 1.0, user_scale: float = 1.0, **kw):
    plan = resolve(
        load_scenario("martial-law-2024-12-03"), load_profile(profile), time_scale, user_scale
    )
    return plan_fleet(plan, FIG, HOST, **kw)


def test_calls_per_second_are_users_times_each_behaviours_own_rate_times_intensity():
    fleet = sized(one_phase(1000, {"app_user": 0.5, "api_bot": 0.5}, intensity=2.0))
    d = fleet.phases[0]
    app, bot = (BEHAVIOUR_CLASSES[b].rate_per_s for b in ("app_user", "api_bot"))
    assert d.requests_per_s == pytest.approx(1000 * 2.0 * (0.5 * app + 0.5 * bot))
    assert d.retries_per_s == 0 and d.sessions == 0  # no retry policy, no watchers


def test_websockets_are_the_share_of_users_whose_behaviour_holds_one():
    d = sized(one_phase(1000, {"market_watcher": 3, "app_user": 1})).phases[0]
    assert d.sessions == pytest.approx(750)
    assert d.own_connections == pytest.approx(250)  # watchers poll through the shared pool
    assert d.fds_per_user == fds_per_user({"market_watcher": 3, "app_user": 1})


def test_a_dialect_without_a_websocket_holds_none():
    assert sized(one_phase(1000, {"market_watcher": 1}), websocket=False).phases[0].sessions == 0


def test_retries_are_an_upper_bound_of_max_attempts_minus_one_more_per_retrying_call():
    retry = RetryPolicy(max_attempts=4, backoff_s=0.0)
    mix = {"retrying_client": 0.5, "app_user": 0.5}
    d = sized(one_phase(1000, mix, retry=retry)).phases[0]
    rate = BEHAVIOUR_CLASSES["retrying_client"].rate_per_s
    assert d.retries_per_s == pytest.approx(1000 * 0.5 * rate * 3)
    assert d.max_attempts == 4
    assert d.peak_per_s == d.requests_per_s + d.retries_per_s
    assert 0 < d.retry_cores < d.cores


def test_signed_calls_cost_more_cores_than_ticker_polls():
    watchers = sized(one_phase(100_000, {"market_watcher": 1}), websocket=False).phases[0]
    sellers_users = 100_000 * 0.2 / BEHAVIOUR_CLASSES["panic_seller"].rate_per_s
    sellers = sized(one_phase(sellers_users, {"panic_seller": 1})).phases[0]
    assert watchers.requests_per_s == pytest.approx(sellers.requests_per_s)
    assert sellers.cores > watchers.cores


def test_planned_per_core_is_the_measured_figure_at_the_planning_load():
    f = FleetFigures(per_core={"market_watcher": 10_000, "app_user": 5_000})
    assert f.requests_per_core("app_user") == 5_000
    assert f.requests_per_core("panic_seller") == 5_000  # unknown: the least of the known
    assert f.planning_per_core("app_user") == pytest.approx(
        5_000 * fleet_figures.PLANNING_CORE_LOAD
    )
    d = sized(one_phase(10_000, {"app_user": 1}), figures=f).phases[0]  # 5,000 calls/s
    assert d.cores == pytest.approx(5_000 / 5_000 / f.core_load)


def test_the_night_at_full_scale_peaks_in_panic_selling_with_every_figure_derived():
    fleet = night("upbit")
    assert fleet.peak.name == "panic-selling"
    # 540,000 users x intensity 2 x (0.35x0.2 + 0.3x1 + 0.15x0.5 + 0.15x0.5 + 0.05x5) calls/s
    assert fleet.peak.requests_per_s == pytest.approx(540_000 * 2 * 0.77)
    assert fleet.peak.retries_per_s == pytest.approx(540_000 * 2 * 0.15 * 0.5 * 3)
    panic = fleet.phases[fleet.peak.index]
    assert panic.sessions == pytest.approx(540_000 * 0.35)  # 189,000 live websockets
    # The most websockets: the stampede's 60% of 459,000 users.
    assert fleet.peak_sessions.name == "shock-market-data-stampede"
    assert fleet.peak_sessions.sessions == pytest.approx(459_000 * 0.6)
    assert fleet.peak_users == 540_000 and fleet.real(fleet.peak_users) == 540_000
    assert fleet.cores == math.ceil(max(d.cores for d in fleet.phases))
    assert fleet.cores_without_retries < fleet.cores
    assert fleet.hosts == max(fleet.hosts_by.values()) > 10
    assert fleet.processes >= fleet.cores


def test_a_ramp_down_is_sized_at_the_crowd_it_starts_with():
    fleet = night("upbit")
    rebound = next(d for d in fleet.phases if d.name == "rebound-buying")
    assert rebound.users == 540_000  # ramps from the panic's 540,000 down to 405,000


def test_a_reconnect_phase_reopens_every_websocket_of_the_crowd_it_starts_with():
    fleet = night("upbit")
    panic = fleet.phases[fleet.peak.index]
    assert panic.reconnect and panic.reopened == pytest.approx(459_000 * 0.35)
    assert fleet.reconnect_s > 0
    # Their old ports wait in TIME_WAIT meanwhile: counted in the connections.
    held = panic.own_connections + panic.sessions
    assert fleet.connections >= held + panic.reopened


def test_bithumb_and_coinone_scale_with_their_figures_and_coinone_counts_orders():
    upbit, bithumb, coinone = night("upbit"), night("bithumb"), night("coinone")
    assert bithumb.peak.requests_per_s == pytest.approx(upbit.peak.requests_per_s * 236 / 540)
    assert coinone.peak.requests_per_s == pytest.approx(upbit.peak.requests_per_s * 370 / 540)
    assert coinone.unit == "concurrent orders" and upbit.unit == "concurrent users"
    assert upbit.hosts > coinone.hosts > bithumb.hosts


def test_at_the_demo_scale_one_host_and_one_core_suffice():
    fleet = night("upbit", time_scale=1 / 60, user_scale=1 / 2000)
    assert fleet.peak.requests_per_s == pytest.approx(540_000 / 2000 * 2 * 0.77)
    assert fleet.real(fleet.peak.requests_per_s) == pytest.approx(540_000 * 2 * 0.77)
    assert fleet.cores == 1 and fleet.hosts == 1 and fleet.processes == 1


def test_time_scale_keeps_rates_and_compresses_arrivals_and_records():
    full, fast = night("upbit"), night("upbit", time_scale=1 / 24)
    assert fast.peak.requests_per_s == pytest.approx(full.peak.requests_per_s)
    stampede = [next(d for d in f.phases if d.name == "shock-login-storm") for f in (full, fast)]
    assert stampede[1].connects_per_s == pytest.approx(stampede[0].connects_per_s * 24)
    assert fast.records == pytest.approx(full.records / 24, rel=0.01)
    assert full.record_bytes == full.records * RECORD_DTYPE.itemsize


def test_each_resource_decides_the_hosts_when_it_is_the_scarce_one():
    scen = one_phase(200_000, {"market_watcher": 1})  # 40,000 calls/s: ~2 hosts of 4 cores
    assert sized(scen).deciding == "ports"  # 200,000 websockets need 8 source addresses
    many = HostSpec(cores=4, memory_bytes=16 * 2**30, fd_limit=1 << 20, source_addresses=16)
    assert sized(scen, many).deciding == "cores"
    small_fd = HostSpec(cores=4, memory_bytes=16 * 2**30, fd_limit=2048, source_addresses=16)
    fleet = sized(scen, small_fd)
    assert fleet.deciding == "open files"
    assert fleet.fds_per_process <= small_fd.fd_limit
    assert fleet.processes >= 200_000 / (2048 - RESERVE_FDS)
    # Room on a host for a quarter of what the cores' hosts would hold: memory decides, whatever
    # the measured figures are.
    by_cores = sized(scen, many)
    room = by_cores.phases[0].memory_bytes / (4 * by_cores.hosts)
    small = (room + 4 * FIG.process_bytes) / FIG.memory_share
    small_mem = HostSpec(cores=4, memory_bytes=int(small), fd_limit=1 << 20, source_addresses=16)
    assert sized(scen, small_mem).deciding == "memory"


def test_source_addresses_are_the_connections_over_the_ports_of_one_address():
    fleet = sized(one_phase(100_000, {"app_user": 1}))
    ports = HOST.ports_per_source
    assert fleet.connections == pytest.approx(100_000)
    assert fleet.source_addresses == math.ceil(100_000 / ports)


def test_a_host_too_small_for_its_processes_is_refused():
    tiny = HostSpec(cores=64, memory_bytes=1 * 2**30, fd_limit=1 << 20)
    with pytest.raises(ValueError, match="cannot hold 64 generator processes"):
        sized(one_phase(10, {"app_user": 1}), tiny)


def test_a_step_search_is_sized_at_its_highest_level():
    search = StepSearch(UsersExpr(1000), UsersExpr(50_000), mix={"app_user": 1})
    fleet = sized(Scenario("s", "search", program=search))
    assert fleet.peak.name == SEARCH_PHASE and fleet.peak.users == 50_000
    assert fleet.peak.requests_per_s == pytest.approx(50_000 * 0.5)


def test_every_figure_names_the_results_section_and_the_command_that_measured_it():
    for item in fleet_figures.provenance():
        assert item["unit"], item
        assert str(item["source"]).startswith(fleet_figures.RESULTS), item
        assert str(item["command"]).startswith("python benchmarks/load/bench_load.py "), item


def test_every_figures_section_and_command_are_in_the_results_file():
    results = (Path(__file__).parents[2] / fleet_figures.RESULTS).read_text()
    for item in fleet_figures.provenance():
        title = str(item["source"]).split("'")[1]
        assert f"## {title}" in results, item
        assert f"Command: `{item['command']}`" in results, item


def test_the_mirrored_constants_match_the_code_they_describe():
    from surgeproof.load.subscription import GAP_INTERVAL_S
    from surgeproof.load.users.connections import SHARED_CONNECTIONS

    assert fleet_figures.SHARED_POOL_CONNECTIONS == SHARED_CONNECTIONS
    assert fleet_figures.GAP_INTERVAL_S == GAP_INTERVAL_S
    assert RECORD_DTYPE.itemsize == fleet_figures.RECORD_BYTES
    assert set(fleet_figures.REQUESTS_PER_CORE) == set(BEHAVIOUR_CLASSES)
