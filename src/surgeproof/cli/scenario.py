"""``surgeproof scenario list|validate|show|from-trace``."""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import datetime
from pathlib import Path

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.numbers import number_arg, parse_number, whole_arg
from surgeproof.scenario.units import format_duration, parse_duration, parse_scale
from surgeproof.terminal import one_line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``scenario`` and its subcommands."""
    parser = subparsers.add_parser(
        "scenario", help="list, validate and show surge scenarios; build one from a trace"
    )
    sub = parser.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("list", help="built-in scenarios with a one-line description")
    p.set_defaults(func=_list)

    p = sub.add_parser("validate", help="check scenario files; exit 2 with the first error")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_validate)

    p = sub.add_parser("show", help="the resolved plan as a table")
    p.add_argument("scenario", metavar="NAME|FILE")
    p.add_argument("--time-scale", default="1", help="e.g. 1/24 (default 1)")
    p.add_argument("--user-scale", default="1", help="e.g. 1/1000 (default 1)")
    p.add_argument("--profile", help="capacity profile name or file (default: the scenario's)")
    p.set_defaults(func=_show)

    p = sub.add_parser(
        "from-trace",
        help="write a scenario that follows a traffic trace (CSV or access log)",
        description="Turn a CSV time series or a common/combined access log into a scenario "
        "whose phases follow the curve, scaled from its baseline and peak to two figures.",
    )
    p.add_argument("trace", metavar="FILE")
    p.add_argument("--format", choices=("auto", "csv", "log"), default="auto")
    p.add_argument("--time-column", help="CSV timestamp column (default: 'timestamp'/first)")
    p.add_argument("--value-column", help="CSV value column (default: 'value', 'count', ...)")
    p.add_argument("--tz", help="zone of timestamps without an offset: UTC, KST or +09:00")
    p.add_argument("--interval", default="1m", help="access-log bucket (default 1m)")
    p.add_argument(
        "--duplicates",
        default="error",
        choices=("error", "first", "last", "max", "sum", "mean"),
        help="timestamps given twice with different values (default: error)",
    )
    p.add_argument("--gaps", default="interpolate", choices=("interpolate", "zero", "error"))
    p.add_argument("--skip-bad-rows", action="store_true", help="skip (and report) bad rows")
    p.add_argument("--from", dest="window_from", help="cut: first time kept (ISO 8601)")
    p.add_argument("--to", dest="window_to", help="cut: first time dropped (ISO 8601)")
    p.add_argument(
        "--baseline-to", required=True, help="e.g. profile:upbit.normal, profile:upbit.normal*0.3"
    )
    p.add_argument("--peak-to", required=True, help="e.g. profile:upbit.peak or 540000")
    p.add_argument("--baseline-window", default="30m", help="baseline = median of this start")
    p.add_argument("--tolerance", type=number_arg, default=0.10, help="of the range (default 0.10)")
    p.add_argument("--max-phases", type=whole_arg, default=40)
    p.add_argument("--clock-tz", default="KST", help="zone of clock_start (default KST)")
    p.add_argument(
        "--mix",
        action="append",
        default=[],
        metavar="KIND=BEHAVIOUR:SHARE,...",
        help="override a kind's mix (baseline, shock, rebound), e.g. shock=app_user:1",
    )
    p.add_argument("--name", help="scenario name (default: the output file's stem)")
    p.add_argument("--description")
    p.add_argument("-o", "--output", help="write the YAML here (default: standard output)")
    p.set_defaults(func=_from_trace)


def _list(args: argparse.Namespace) -> int:
    from surgeproof.scenario.catalog import list_scenarios

    rows = list_scenarios()
    width = max(len(name) for name, _ in rows)
    for name, desc in rows:
        print(f"{name:<{width}}  {desc}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from surgeproof.scenario.catalog import load_scenario
    from surgeproof.scenario.plan import resolve

    for ref in args.files:
        scenario = load_scenario(Path(ref) if Path(ref).exists() else ref)
        plan = resolve(scenario)
        print(f"{ref}: ok ({scenario.name}: {plan.program.summary_line()})")
    return 0


def _show(args: argparse.Namespace) -> int:
    from surgeproof.scenario.catalog import load_profile, load_scenario
    from surgeproof.scenario.plan import resolve

    time_scale = _scale(args.time_scale, "--time-scale")
    user_scale = _scale(args.user_scale, "--user-scale")
    ref = args.scenario
    scenario = load_scenario(Path(ref) if Path(ref).exists() else ref)
    profile = load_profile(args.profile) if args.profile else None
    plan = resolve(scenario, profile, time_scale, user_scale)
    prof = plan.profile
    print(one_line(f"{scenario.name}: {scenario.description}"))
    print(
        f"model {scenario.model}; profile {prof.name if prof else 'none'}; time scale "
        f"{time_scale:g}; user scale {user_scale:g}; duration {format_duration(plan.duration_s)}"
    )
    for a in plan.assumptions:
        print(f"assumption: {a}")
    for r in plan.requirements:
        print(f"requirement: {r}")
    for s in scenario.slos:
        print(f"slo: {s}")
    for line in plan.program.describe(plan):
        print(one_line(line))
    _warn_short_windows(plan)
    return 0


def _warn_short_windows(plan) -> None:
    from surgeproof.scenario.judgeable import window_warning

    warning = window_warning(plan)
    if warning:
        print(f"warning: {warning}")


def _from_trace(args: argparse.Namespace) -> int:
    from surgeproof.scenario.fields import Field
    from surgeproof.scenario.parse import parse_mix
    from surgeproof.scenario.trace import read_access_log, read_csv_trace
    from surgeproof.scenario.trace.build import Options, build_scenario
    from surgeproof.scenario.trace.series import parse_zone
    from surgeproof.scenario.trace.shape import KINDS, PhaseKind
    from surgeproof.scenario.trace.target import parse_target

    fmt = args.format
    if fmt == "auto":
        fmt = "log" if Path(args.trace).suffix.lower() in (".log", ".txt") else "csv"
    if fmt == "log":
        trace = read_access_log(
            args.trace, _duration(args.interval, "--interval"), args.skip_bad_rows
        )
    else:
        trace = read_csv_trace(
            args.trace,
            args.time_column,
            args.value_column,
            args.tz,
            args.duplicates,
            args.gaps,
            args.skip_bad_rows,
        )
    if args.window_from or args.window_to:
        trace = trace.window(_moment(args.window_from, "--from"), _moment(args.window_to, "--to"))
    kinds = dict(KINDS)
    for spec in args.mix:
        kind, _, shares = spec.partition("=")
        if kind not in kinds:
            raise ScenarioError(
                "--mix", "", f"expected one of {', '.join(kinds)}=..., got {spec!r}"
            )
        mix = parse_mix(Field("--mix", kind, _shares(shares)))
        old = kinds[kind]
        kinds[kind] = PhaseKind(old.name, mix, old.intensity, old.sell_bias, old.retry)
    if args.max_phases < 2:
        raise ScenarioError("--max-phases", "", f"expected at least 2, got {args.max_phases}")
    if not 0 < args.tolerance < 1:
        raise ScenarioError("--tolerance", "", f"expected between 0 and 1, got {args.tolerance:g}")
    name = args.name or (Path(args.output).stem if args.output else Path(args.trace).stem)
    options = Options(
        name=name,
        baseline_to=parse_target(args.baseline_to, "--baseline-to"),
        peak_to=parse_target(args.peak_to, "--peak-to"),
        baseline_window_s=_duration(args.baseline_window, "--baseline-window"),
        tolerance=args.tolerance,
        max_phases=args.max_phases,
        clock_tz=parse_zone(args.clock_tz, "--clock-tz"),
        kinds=kinds,
        description=args.description,
        command="surgeproof scenario from-trace " + " ".join(shlex.quote(a) for a in _argv()),
    )
    result = build_scenario(trace, options)
    if args.output:
        Path(args.output).write_text(result.yaml_text, encoding="utf-8")
    else:
        sys.stdout.write(result.yaml_text)
    out = sys.stderr if not args.output else sys.stdout
    for line in result.summary:
        print(line, file=out)
    if args.output:
        print(f"wrote {args.output}", file=out)
    return 0


def _argv() -> list[str]:
    argv = sys.argv[1:]
    return argv[argv.index("from-trace") + 1 :] if "from-trace" in argv else argv


def _shares(text: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        behaviour, _, share = part.partition(":")
        try:
            out[behaviour.strip()] = parse_number(share.strip(" "))
        except ValueError:
            raise ScenarioError("--mix", part, "expected BEHAVIOUR:SHARE") from None
    return out


def _scale(text: str, option: str) -> float:
    from surgeproof.scenario.bounds import MAX_SCALE, MIN_SCALE

    try:
        value = parse_scale(text)
    except ValueError as exc:
        raise ScenarioError(option, "", str(exc)) from None
    if not MIN_SCALE <= value <= MAX_SCALE:
        raise ScenarioError(
            option, "", f"expected a factor from {MIN_SCALE:g} to {MAX_SCALE:g}, got {text!r}"
        )
    return value


def _duration(text: str, option: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ScenarioError(option, "", f"expected a duration like 30m, got {text!r}")
    return value


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ScenarioError(
            option,
            "",
            f"expected an ISO 8601 time with offset (e.g. 2024-12-03T22:00+09:00), got {text!r}",
        )
    return moment
