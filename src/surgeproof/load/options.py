"""What ``surgeproof run`` was asked to do, and the checks that need neither Locust nor a target."""

from __future__ import annotations

import argparse
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from surgeproof.errors import UserError
from surgeproof.load import flag_bounds
from surgeproof.load.accounts import ACCOUNTS_ENV
from surgeproof.load.fault_command import DEFAULT_TIMEOUT_S as DEFAULT_FAULT_TIMEOUT_S
from surgeproof.load.fault_command import MAX_TIMEOUT_S as MAX_FAULT_TIMEOUT_S
from surgeproof.load.fault_command import CommandSpec
from surgeproof.load.fleet_key import FleetKey, find_fleet_key, missing_key_error
from surgeproof.load.target import check_target_url
from surgeproof.rundir.schema import RUN_ID_PATTERN
from surgeproof.scenario.bounds import MAX_DURATION_S, MAX_SCALE, MIN_SCALE
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
    #: The API the target speaks: a built-in dialect name or a dialect file.
    dialect: str | None = None
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
    #: Fault commands (``--fault-command`` / ``--fault-shell``): (AT in scenario seconds, what).
    fault_commands: list[tuple[float, CommandSpec]] = field(default_factory=list)
    #: Longest a ``--fault-command`` may run before it is killed (real seconds).
    fault_timeout_s: float = DEFAULT_FAULT_TIMEOUT_S
    #: Workers started elsewhere (``surgeproof worker --master HOST``) the run waits for.
    expect_workers: int = 0
    #: ``--fleet-key-file``: the key workers prove they hold (else ``$SURGEPROOF_FLEET_KEY``).
    fleet_key_file: str | None = None
    #: The fleet key found by ``check_options`` (None: made for local workers at the start).
    fleet_key: FleetKey | None = None
    #: ``--mark-port``: serve the loopback mark endpoint there (0: any free port; None: not).
    mark_port: int | None = None
    #: Where workers' records go (``--record-shards``): auto | local | master (record_shard.py).
    record_shards: str = "auto"
    #: Records kept on workers' hosts stay there and are analysed there (``--shards-stay``).
    shards_stay: bool = False
    #: No analysis at the end of the run (``--no-analyze``).
    no_analyze: bool = False
    #: Client timeout per call (s); step searches judge a level this long after its window.
    timeout_s: float = 10.0
    progress_every_s: float = 5.0
    max_inflight_per_user: int = 4
    exchange_accounts: int = 0  # 0 = as many as the plan's peak users (at least 100)
    #: Abort when the error ratio stays above this for ``abort_after_s`` (None = never).
    abort_error_ratio: float | None = None
    abort_after_s: float = 10.0
    #: Lift the cap of WORKERS_PER_CPU local workers per CPU (``--allow-many-workers``).
    allow_many_workers: bool = False
    #: ``--metrics-port``: serve live Prometheus metrics there (None = no exporter; 0 = any port).
    metrics_port: int | None = None
    #: Loopback unless widened explicitly (``--metrics-host 0.0.0.0`` for a cluster's Prometheus).
    metrics_host: str = "127.0.0.1"
    #: Seconds the exporter and the dashboard keep serving the final values after the run ends.
    metrics_linger_s: float = 0.0
    #: Look every acknowledged order up through ``order_status`` after the run (``--no-reconcile``
    #: turns it off), at most this many a second for at most this long (None: the defaults,
    #: higher for the embedded exchange, which is ours).
    reconcile: bool = True
    reconcile_rate: float | None = None
    reconcile_time_s: float | None = None
    #: ``--dashboard``: serve the live dashboard there (None = no dashboard; 0 = any port).
    dashboard_port: int | None = None


def scale_arg(text: str) -> float:
    """``1/24``, ``0.5`` or ``1e-3`` → a factor (an argparse ``type``: its error is one line)."""
    try:
        return parse_scale(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a scale factor > 0 like 1/24 or 0.05, got {text!r}"
        ) from None


