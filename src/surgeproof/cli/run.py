"""``surgeproof run SCENARIO``: replay a surge against an exchange, then analyse and report it."""

from __future__ import annotations

import argparse
from pathlib import Path

#: ``--dashboard`` without a port (kept here: the parser is built before the dashboard loads).
DASHBOARD_PORT = 9647


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    from surgeproof.load.options import scale_arg
    from surgeproof.scenario.numbers import number_arg, whole_arg

    p = subparsers.add_parser(
        "run",
        help="replay a surge scenario against an exchange",
        description="Replay SCENARIO (a built-in name or a YAML path) with "
        "Locust and write reports/<run-id>/.",
    )
    p.add_argument("scenario")
    p.add_argument("--target", help="base URL of the exchange (default: start the embedded one)")
    p.add_argument(
        "--allow-remote-target",
        action="store_true",
        help="allow a --target that is not a loopback address",
    )
    p.add_argument("--target-config", help="embedded exchange config (scenarios/targets/X.yaml)")
    p.add_argument(
        "--workers",
        type=whole_arg,
        default=0,
        help="Locust worker processes (0 = users in this process)",
    )
    p.add_argument(
        "--allow-many-workers",
        action="store_true",
        help="start more than 4 local workers per CPU (up to 1024)",
    )
    p.add_argument("--time-scale", type=scale_arg, default=1.0, help="e.g. 1/24")
    p.add_argument("--user-scale", type=scale_arg, default=1.0, help="e.g. 1/1000")
    p.add_argument("--profile", help="capacity profile (overrides the scenario's)")
    p.add_argument(
        "--dialect",
        help="the API the target speaks: upbit, bithumb, coinone or a dialect file "
        "(default: the scenario's, the profile's, the target's, else upbit)",
    )
    p.add_argument("--model", choices=("open", "closed"), help="load model (default: scenario's)")
    p.add_argument("--run-id")
    p.add_argument("--reports-dir", default="reports")
    p.add_argument("--max-duration", type=number_arg, help="hard cap on the run (seconds)")
    p.add_argument("--accounts-file", help="credentials for a real target (never copied)")
    p.add_argument(
        "--master-bind-host",
        default="127.0.0.1",
        help="address workers connect to (use 0.0.0.0 for workers on other hosts)",
    )
    p.add_argument("--master-port", type=whole_arg, default=0)
    p.add_argument(
        "--fleet-key-file",
        metavar="PATH",
        help="the key every worker must prove it holds (default: $SURGEPROOF_FLEET_KEY; made "
        "for the run when all its workers are local; needed with --expect-workers)",
    )
    p.add_argument(
        "--mark-port",
        type=whole_arg,
        metavar="PORT",
        help="serve the loopback mark endpoint on 127.0.0.1:PORT (0: any free port) for "
        "surgeproof mark; needs a fleet key (--fleet-key-file or $SURGEPROOF_FLEET_KEY)",
    )
    p.add_argument("--timeout", type=number_arg, default=10.0, help="client timeout per call (s)")
    p.add_argument(
        "--inject-stall",
        action="append",
        default=[],
        metavar="AT:SECONDS",
        help="freeze a loopback surgeproof exchange at AT s for SECONDS (testing)",
    )
    p.add_argument(
        "--inject-target-outage",
        action="append",
        default=[],
        metavar="AT:SECONDS",
        help="SIGKILL the embedded exchange at AT s, restart it on its port after SECONDS",
    )
    p.add_argument(
        "--inject-gateway-crash",
        action="append",
        default=[],
        metavar="AT[:ID]",
        help="SIGKILL websocket gateway ID (default 0) of the embedded exchange at AT s",
    )
    p.add_argument(
        "--fault-command",
        action="append",
        default=[],
        metavar="AT:COMMAND",
        help="run COMMAND (no shell; e.g. a failover script, kubectl delete pod ...) at AT "
        "(scenario time, scaled like the timeline: 30m, 90s); its start, end, exit status and "
        "last output lines are events of the run, recovery is measured from it",
    )
    p.add_argument(
        "--fault-shell",
        action="append",
        default=[],
        metavar="AT:COMMAND",
        help="the same, COMMAND run by /bin/sh -c (pipes, &&, variables)",
    )
    p.add_argument(
        "--fault-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="kill a fault command still running after this long (default 300)",
    )
    p.add_argument(
        "--expect-workers",
        type=whole_arg,
        default=0,
        help="also wait for N workers started elsewhere (surgeproof worker --master HOST)",
    )
    p.add_argument(
        "--record-shards",
        choices=("auto", "local", "master"),
        default="auto",
        help="where workers' records go: master = shipped to this process every second; local "
        "= each worker writes its own shard (in the run directory when it can reach it, else "
        "under its --shard-dir, gathered at the end) and ships counts; auto (default) = local "
        "where the run directory is reachable, else master",
    )
    p.add_argument(
        "--shards-stay",
        action="store_true",
        help="records kept on workers' hosts (--record-shards local with --shard-dir) stay "
        "there: each worker runs the analysis's passes over its own shard and only partial "
        "results cross to this process; `surgeproof gather` brings the records in later",
    )
    p.add_argument(
        "--abort-error-ratio",
        type=number_arg,
        help="stop early when the error ratio stays above this",
    )
    p.add_argument("--abort-after", type=number_arg, default=10.0)
    p.add_argument("--progress-every", type=number_arg, default=5.0)
    p.add_argument(
        "--no-analyze",
        action="store_true",
        help="do not write analysis.json, the report and the verdict at the end (analyse "
        "elsewhere)",
    )
    p.add_argument(
        "--no-report",
        action="store_true",
        help="write analysis.json and print the verdict, but not report.html / report.md",
    )
    p.add_argument(
        "--dashboard",
        type=int,
        nargs="?",
        const=DASHBOARD_PORT,
        metavar="PORT",
        help=f"serve a live dashboard on PORT (default {DASHBOARD_PORT}; 0 = any free port): "
        "load, latency against the SLOs, errors, users, sessions, workers, faults, levels",
    )
    p.add_argument(
        "--metrics-port",
        type=whole_arg,
        metavar="PORT",
        help="serve live Prometheus metrics (every worker merged) on PORT, e.g. 9646",
    )
    p.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address of --metrics-port and --dashboard (default loopback; 0.0.0.0 for a "
        "Prometheus or a browser elsewhere)",
    )
    p.add_argument(
        "--metrics-linger",
        type=number_arg,
        default=0.0,
        metavar="SECONDS",
        help="keep serving the final metrics and the dashboard (with the verdict and a link "
        "to the report) this long after the run",
    )
    p.add_argument(
        "--no-reconcile",
        action="store_true",
        help="do not look the acknowledged orders up through order_status after the run",
    )
    p.add_argument(
        "--reconcile-rate",
        type=number_arg,
        metavar="N",
        help="order lookups per second after the run (default 20; 200 for the embedded exchange)",
    )
    p.add_argument(
        "--reconcile-time",
        type=number_arg,
        metavar="SECONDS",
        help="longest the order lookups after the run may take (default 60; then "
        "`surgeproof reconcile RUN_DIR` continues)",
    )
    p.set_defaults(func=_run)


