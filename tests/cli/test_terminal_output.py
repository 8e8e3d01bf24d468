"""Terminal escape sequences in names and labels never reach the terminal: whatever a run
directory, a scenario file or a path holds, ``analyze``, ``report``, ``gate``, ``scenario show``
and the one-line errors print no ESC/CSI/OSC sequence, C0/C1 control or bidi override, and a
label cannot start a printed line of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.oneline import cli, files_under
from report.hostile_run import TERMINAL, write_hostile_run
from surgeproof.terminal import one_line, printable

#: What no output stream may carry (tab and newline are the only controls printed).
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def assert_clean(*streams: str) -> None:
    for stream in streams:
        assert not CONTROLS.search(stream), repr(CONTROLS.search(stream))
        for line in stream.splitlines():
            assert not line.startswith(("# injected heading", "| x | y |", "<img src=x")), line


@pytest.fixture
def hostile_run(tmp_path) -> Path:
    return write_hostile_run(tmp_path / "run")


def test_analyze_report_and_gate_print_no_control_sequence(hostile_run, tmp_path, capsys):
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("untouched")
    before = files_under(sentinel)
    analyzed = cli(capsys, "analyze", hostile_run)
    reported = cli(capsys, "report", hostile_run)
    gated = cli(capsys, "gate", hostile_run, "--junit", hostile_run / "gate" / "junit.xml")
    assert (analyzed.code, reported.code, gated.code) == (0, 0, 1)
    for answer in (analyzed, reported, gated):
        assert_clean(answer.out, answer.err)
    # The labels are still there to read, on the lines they belong to.
    assert "level<script>alert(1)</script>" in analyzed.out
    assert any(
        line.startswith("FAIL  ") and "level<script>" in line for line in gated.out.split("\n")
    )
    assert files_under(sentinel) == before and (sentinel / "keep.txt").read_text() == "untouched"


def test_a_child_process_writes_no_control_byte_to_its_real_streams(hostile_run):
    done = subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", "analyze", str(hostile_run)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"\x1b" not in done.stdout + done.stderr and b"\xe2\x80\xae" not in done.stdout
    assert b"\r" not in done.stdout and b"\x07" not in done.stdout


def _yaml_escaped(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (YAML files cannot hold raw control bytes)."""
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def test_scenario_show_prints_no_control_sequence(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: x\n"
        f"description: {_yaml_escaped('calm' + TERMINAL + chr(10) + 'PASS  forged line')}\n"
        "timeline:\n"
        f"  - {{phase: {_yaml_escaped('storm' + TERMINAL)}, duration: 1m, users: 10}}\n"
    )
    shown = cli(capsys, "scenario", "show", scenario)
    assert shown.code == 0
    assert_clean(shown.out, shown.err)
    assert "x: calmlinkevil PASS forged line" in shown.out  # on the line it belongs to
    assert "stormlinkevil" in shown.out


@pytest.mark.parametrize(
    "argv",
    [
        ("scenario", "validate", "/nonexistent/\x1b[2J\u202eevil.yaml"),
        ("analyze", "/nonexistent/\x1b]0;owned\x07run"),
        ("gate", "/nonexistent/\x9b31mrun"),
        ("run", "/nonexistent/\x1b[2Jscenario.yaml"),
    ],
    ids=["scenario validate", "analyze", "gate", "run"],
)
def test_one_line_errors_print_no_control_sequence(argv, capsys, monkeypatch):
    monkeypatch.setattr("surgeproof.cli.gevent_patch.prepare_process", lambda argv: None)
    answer = cli(capsys, *argv)
    answer.one_line_error("nonexistent")
    assert_clean(answer.out, answer.err)


@pytest.mark.parametrize(
    "text, shown",
    [
        ("a\x1b[2Jb", "ab"),
        ("a\x1b[38;5;196mred\x1b[0m", "ared"),
        ("x\x1b]8;;http://e.invalid/\x1b\\link\x1b]8;;\x1b\\y", "xlinky"),
        ("t\x1b]0;title\x07x", "tx"),
        ("clip\x1b]52;c;ZXZpbA==\x07end", "clipend"),
        ("dcs\x1bPq#0;2;0;0;0\x1b\\end", "dcsend"),
        ("c1\x9b31mx\x9d0;t\x9cy", "c1xy"),
        ("a\u202eb\u2066c\u2069\u200fd", "abcd"),
        ("a\x00b\x7fc\x85d\x08e", "abcde"),
        ("ok\rFAIL", "okFAIL"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("한국어 é ✅", "한국어 é ✅"),
    ],
)
def test_printable_removes_sequences_and_controls_and_keeps_text(text, shown):
    assert printable(text) == shown
    assert one_line(text) == shown.replace("\n", " ").replace("\t", " ")


@pytest.mark.slow
def test_run_progress_lines_print_no_control_sequence(tmp_path):
    """A real 4 s run (embedded exchange on loopback, 2 users) whose phase name is hostile."""
    scenario = tmp_path / "s.yaml"
    phase = _yaml_escaped("storm" + TERMINAL + "\nPASS forged line")
    scenario.write_text(f"name: x\ntimeline:\n  - {{phase: {phase}, duration: 4s, users: 2}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", "run", str(scenario), "--progress-every", "1",
         "--reports-dir", str(tmp_path / "reports"), "--no-analyze"],
        capture_output=True,
        timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )  # fmt: skip
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err[-2000:]
    progress = [line for line in out.splitlines() if line.startswith("[")]
    assert progress and all("stormlinkevil PASS forged line" in line for line in progress)
    assert_clean(out, err)
    assert not any(line.startswith("PASS forged") for line in out.splitlines())
