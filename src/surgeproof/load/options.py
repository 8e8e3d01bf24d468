"""What ``surgeproof run`` was asked to do, and the checks that need neither Locust nor a target."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from surgeproof.errors import UserError
from surgeproof.load.target import check_target_url
from surgeproof.scenario.catalog import load_profile, load_scenario
from surgeproof.scenario.plan import Plan, resolve
from surgeproof.scenario.units import parse_scale


@dataclass
class RunOptions:
    scenario: str
    target: str | None = None
    allow_remote_target: bool = False
    target_config: str | None = None
    workers: int = 0
    time_scale: float = 1.0
    user_scale: float = 1.0
    profile: str | None = None
    model: str | None = None
    run_id: str | None = None
    reports_dir: str = "reports"
    max_duration: float | None = None
    accounts_file: str | None = None
    master_bind_host: str = "127.0.0.1"
    master_port: int = 0
    #: (at_s, seconds) stalls to inject into a loopback surgeproof exchange.
    stalls: list[tuple[float, float]] = field(default_factory=list)
    #: Embedded-exchange outages to inject: (at_s, seconds), the process killed and restarted.
    outages: list[tuple[float, float]] = field(default_factory=list)
    #: Embedded-exchange websocket gateways to SIGKILL: (at_s, gateway id).
    gateway_crashes: list[tuple[float, int]] = field(default_factory=list)
    #: Workers started elsewhere (``surgeproof worker --master HOST``) the run waits for.
    expect_workers: int = 0
    #: Client timeout per call (s); step searches judge a level this long after its window.
    timeout_s: float = 10.0
    progress_every_s: float = 5.0
    max_inflight_per_user: int = 4
    exchange_accounts: int = 0  # 0 = as many as the plan's peak users (at least 100)
    #: Abort when the error ratio stays above this for ``abort_after_s`` (None = never).
    abort_error_ratio: float | None = None
    abort_after_s: float = 10.0
    #: ``--metrics-port``: serve live Prometheus metrics there (None = no exporter; 0 = any port).
    metrics_port: int | None = None
    #: Loopback unless widened explicitly (``--metrics-host 0.0.0.0`` for a cluster's Prometheus).
    metrics_host: str = "127.0.0.1"
    #: Seconds the exporter keeps serving the final values after the run ends.
    metrics_linger_s: float = 0.0


def scale_arg(text: str) -> float:
    """``1/24``, ``0.5`` or ``1:1000`` → a factor; a UserError otherwise."""
    try:
        return parse_scale(text)
    except (ValueError, UserError) as exc:
        raise UserError(f"expected a scale like 1/24 or 0.05, got {text!r} ({exc})") from None


def plan_for(opts: RunOptions) -> Plan:
    """Load, validate and resolve the scenario (a ScenarioError names file and field)."""
    scenario = load_scenario(opts.scenario)
    profile = load_profile(opts.profile) if opts.profile else None
    if opts.model is not None and opts.model not in ("open", "closed"):
        raise UserError(f"--model {opts.model!r}: expected open or closed")
    return resolve(scenario, profile, opts.time_scale, opts.user_scale)


def check_options(opts: RunOptions) -> None:
    if opts.target:
        opts.target = check_target_url(opts.target, opts.allow_remote_target)
        if opts.target_config:
            raise UserError("--target-config configures the embedded exchange; not with --target")
    if opts.workers < 0:
        raise UserError(f"--workers {opts.workers}: expected 0 (in-process) or more")
    if opts.expect_workers < 0:
        raise UserError(f"--expect-workers {opts.expect_workers}: expected 0 or more")
    if opts.outages and opts.target:
        raise UserError(
            "--inject-target-outage kills and restarts the embedded exchange; not with --target"
        )
    if opts.max_duration is not None and opts.max_duration <= 0:
        raise UserError(f"--max-duration {opts.max_duration:g}: expected seconds > 0")
    if opts.metrics_port is not None and not 0 <= opts.metrics_port <= 65535:
        raise UserError(f"--metrics-port {opts.metrics_port}: expected a port in 0-65535")
    if opts.metrics_linger_s < 0:
        raise UserError(f"--metrics-linger {opts.metrics_linger_s:g}: expected seconds >= 0")
    if opts.run_id is not None and not re.fullmatch(
        r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}", opts.run_id
    ):
        raise UserError(f"--run-id {opts.run_id!r}: use letters, digits, '.', '_' and '-'")


def make_run_dir(opts: RunOptions, plan: Plan) -> Path:
    """``reports/<run-id>/``, new; the scenario and profile files copied in as run."""
    run_id = opts.run_id or (
        datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + plan.scenario.name
    )
    run_dir = Path(opts.reports_dir) / run_id
    if run_dir.exists():
        raise UserError(f"{run_dir}: already exists; choose another --run-id")
    run_dir.mkdir(parents=True)
    if plan.scenario.source_path and Path(plan.scenario.source_path).is_file():
        shutil.copyfile(plan.scenario.source_path, run_dir / "scenario.yaml")
    src = _profile_path(plan)
    if src is not None:
        shutil.copyfile(src, run_dir / "profile.yaml")
    return run_dir


def _profile_path(plan: Plan) -> Path | None:
    if plan.profile is None:
        return None
    from surgeproof.scenario.catalog import scenarios_dir

    for cand in (scenarios_dir() / "profiles" / f"{plan.profile.name}.yaml",):
        if cand.is_file():
            return cand
    return None
