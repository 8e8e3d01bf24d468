"""The demo's ending: the answer once, the gate in one line, where the report is — at most
15 lines, no warning; and the demo's own settings judge every steady window of the night."""

from __future__ import annotations

import json
import re

from surgeproof.cli.demo import DEMO_SCENARIO, _answer
from surgeproof.load.options import RunOptions, plan_for
from surgeproof.scenario.judgeable import window_warning


def test_the_demos_time_scale_leaves_no_steady_window_too_short_to_judge():
    from surgeproof.cli import build_parser

    args = build_parser().parse_args(["demo"])
    opts = RunOptions(DEMO_SCENARIO, time_scale=args.time_scale, user_scale=args.user_scale)
    assert args.time_scale == 1 / 60
    assert window_warning(plan_for(opts)) is None


def test_the_demos_ending_says_each_thing_once_in_at_most_15_lines(real_run_copy, capsys):
    final, html = _answer(real_run_copy)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) <= 15, out
    assert "warning" not in out.lower()
    analysis = json.loads((real_run_copy / "analysis.json").read_text())
    assert lines[0].strip() == analysis["summary"][0]
    assert len(set(lines)) == len(lines)
    # Nothing said twice, not even inside longer lines (the verdict once repeated the bracket).
    parts = [p.strip() for line in lines for p in re.split(r"; |: ", line)]
    long_parts = [p for p in parts if len(p.split()) >= 5]
    assert len(set(long_parts)) == len(long_parts), long_parts
    assert any(line.strip().startswith("gate ") for line in lines)
    assert f"report: {html}" in out and html.is_file()
    assert final["headline"] == analysis["summary"][0] and final["report_path"] == str(html)
