"""The USL fit recovers σ and κ of a known curve, and refuses when the data cannot support it."""

import numpy as np
import pytest
from synthetic import limited_run, usl_run, usl_throughput

from surgeproof.analysis.run import analyze_run
from surgeproof.analysis.usl import fit_usl
from surgeproof.scenario.model import Slo

USERS = [1, 2, 4, 8, 16, 32, 48, 64, 96, 128]


@pytest.mark.parametrize(("sigma", "kappa"), [(0.05, 0.0005), (0.02, 0.0001), (0.1, 0.002)])
def test_fit_recovers_sigma_and_kappa_from_exact_points(sigma, kappa):
    n = np.array(USERS, dtype=float)
    fit = fit_usl(list(zip(n, usl_throughput(n, sigma, kappa, 50.0), strict=True)))
    assert fit["status"] == "fit"
    assert fit["sigma"] == pytest.approx(sigma, rel=0.01)
    assert fit["kappa"] == pytest.approx(kappa, rel=0.01)
    assert fit["n_star"] == pytest.approx(np.sqrt((1 - sigma) / kappa), rel=0.01)
    assert fit["r2"] > 0.999


def test_fit_from_a_recorded_run_with_noise_recovers_within_tolerance(tmp_path):
    # Stated tolerance: σ within ±0.02 absolute, κ within ±25% with 2% throughput noise.
    usl_run(tmp_path / "r", USERS, sigma=0.05, kappa=0.0005, lam=50.0, noise=0.02)
    usl = analyze_run(tmp_path / "r", slos=[Slo("*", "p99", 1e9)])["usl"]
    assert usl["status"] == "fit"
    assert abs(usl["sigma"] - 0.05) < 0.02
    assert usl["kappa"] == pytest.approx(0.0005, rel=0.25)


def test_peak_beyond_the_largest_level_is_labelled_extrapolation():
    n = np.array([1, 2, 4, 8, 12], dtype=float)
    fit = fit_usl(list(zip(n, usl_throughput(n, 0.05, 0.0005, 50.0), strict=True)))
    assert fit["status"] == "fit" and fit["extrapolated"]
    assert fit["label"].startswith("extrapolation beyond the largest measured load")


def test_refuses_with_fewer_than_four_levels():
    fit = fit_usl([(1, 10.0), (2, 19.0), (4, 30.0)])
    assert fit["status"] == "refused" and "fewer than 4 distinct levels (3)" in fit["reason"]


def test_refuses_linear_data_as_having_no_curvature():
    fit = fit_usl([(n, 10.0 * n) for n in (1, 2, 4, 8, 16)])
    assert fit["status"] == "refused" and fit["reason"].startswith("no curvature")


def test_refuses_a_poor_fit():
    fit = fit_usl([(1, 50.0), (2, 5.0), (3, 60.0), (4, 4.0), (5, 55.0), (6, 3.0)])
    assert fit["status"] == "refused" and "poor fit" in fit["reason"]


def test_the_fit_reads_successful_calls_not_the_fast_refusals_of_a_rate_limited_server(tmp_path):
    # 10 req/s per user against a server admitting 150 calls a second: every answer grows
    # linearly with users (the 503s come back in 2 ms), the successful ones stop at 150.
    users = (5, 10, 15, 20, 30, 40)
    limited_run(tmp_path / "r", users, rate_per_user=10.0, admitted_rps=150)
    a = analyze_run(tmp_path / "r", slos=[Slo("*", "p99", 1e9)])
    levels = {lv["target_users"]: lv for lv in a["levels"]}
    assert levels[40]["achieved_rps"] == pytest.approx(400, rel=0.02)  # answers: linear
    usl = a["usl"]
    assert [p["ok_rps"] for p in usl["points"]] == [levels[n]["ok_rps"] for n in users]
    assert max(p["ok_rps"] for p in usl["points"]) == pytest.approx(150, rel=0.02)
    assert "linearly" not in str(usl["reason"])
    if usl["status"] == "fit":  # the model's throughput never exceeds what was admitted
        assert max(p["rps"] for p in usl["curve"]) < 150 * 1.1
