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
            "generator timeline and per-window series (from analysis.json, else computed by the "
            "analysis) as tables for DuckDB, pandas, Spark or a warehouse. Streamed: memory "
            "stays bounded whatever the run's size. Schema: rundir/EXPORT.md."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a surgeproof run directory")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--out", metavar="PATH", help="directory to write the tables into (RUN_DIR/export)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from surgeproof.rundir.export import export_run
    from surgeproof.rundir.reader import read_meta

    run_dir = Path(args.run_dir)
    meta = read_meta(run_dir)
    out = Path(args.out) if args.out else run_dir / "export"
    if out.exists() and not out.is_dir():
        from surgeproof.errors import UserError

        raise UserError(f"--out {out}: exists and is not a directory")
    timeseries, series_from = series_for(run_dir, meta)
    result = export_run(run_dir, out, args.format, timeseries=timeseries, series_from=series_from)
    for note in result.damage:
        print(f"surgeproof export: warning: {note}")
    for name, path in result.files.items():
        print(f"{path}  {result.rows[name]:,} rows")
    if series_from is None:
        print("surgeproof export: no per-window series (the run has no records to analyse)")
    else:
        print(f"per-window series from {series_from}")
    return 0


def series_for(run_dir: Path, meta: dict[str, Any]) -> tuple[dict | None, str | None]:
    """The run's per-window series: analysis.json's when it is this run's, else computed."""
    from surgeproof.rundir.schema import RunDirError

    path = run_dir / "analysis.json"
    try:
        analysis = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        analysis = None
    if (
        isinstance(analysis, dict)
        and isinstance(analysis.get("timeseries"), dict)
        and (analysis.get("input") or {}).get("run_id") == meta.get("run_id")
    ):
        return analysis["timeseries"], "analysis.json"
    from surgeproof.analysis import analyze_run

    try:
        computed = analyze_run(run_dir)
    except RunDirError:
        return None, None
    return computed["timeseries"], "computed (surgeproof analyze defaults; no analysis.json)"