def plan_for(opts: RunOptions) -> Plan:
    """Load, validate and resolve the scenario (a ScenarioError names file and field)."""
    scenario = load_scenario(opts.scenario)
    profile = load_profile(opts.profile) if opts.profile else None
    if opts.model is not None and opts.model not in ("open", "closed"):
        raise UserError(f"--model {opts.model!r}: expected open or closed")
    return resolve(scenario, profile, opts.time_scale, opts.user_scale)


def check_options(opts: RunOptions) -> None:
    """Every flag of ``run`` checked once, before a process, a file or the target is touched."""
    if opts.target is not None:  # given, even empty: '' is no URL, not "the embedded one"
        opts.target = check_target_url(opts.target, opts.allow_remote_target)
        if opts.target_config:
            raise UserError("--target-config configures the embedded exchange; not with --target")
    flag_bounds.check_workers(opts.workers, opts.expect_workers, opts.allow_many_workers)
    if opts.shards_stay and not (opts.workers or opts.expect_workers):
        raise UserError("--shards-stay: records stay on workers' hosts; give --workers or "
                        "--expect-workers")  # fmt: skip
    if opts.shards_stay and opts.record_shards == "master":
        raise UserError("--shards-stay: workers must keep their records (--record-shards local)")
    _check_fleet_key(opts)
    if opts.outages and opts.target:
        raise UserError(
            "--inject-target-outage kills and restarts the embedded exchange; not with --target"
        )
    _check_numbers(opts)
    if opts.run_id is not None and not re.fullmatch(RUN_ID_PATTERN, opts.run_id):
        raise UserError(f"--run-id {opts.run_id!r}: use letters, digits, '.', '_' and '-'")
    _check_reports_dir(Path(opts.reports_dir))
    if opts.target_config:
        _check_target_config(opts.target_config)
    accounts_file = opts.accounts_file or os.environ.get(ACCOUNTS_ENV)
    if accounts_file and (opts.workers or not opts.expect_workers):
        from surgeproof.load.accounts import load_accounts_file

        # Read here, not first after the exchange started: a bad file leaves nothing behind.
        # (Workers only elsewhere read their own machine's file: not checked here.)
        load_accounts_file(accounts_file)


def _check_fleet_key(opts: RunOptions) -> None:
    """Workers prove a fleet key: the one given, else (all workers local) one made at the
    start; workers elsewhere need it given, the same on every host."""
    if opts.fleet_key_file or opts.workers or opts.expect_workers:
        opts.fleet_key = find_fleet_key(opts.fleet_key_file)
    if opts.fleet_key is None and opts.expect_workers:
        raise missing_key_error(f"--expect-workers {opts.expect_workers}")
    if opts.mark_port is not None:
        # Marks are sealed with a key the marking tool holds too: never one made for the run.
        if opts.fleet_key is None or opts.fleet_key.origin == "generated":
            opts.fleet_key = find_fleet_key(opts.fleet_key_file)
        if opts.fleet_key is None:
            raise missing_key_error(f"--mark-port {opts.mark_port}")
        flag_bounds.check_number("--mark-port", opts.mark_port, 0, 65535, what="a port")


