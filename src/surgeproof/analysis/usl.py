"""Universal Scalability Law fit of goodput against concurrency, or a refusal with a reason.

X(N) = λN / (1 + σ(N−1) + κN(N−1)); peak at N* = sqrt((1−σ)/κ). An N* beyond the largest
measured load is an extrapolation and is labelled so. X is the successful calls per second
(``ok_rps``): a refused call (503, 429) answers fast, so counting answers makes an overloaded,
rate-limited server look as if it still scaled.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Fewer distinct levels than this cannot pin down three parameters.
MIN_LEVELS = 4
#: A fit explaining less of the variance than this is refused.
MIN_R2 = 0.9
#: At the largest load, throughput within this share of linear scaling: no curvature to fit.
LINEAR_TOLERANCE = 0.03


def usl(n: np.ndarray, sigma: float, kappa: float, lam: float) -> np.ndarray:
    """Throughput at ``n`` users under the USL."""
    n = np.asarray(n, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def fit_usl(points: Sequence[tuple[float, float]], user_scale: float = 1.0) -> dict[str, Any]:
    """The ``usl`` object of analysis.json from (users, successful calls per second) points."""
    pts = sorted((float(n), float(x)) for n, x in points if n > 0 and x >= 0)
    n = np.array([p[0] for p in pts])
    x = np.array([p[1] for p in pts])
    out = _empty(pts)
    distinct = len(np.unique(n))
    if distinct < MIN_LEVELS:
        return _refuse(out, f"fewer than {MIN_LEVELS} distinct levels ({distinct})")
    from scipy.optimize import curve_fit

    lam0 = max(x[0] / n[0], 1e-9)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(
                usl,
                n,
                x,
                p0=(0.01, 1e-4, lam0),
                bounds=((0.0, 0.0, 0.0), (1.0, 1.0, np.inf)),
                maxfev=20000,
            )
    except (RuntimeError, ValueError) as exc:
        return _refuse(out, f"the fit did not converge ({exc})")
    sigma, kappa, lam = (float(p) for p in params)
    pred = usl(n, sigma, kappa, lam)
    ss_res = float(np.sum((x - pred) ** 2))
    ss_tot = float(np.sum((x - x.mean()) ** 2))
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 0.0
    out.update(sigma=sigma, kappa=kappa, lambda_rps=lam, r2=r2)
    if r2 < MIN_R2:
        return _refuse(out, f"poor fit: R² {r2:.2f} < {MIN_R2}")
    n_max = float(n.max())
    if float(usl(np.array([n_max]), sigma, kappa, lam)[0]) >= lam * n_max * (1 - LINEAR_TOLERANCE):
        return _refuse(
            out,
            "no curvature: successful calls per second still grow linearly with users up to "
            f"{n_max:g}; the data do not reach contention",
        )
    out["status"] = "fit"
    out["reason"] = None
    if kappa > 0:
        n_star = math.sqrt((1 - sigma) / kappa)
        out["n_star"] = n_star
        out["x_n_star_rps"] = float(usl(np.array([n_star]), sigma, kappa, lam)[0])
        out["n_star_real"] = n_star / user_scale
        out["extrapolated"] = n_star > n_max
        out["label"] = (
            f"extrapolation beyond the largest measured load (N = {n_max:g})"
            if n_star > n_max
            else "measured range"
        )
    else:
        out["label"] = (
            f"no coherency penalty: throughput approaches λ/σ = {lam / sigma:.1f} req/s "
            "without a peak"
            if sigma > 0
            else "measured range"
        )
    top = max(out["n_star"] or 0.0, n_max)
    grid = np.linspace(0, top, 50)
    out["curve"] = [
        {"users": float(u), "rps": float(v)}
        for u, v in zip(grid, usl(grid, sigma, kappa, lam), strict=True)
    ]
    return out


def _empty(pts: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "status": "refused",
        "reason": None,
        "sigma": None,
        "kappa": None,
        "lambda_rps": None,
        "n_star": None,
        "x_n_star_rps": None,
        "n_star_real": None,
        "r2": None,
        "points": [{"users": n, "ok_rps": x} for n, x in pts],
        "max_measured_users": max((n for n, _ in pts), default=None),
        "extrapolated": False,
        "label": None,
        "curve": [],
        "withheld": None,
    }


def _refuse(out: dict[str, Any], reason: str) -> dict[str, Any]:
    out["status"] = "refused"
    out["reason"] = reason
    return out


def withhold_beyond_plateau(
    usl_fit: dict[str, Any], plateau: dict[str, Any], flat: float
) -> dict[str, Any]:
    """A model never contradicts the data: no peak beyond a measured hard cap is a finding.

    When the data show throughput flat from ``plateau.from_users`` on and the fit puts its peak
    further out, the peak is moved to ``withheld`` (with why), ``n_star`` is null and the curve
    is drawn over the measured range only; the plateau's measured maximum is the finding.
    """
    n_star = usl_fit.get("n_star")
    if usl_fit.get("status") != "fit" or not plateau.get("detected") or n_star is None:
        usl_fit.setdefault("withheld", None)
        return usl_fit
    edge = float(plateau["from_users"]) * (1 + flat)
    if n_star <= edge:
        usl_fit.setdefault("withheld", None)
        return usl_fit
    usl_fit["withheld"] = {
        "n_star": n_star,
        "x_n_star_rps": usl_fit.get("x_n_star_rps"),
        "reason": (
            f"the model's peak ({n_star:,.0f} users) lies beyond the measured hard cap: "
            f"throughput is flat at {plateau['throughput_rps']:,.1f} req/s from "
            f"{plateau['from_users']:g} users on"
        ),
    }
    usl_fit.update(n_star=None, x_n_star_rps=None, n_star_real=None, extrapolated=False)
    usl_fit["label"] = "model peak withheld: the data show a hard cap (see plateau)"
    grid = np.linspace(0, float(usl_fit.get("max_measured_users") or 0.0), 50)
    fitted = usl(grid, usl_fit["sigma"], usl_fit["kappa"], usl_fit["lambda_rps"])
    usl_fit["curve"] = [
        {"users": float(u), "rps": float(v)} for u, v in zip(grid, fitted, strict=True)
    ]
    return usl_fit
