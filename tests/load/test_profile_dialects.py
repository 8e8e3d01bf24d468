"""Every FSS profile replays the martial-law night in its own exchange's API, end to end.

``--profile bithumb`` speaks Bithumb's API (orders on /v2) to the embedded exchange started in
that dialect, ``--profile coinone`` Coinone's (signed payload POSTs, errors in 200 bodies, its
websocket protocol), and the run directory, report and gate come out as for Upbit's.
"""

from __future__ import annotations

import json

import pytest
from load_cli import run_meta, surgeproof

from surgeproof.rundir.reader import read_records

#: An order placed, in the profile's own dialect (the record's endpoint name).
ORDER_ENDPOINTS = {"bithumb": "POST /v2/orders", "coinone": "POST /v2.1/order"}


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["bithumb", "coinone"])
def test_the_night_runs_in_the_profiles_own_dialect(tmp_path, profile):
    out = surgeproof(
        "run", "martial-law-2024-12-03", "--profile", profile,
        "--time-scale", "1/960", "--user-scale", "1/10000",
        "--reports-dir", str(tmp_path), "--run-id", profile, "--timeout", "3",
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-1500:] + out.stderr[-1500:]
    run_dir = tmp_path / profile
    meta = run_meta(run_dir)
    assert meta["status"] == "complete"
    assert meta["dialect"]["name"] == profile and meta["dialect"]["chosen_by"] == (
        f"profile {profile}"
    )
    assert meta["target"]["config"]["dialect"] == profile  # the exchange spoke it too
    rs = read_records(run_dir)
    assert {"login", "quotation", "orders", "account", "websocket"} <= set(rs.groups)
    assert ORDER_ENDPOINTS[profile] in rs.names
    endpoints = json.loads(surgeproof_json(run_dir))["overall"]["endpoints"]
    order = endpoints[ORDER_ENDPOINTS[profile]]
    assert order["group"] == "orders" and order["ok"] > 0
    report = surgeproof("report", str(run_dir))
    assert report.returncode == 0, report.stderr
    gate = surgeproof("gate", str(run_dir))
    assert gate.returncode in (0, 1), gate.stderr  # a verdict, either way
    if profile == "coinone":
        # The FSS figure counts concurrent orders: every scaled-back number says so.
        text = (run_dir / "report.md").read_text()
        assert "real orders" in text and "real users" not in text


def surgeproof_json(run_dir) -> str:
    done = surgeproof("analyze", str(run_dir))
    assert done.returncode in (0, 1), done.stderr
    return (run_dir / "analysis.json").read_text()
