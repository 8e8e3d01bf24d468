"""``surgeproof run``: everything checked before anything starts, then the conductor.

Bad flags, an unreadable scenario, a dialect that cannot play the scenario's behaviours, an
injection after the run's end: each is one line and exit 2 before a process is started or a
run directory is made. Then the run directory is made and the conductor takes over.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from surgeproof.load.conductor import Conductor
from surgeproof.load.dialect_choice import choose_dialect, embedded_dialect_arg
from surgeproof.load.fault_schedule import check_faults, planned_faults
from surgeproof.load.fleet_check import warn_fleet
from surgeproof.load.gateway_fault import check_gateway_crashes
from surgeproof.load.live import Live, open_live
from surgeproof.load.options import (
    RunOptions,
    check_options,
    make_run_dir,
    plan_for,
)
from surgeproof.load.target import Target, default_target_config, describe_host, target_says
from surgeproof.rundir.schema import DIALECT_COPY
from surgeproof.scenario.judgeable import window_warning

#: What a command does with a finished run before the live views close: analyse it, write the
#: report, print the answer; returns the answer for the dashboard and the report's path.
Epilogue = Callable[[Path], "tuple[dict[str, Any] | None, Path | None]"]


def execute(opts: RunOptions, epilogue: Epilogue | None = None) -> Path:
    """Run ``opts`` to the end, then ``epilogue`` while the live views still serve; returns the
    run directory. Raises UserError on bad input."""
    check_options(opts)
    plan = plan_for(opts)
    faults = planned_faults(opts, plan.time_scale, plan.scenario.faults)
    # A fault due after the run's end would never happen, and the run would still say
    # "complete" as if the target had been tested under it.
    end_s = plan.duration_s
    if opts.max_duration is not None:
        end_s = min(end_s, opts.max_duration)
    check_faults(faults, end_s, opts.target)
    check_gateway_crashes(
        [(f.at_s, f.gateway) for f in faults if f.kind == "gateway-crash"],
        opts.target,
        opts.target_config or default_target_config(),
    )
    for f in faults:
        print(f"surgeproof run: fault {f.describe()} ({f.origin})", flush=True)
    warning = window_warning(plan)
    if warning:
        print(f"surgeproof run: warning: {warning}", flush=True)
    said = target_says(opts.target, opts.target_config)
    choice = choose_dialect(opts.dialect, plan, said)
    from surgeproof.load.users.fit import check_fit

    for note in check_fit(choice.dialect, plan.behaviours):
        print(f"surgeproof run: note: {note}", flush=True)
    embedded_dialect = None
    if not opts.target:
        name = embedded_dialect_arg(choice)
        embedded_dialect = name if name != (said or "upbit") else None
    # Before anything starts: say what the machine(s) cannot offer of the peak (CPU, fds...).
    warn_fleet(plan, opts, choice.dialect)
    model = opts.model or plan.scenario.model
    if opts.target and not Target(opts.target, None, False).loopback:
        print(
            f"surgeproof run: REMOTE target {opts.target}: host {describe_host(opts.target)} "
            "(allowed by --allow-remote-target)",
            flush=True,
        )
    live = open_live(opts, plan)  # binds now: a busy port fails before the run dir exists
    try:
        run_dir = make_run_dir(opts, plan)
        (run_dir / DIALECT_COPY).write_text(choice.dialect.text, encoding="utf-8")

        import gevent  # noqa: F401 - Locust monkey-patches on import; import it first
        import locust  # noqa: F401

        run_dir = Conductor(opts, plan, model, run_dir, choice, embedded_dialect, live).run()
        _answer(run_dir, epilogue, live)
    except BaseException:
        if live is not None:
            live.close(linger=False)
        raise
    if live is not None:
        live.close()
    return run_dir


def _answer(run_dir: Path, epilogue: Epilogue | None, live: Live | None) -> None:
    if epilogue is None:
        return
    if live is not None:
        live.analysing()
    final, report = epilogue(run_dir)
    if live is not None:
        live.finish(final, report)
