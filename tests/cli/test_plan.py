"""``surgeproof plan``: the fleet the night needs, as a table and as JSON, in this process
(plan runs no Locust: it is not one of the commands gevent patches the process for)."""

from __future__ import annotations

import json

import pytest

from surgeproof.cli import main
from surgeproof.cli.gevent_patch import GEVENT_COMMANDS

NIGHT = "martial-law-2024-12-03"


def plan(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["plan", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plan_is_not_a_gevent_command():
    from gevent import monkey

    assert "plan" not in GEVENT_COMMANDS
    assert not monkey.is_module_patched("socket")


def test_the_unscaled_night_for_upbit_as_json(capsys):
    code, out, err = plan(capsys, NIGHT, "--profile", "upbit", "--json", "--host-cores", "8")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["peak"]["name"] == "panic-selling"
    assert doc["peak"]["requests_per_s"] == pytest.approx(540_000 * 2 * 0.77)
    assert doc["peak_real_users"] == 540_000 and doc["unit"] == "concurrent users"
    assert doc["phases"][0]["name"] == "evening-baseline"
    assert doc["host"]["cores"] == 8
    assert doc["hosts"] == max(doc["hosts_by"].values()) >= doc["cores"] / 8
    assert doc["dialect"] == "upbit" and doc["dialect_chosen_by"] == "profile upbit"
    assert {f["name"] for f in doc["figures"]} >= {"requests_per_core.app_user", "ws_session_bytes"}
    assert doc["planning"]["core_load"] == 0.7


def test_the_table_says_peak_websockets_cores_and_hosts(capsys):
    code, out, _ = plan(capsys, NIGHT, "--profile", "bithumb")
    assert code == 0
    assert "panic-selling" in out and "dialect bithumb (profile bithumb)" in out
    peak = next(line for line in out.splitlines() if line.startswith("peak "))
    assert "363,440 req/s" in peak and "(1:1)" in peak
    assert "1 simulated user = 1 real concurrent user (1:1)" in out
    fleet = next(line for line in out.splitlines() if line.startswith("fleet "))
    assert "hosts of 4 cores" in fleet and "cores decide" in fleet


def test_coinone_figures_are_concurrent_orders_with_the_mapping_stated(capsys):
    code, out, _ = plan(capsys, NIGHT, "--profile", "coinone", "--user-scale", "1/100")
    assert code == 0
    assert "real orders (1:100)" in out
    assert "1 simulated user = 100 real concurrent orders (1:100)" in out
    assert "a simulated user is taken to stand for one of these orders" in out
    users = next(line for line in out.splitlines() if line.startswith("users "))
    assert "real 370,000 concurrent orders (1:100)" in users


def test_at_the_demo_scale_this_machine_offers_it(capsys):
    code, out, _ = plan(capsys, NIGHT, "--time-scale", "1/60", "--user-scale", "1/2000")
    assert code == 0
    assert "offers it: surgeproof run in-process" in out
    assert "1 generator process on 1 host of 4 cores" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([NIGHT, "--host-cores", "0"], "--host-cores 0"),
        ([NIGHT, "--host-memory", "nan"], "argument --host-memory"),
        ([NIGHT, "--host-cores", "4", "--host-memory", "0.25"], "cannot hold 4 generator"),
        (["no-such-scenario"], "no-such-scenario"),
        ([NIGHT, "--dialect", "nope"], "nope"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, says):
    code, _out, err = plan(capsys, *argv)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and says in lines[0], err
    assert "Traceback" not in err