def _options(args: argparse.Namespace):
    from surgeproof.errors import UserError
    from surgeproof.load.fault_command import parse_command
    from surgeproof.load.gateway_fault import parse_gateway_crash
    from surgeproof.load.options import RunOptions
    from surgeproof.load.outage import parse_outage
    from surgeproof.scenario.numbers import parse_number

    stalls = []
    for item in args.inject_stall:
        at, _, secs = item.partition(":")
        try:
            stalls.append((parse_number(at), parse_number(secs)))
        except ValueError:
            raise UserError(f"--inject-stall {item!r}: expected AT:SECONDS like 10:2") from None
    return RunOptions(
        scenario=args.scenario,
        target=args.target,
        allow_remote_target=args.allow_remote_target,
        target_config=args.target_config,
        workers=args.workers,
        allow_many_workers=args.allow_many_workers,
        time_scale=args.time_scale,
        user_scale=args.user_scale,
        profile=args.profile,
        dialect=args.dialect,
        model=args.model,
        run_id=args.run_id,
        reports_dir=args.reports_dir,
        max_duration=args.max_duration,
        accounts_file=args.accounts_file,
        master_bind_host=args.master_bind_host,
        master_port=args.master_port,
        fleet_key_file=args.fleet_key_file,
        mark_port=args.mark_port,
        stalls=stalls,
        outages=[(o.at_s, o.seconds) for o in (parse_outage(t) for t in args.inject_target_outage)],
        gateway_crashes=[
            (c.at_s, c.gateway) for c in map(parse_gateway_crash, args.inject_gateway_crash)
        ],
        fault_commands=[parse_command(t, "--fault-command", False) for t in args.fault_command]
        + [parse_command(t, "--fault-shell", True) for t in args.fault_shell],
        fault_timeout_s=args.fault_timeout,
        expect_workers=args.expect_workers,
        record_shards=args.record_shards,
        shards_stay=args.shards_stay,
        no_analyze=args.no_analyze,
        timeout_s=args.timeout,
        abort_error_ratio=args.abort_error_ratio,
        abort_after_s=args.abort_after,
        progress_every_s=args.progress_every,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        metrics_linger_s=args.metrics_linger,
        reconcile=not args.no_reconcile,
        reconcile_rate=args.reconcile_rate,
        reconcile_time_s=args.reconcile_time,
        dashboard_port=args.dashboard,
    )


def _run(args: argparse.Namespace) -> int:
    import json

    from surgeproof.load.launch import execute

    opts = _options(args)

    def answer(run_dir: Path):
        if args.no_analyze:
            return None, None
        from surgeproof.report.answer import answer_run

        return answer_run(Path(run_dir), report=not args.no_report)

    run_dir = execute(opts, answer)
    status = json.loads((Path(run_dir) / "run.json").read_text())["status"]
    return 0 if status == "complete" else 3
