"""``surgeproof export``: a run directory as Parquet or CSV tables (schema: rundir/EXPORT.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = subparsers.add_parser(
        "export",
        help="write a run's raw records and per-window series as Parquet or CSV",
        description=(
            "Write RUN_DIR's records (one row per request or websocket event), events, "
            "generator timeline, per-window series (from analysis.json, else computed by the "
            "analysis) and the client-side order ledger (every order call with the final state "
            "reconciliation found) as tables for DuckDB, pandas, Spark or a warehouse. "
            "Streamed: memory stays bounded whatever the run's size. Schema: rundir/EXPORT.md."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a surgeproof run directory")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--out", metavar="PATH", help="directory to write the tables into (RUN_DIR/export)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from surgeproof.analysis.order_status import order_ledger
    from surgeproof.confine import lstat_confined
    from surgeproof.errors import UserError
    from surgeproof.rundir.export import export_run
    from surgeproof.rundir.reader import read_meta
    from surgeproof.rundir.schema import ORDERS_DIR

    run_dir = Path(args.run_dir)
    meta = read_meta(run_dir)
    out = Path(args.out) if args.out else run_dir / "export"
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    timeseries, series_from, notes = series_for(run_dir, meta)
    ledger = None
    if lstat_confined(run_dir, ORDERS_DIR, "run directory") is not None:
        ledger, ledger_damage = order_ledger(run_dir)
        notes += ledger_damage
    result = export_run(
        run_dir,
        out,
        args.format,
        timeseries=timeseries,
        series_from=series_from,
        order_ledger=ledger,
    )
    for note in notes + result.damage:
        print(f"surgeproof export: warning: {note}")
    for name, path in result.files.items():
        print(f"{path}  {result.rows[name]:,} rows")
    if series_from is None:
        print("surgeproof export: no per-window series (the run has no records to analyse)")
    else:
        print(f"per-window series from {series_from}")
    return 0


#: Largest analysis.json read: a week of one-second windows is a few hundred megabytes.
MAX_ANALYSIS_BYTES = 1 << 30


def series_for(run_dir: Path, meta: dict[str, Any]) -> tuple[dict | None, str | None, list[str]]:
    """The run's per-window series: analysis.json's when it is this run's and sound, else
    computed by the analysis (with a note saying why analysis.json was not used)."""
    from surgeproof.confine import TooLarge, UnsafePath, lstat_confined, read_bounded
    from surgeproof.rundir.export import timeseries_problem
    from surgeproof.rundir.schema import RunDirError

    notes: list[str] = []
    analysis = None
    if lstat_confined(run_dir, ANALYSIS, "run directory") is not None:
        try:
            raw = read_bounded(run_dir, ANALYSIS, MAX_ANALYSIS_BYTES, "run directory")
            # Plain JSON (NaN and Infinity refused): the export checks the structure it reads and
            # types every column itself, so numbers need no slower per-number hooks here.
            analysis = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except UnsafePath:
            raise
        except (TooLarge, OSError, ValueError, RecursionError) as exc:
            why = " ".join(str(exc).split())[:400]  # the reason names the file: room for its path
            notes.append(
                f"{run_dir / ANALYSIS}: not used ({why}); series computed from the records"
            )
            analysis = None
    if analysis is not None:
        made_for = analysis.get("input") if isinstance(analysis, dict) else None
        of = made_for.get("run_id") if isinstance(made_for, dict) else None
        if not isinstance(analysis, dict):
            problem = "not a JSON object"
        elif of != meta.get("run_id"):
            problem = f"it is the analysis of run {str(of)[:80]!r}, not of {meta.get('run_id')!r}"
        else:
            problem = timeseries_problem(analysis.get("timeseries"))
        if problem is None:
            return analysis["timeseries"], "analysis.json", notes
        notes.append(
            f"{run_dir / ANALYSIS}: not used ({problem}); series computed from the records"
        )
    from surgeproof.analysis import analyze_run

    try:
        computed = analyze_run(run_dir)
    except RunDirError:
        return None, None, notes
    source = "computed (surgeproof analyze defaults; no analysis.json)"
    if notes:
        source = "computed (surgeproof analyze defaults)"
    return computed["timeseries"], source, notes


ANALYSIS = "analysis.json"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number analysis.json holds")