def _check_numbers(opts: RunOptions) -> None:
    check = flag_bounds.check_number
    check("--time-scale", opts.time_scale, MIN_SCALE, MAX_SCALE, what="a factor")
    check("--user-scale", opts.user_scale, MIN_SCALE, MAX_SCALE, what="a factor")
    check("--max-duration", opts.max_duration, 0, MAX_DURATION_S, low_open=True, what="seconds")
    check("--timeout", opts.timeout_s, 0, flag_bounds.MAX_TIMEOUT_S, low_open=True, what="seconds")
    check("--abort-after", opts.abort_after_s, 0, flag_bounds.MAX_ABORT_AFTER_S, what="seconds")
    check("--progress-every", opts.progress_every_s, 0, flag_bounds.MAX_PROGRESS_S, low_open=True)
    ratio = opts.abort_error_ratio
    if ratio is not None and not 0 <= ratio < 1:  # NaN fails too; 1 or more never aborts
        raise UserError(f"--abort-error-ratio {ratio:g}: expected a ratio >= 0 and < 1")
    flag_bounds.check_port("--master-port", opts.master_port, zero_picks=True)
    if opts.metrics_port is not None:
        flag_bounds.check_port("--metrics-port", opts.metrics_port, zero_picks=True)
    if opts.dashboard_port is not None:
        flag_bounds.check_port("--dashboard", opts.dashboard_port, zero_picks=True)
        if opts.dashboard_port and opts.dashboard_port == opts.metrics_port:
            raise UserError(
                f"--dashboard {opts.dashboard_port}: --metrics-port uses it; give each its own"
            )
    check("--metrics-linger", opts.metrics_linger_s, 0, flag_bounds.MAX_INJECTED_S, what="seconds")
    from surgeproof.load.order_lookup import MAX_RATE_PER_S, MAX_TIME_S

    check("--reconcile-rate", opts.reconcile_rate, 0, MAX_RATE_PER_S, low_open=True)
    check("--reconcile-time", opts.reconcile_time_s, 0, MAX_TIME_S, low_open=True)
    for flag, pairs in (("--inject-stall", opts.stalls), ("--inject-target-outage", opts.outages)):
        for at_s, seconds in pairs:
            shown = f"{flag} {at_s:g}:{seconds:g}"
            check(shown + ": AT", at_s, 0, MAX_DURATION_S, what="seconds")
            check(shown + ": SECONDS", seconds, 0, flag_bounds.MAX_INJECTED_S, low_open=True)
    check("--fault-timeout", opts.fault_timeout_s, 0, MAX_FAULT_TIMEOUT_S, low_open=True)
    for at_s, spec in opts.fault_commands:
        check(f"--fault-command {at_s:g}:{spec.shown()}: AT", at_s, 0, MAX_DURATION_S)
    for at_s, gateway in opts.gateway_crashes:
        shown = f"--inject-gateway-crash {at_s:g}:{gateway}"
        check(shown + ": AT", at_s, 0, MAX_DURATION_S, what="seconds")
        check(shown + ": ID", gateway, 0, flag_bounds.MAX_GATEWAY_ID)


def _check_reports_dir(folder: Path) -> None:
    """``--reports-dir`` is a folder this process can create run directories in (or create)."""
    shown = f"--reports-dir {folder}"
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == folder else f"is under {existing}, which is a file"
        raise UserError(f"{shown}: {where}, not a folder")
    if not existing.exists():  # a dangling symbolic link
        raise UserError(f"{shown}: {existing} is a broken symbolic link")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{shown}: {existing} is not writable by this user")


def _check_target_config(path: str) -> None:
    """The embedded exchange's config, read as the exchange will (size and nesting bounded)."""
    from surgeproof.exchange.config import load_config
    from surgeproof.exchange.errors import ConfigError
    from surgeproof.scenario.yamlfile import read_yaml

    try:
        read_yaml(path)  # the file's size, encoding and nesting, before the exchange parses it
        load_config(path)
    except (ConfigError, UserError) as exc:
        raise UserError(f"--target-config {exc}") from None


def make_run_dir(opts: RunOptions, plan: Plan) -> Path:
    """``reports/<run-id>/``, new; the scenario and profile files copied in as run."""
    run_id = opts.run_id or (
        datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + plan.scenario.name
    )
    run_dir = Path(opts.reports_dir) / run_id
    if run_dir.exists():
        raise UserError(f"{run_dir}: already exists; choose another --run-id")
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise UserError(
            f"--reports-dir {opts.reports_dir}: cannot create {run_dir}: {exc.strerror or exc}"
        ) from None
    copy_inputs(plan, run_dir)
    return run_dir


def copy_inputs(plan: Plan, run_dir: Path) -> None:
    """The scenario and profile files copied into ``run_dir`` as run (any driver)."""
    if plan.scenario.source_path and Path(plan.scenario.source_path).is_file():
        shutil.copyfile(plan.scenario.source_path, run_dir / "scenario.yaml")
    src = _profile_path(plan)
    if src is not None:
        shutil.copyfile(src, run_dir / "profile.yaml")


def _profile_path(plan: Plan) -> Path | None:
    if plan.profile is None:
        return None
    from surgeproof.scenario.catalog import scenarios_dir

    for cand in (scenarios_dir() / "profiles" / f"{plan.profile.name}.yaml",):
        if cand.is_file():
            return cand
    return None
