"""Before a run: one warning line per resource the run's machine(s) cannot offer of the plan's
peak, naming the workers or hosts that would, and none when they can."""

from __future__ import annotations

import pytest

from surgeproof.cli import main
from surgeproof.dialect.catalog import load_dialect
from surgeproof.load.fleet import HostSpec, plan_fleet
from surgeproof.load.fleet_check import Machine, shortfalls, this_machine, warn_fleet
from surgeproof.load.fleet_figures import FleetFigures
from surgeproof.load.options import RunOptions
from surgeproof.scenario.catalog import load_profile, load_scenario
from surgeproof.scenario.plan import resolve

TWO_CORES = Machine(
    HostSpec(cores=2, memory_bytes=24 * 2**30, fd_limit=1 << 20, source_addresses=16),
    available_bytes=20 * 2**30,
)


def night(time_scale: float = 1.0, user_scale: float = 1.0, machine: Machine = TWO_CORES):
    plan = resolve(
        load_scenario("martial-law-2024-12-03"), load_profile("upbit"), time_scale, user_scale
    )
    return plan, plan_fleet(plan, FleetFigures(), machine.host)


def test_the_demo_scale_fits_this_kind_of_machine_in_process_and_with_workers():
    _plan, fleet = night(1 / 60, 1 / 2000)
    assert shortfalls(fleet, TWO_CORES, workers=0) == []
    assert shortfalls(fleet, TWO_CORES, workers=2) == []


def test_the_full_night_on_two_cores_says_the_cores_and_hosts_it_needs():
    _plan, fleet = night()
    lines = shortfalls(fleet, TWO_CORES, workers=2)
    cpu = next(line for line in lines if "generator cores" in line)
    assert cpu.startswith("surgeproof run: WARNING") and "\n" not in cpu
    assert f"~{fleet.cores:,} generator cores" in cpu and "panic-selling" in cpu
    assert f"run {fleet.cores} workers on {-(-fleet.cores // 2)} hosts of 2 cores" in cpu


def test_users_in_one_process_get_one_core_however_many_the_machine_has():
    _plan, fleet = night(1, 1 / 200)  # 2,700 users: a few cores' worth
    big = Machine(HostSpec(64, 256 * 2**30, 1 << 20, 16), 200 * 2**30)
    [line] = shortfalls(fleet, big, workers=0)
    assert "users in this process" in line and f"use --workers {fleet.cores}" in line
    assert shortfalls(fleet, big, workers=fleet.cores) == []


def test_remote_workers_count_one_core_each():
    _plan, fleet = night(1, 1 / 200)
    assert shortfalls(fleet, TWO_CORES, workers=0, expect_workers=fleet.cores) == []
    [line] = shortfalls(fleet, TWO_CORES, workers=0, expect_workers=fleet.cores - 1)
    assert "elsewhere" in line


def test_memory_and_ports_are_said_when_this_machine_lacks_them():
    _plan, fleet = night()
    lean = Machine(HostSpec(4096, 8 * 2**30, 1 << 20, source_addresses=1), 4 * 2**30)
    lines = shortfalls(fleet, lean, workers=fleet.cores)
    assert not any("generator cores" in line for line in lines)
    mem = next(line for line in lines if "the generator needs" in line)
    ports = next(line for line in lines if "connections to one target port" in line)
    assert "hosts like this one" in mem and "ephemeral ports" in ports


def test_run_warns_once_per_shortfall_with_the_fd_budget_as_its_open_files_rule(capsys):
    plan = resolve(load_scenario("martial-law-2024-12-03"), load_profile("upbit"))
    opts = RunOptions(scenario="martial-law-2024-12-03", workers=0)
    lines = warn_fleet(plan, opts, load_dialect("upbit"))
    out = capsys.readouterr().out.splitlines()
    assert out == lines and any("generator cores" in line for line in lines)
    hard = this_machine(True).host.fd_limit
    if hard < 540_000:  # 540,000 users in one process need more open files than that
        assert sum("open files" in line for line in lines) == 1


def test_run_at_the_demo_scale_prints_nothing(capsys):
    plan = resolve(load_scenario("martial-law-2024-12-03"), None, 1 / 60, 1 / 2000)
    opts = RunOptions(scenario="martial-law-2024-12-03", workers=0)
    assert warn_fleet(plan, opts, load_dialect("upbit")) == []
    assert capsys.readouterr().out == ""


def test_this_machine_reports_what_it_may_use():
    m = this_machine(loopback_target=True)
    assert m.host.cores >= 1 and m.host.memory_bytes >= m.available_bytes > 0
    assert m.host.source_addresses == 16 and m.host.ports_per_source > 1000
    assert this_machine(loopback_target=False).host.source_addresses == 1


class _Started(Exception):
    """``run`` got past its checks and warnings: it would make the run directory now."""


@pytest.fixture
def run_checks(monkeypatch, capsys, tmp_path):
    """``surgeproof run ARGV`` in this process, stopped where the run would begin (no gevent)."""

    def stop(*_args, **_kw):
        raise _Started

    monkeypatch.setattr("surgeproof.cli.gevent_patch.prepare_process", lambda argv: None)
    monkeypatch.setattr("surgeproof.load.launch.make_run_dir", stop)

    def run(*argv: str) -> list[str]:
        capsys.readouterr()
        with pytest.raises(_Started):
            main(["run", *argv, "--reports-dir", str(tmp_path)])
        return capsys.readouterr().out.splitlines()

    return run


def test_run_warns_before_it_starts_and_goes_on(run_checks):
    out = run_checks("martial-law-2024-12-03", "--workers", "2")
    warnings = [line for line in out if line.startswith("surgeproof run: WARNING")]
    assert any("generator cores" in line and "hosts of" in line for line in warnings)


def test_run_at_the_demo_scale_warns_of_nothing(run_checks):
    out = run_checks("martial-law-2024-12-03", "--time-scale", "1/60", "--user-scale", "1/2000")
    assert not [line for line in out if "WARNING" in line]
