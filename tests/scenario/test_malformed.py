"""Malformed scenario and profile files: one line naming file and field, exit 2, never a
traceback; ``validate`` and ``run`` refuse the same files with the same line."""

from __future__ import annotations

import pytest

from cli.oneline import ChecksPassed, cli, files_under
from cli.oneline import checks_only as checks_only  # a fixture

GOOD_PHASE = "{phase: a, duration: 1m, users: 10}"


def _scenario(phase: str = GOOD_PHASE, extra: str = "") -> str:
    return f"name: x\n{extra}timeline:\n  - {phase}\n"


#: (file text, what the one error line must say)
BAD_FILES = {
    "users .inf": (_scenario("{phase: a, duration: 1m, users: .inf}"), "timeline[0].users"),
    "users .nan": (_scenario("{phase: a, duration: 1m, users: .nan}"), "timeline[0].users"),
    "users 1e400": (_scenario("{phase: a, duration: 1m, users: 1e400}"), "timeline[0].users"),
    "users 1.0e+400": (_scenario("{phase: a, duration: 1m, users: 1.0e+400}"), "users"),
    "users 'nan'": (_scenario("{phase: a, duration: 1m, users: 'nan'}"), "users"),
    "users of 400 digits": (
        _scenario("{phase: a, duration: 1m, users: %s}" % ("9" * 400)),
        "digits",
    ),
    "users of 5000 digits": (
        _scenario("{phase: a, duration: 1m, users: %s}" % ("9" * 5000)),
        "too long",
    ),
    "users beyond the bound": (_scenario("{phase: a, duration: 1m, users: 1e12}"), "1,000,000,000"),
    "figure factor 1e999": (
        _scenario("{phase: a, duration: 1m, users: 'peak * 1e999'}", "profile: upbit\n"),
        "factor",
    ),
    "figure factor too large": (
        _scenario("{phase: a, duration: 1m, users: 'peak * 100000'}", "profile: upbit\n"),
        "more than 1,000,000,000",
    ),
    "duration 1e400s": (_scenario("{phase: a, duration: 1e400s, users: 1}"), "duration"),
    "duration nan": (_scenario("{phase: a, duration: nan, users: 1}"), "duration"),
    "duration .inf": (_scenario("{phase: a, duration: .inf, users: 1}"), "duration"),
    "duration of 400 digits": (
        _scenario("{phase: a, duration: %s, users: 1}" % ("9" * 400)),
        "duration",
    ),
    "duration of a year": (_scenario("{phase: a, duration: 8760h, users: 1}"), "at most 168h"),
    "intensity .inf": (
        _scenario("{phase: a, duration: 1m, users: 1, intensity: .inf}"),
        "intensity",
    ),
    "intensity 1e9": (_scenario("{phase: a, duration: 1m, users: 1, intensity: 1e9}"), "intensity"),
    "retry attempts 10**30": (
        _scenario(f"{{phase: a, duration: 1m, users: 1, retry: {{max_attempts: {10**30}}}}}"),
        "max_attempts",
    ),
    "arrival rate .inf": (
        _scenario("{phase: a, duration: 1m, users: 1, arrival_rate: .inf}"),
        "arrival_rate",
    ),
    "request rate 1e400/s": (
        _scenario("{phase: a, duration: 1m, users: 1, request_rate: 1e400/s}"),
        "request_rate",
    ),
    "slo latency .nan": (_scenario(extra="slos:\n  - {group: login, p99: .nan}\n"), "slos[0].p99"),
    "search step factor 1.0000001": (
        "name: x\nsearch: {start: 10, max: 1000000, step_factor: 1.0000001}\n",
        "7 days",
    ),
    "search resolution 1e-300 with a long hold": (
        "name: x\nsearch: {start: 1, max: 1e9, hold: 168h, resolution: 1e-300}\n",
        "7 days",
    ),
    "unhashable key": ("name: x\n? [a, b]\n: 1\n", "line 2"),
    "mapping as a key": ("name: x\n? {a: 1}\n: 1\n", "keys are text"),
    "deep nesting": ("name: x\ntimeline: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested deeper"),
    "deep block nesting": (
        "name: x\nd:\n" + "".join(" " * i + "- \n" for i in range(1, 200)),
        "deeper",
    ),
    "recursive alias": ("name: x\ntimeline: &a [*a]\n", "line 2, column 11: bad YAML: anchors"),
    "a key of half a megabyte": ("name: x\n" + "k" * 500_000 + ": 1\n", "line 2"),
    "not UTF-8": ("name: \xff\n", "not UTF-8"),
    "a list, not a mapping": ("- 1\n- 2\n", "expected a mapping"),
}


def _write(tmp_path, text: str):
    path = tmp_path / "bad.yaml"
    if text == "name: \xff\n":
        path.write_bytes(b"name: \xff\n")
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_validate_refuses_with_one_line(case, tmp_path, capsys):
    text, says = BAD_FILES[case]
    path = _write(tmp_path, text)
    line = cli(capsys, "scenario", "validate", path).one_line_error("bad.yaml", says)
    assert len(line) < 400


@pytest.mark.parametrize(
    "case",
    ["users .inf", "users 1e400", "users of 5000 digits", "duration nan", "unhashable key",
     "deep nesting", "search step factor 1.0000001", "figure factor too large"],
)  # fmt: skip
def test_run_refuses_what_validate_refuses_with_the_same_line(case, tmp_path, capsys, checks_only):
    path = _write(tmp_path, BAD_FILES[case][0])
    said = cli(capsys, "scenario", "validate", path).one_line_error()
    before = files_under(tmp_path)
    ran = cli(capsys, "run", path, "--reports-dir", tmp_path / "reports").one_line_error()
    assert ran.split(": error: ", 1)[1] == said.split(": error: ", 1)[1]
    assert files_under(tmp_path) == before  # no run directory, not even reports/


def test_a_file_validate_accepts_run_accepts_at_every_scale(tmp_path, capsys, checks_only):
    path = _write(tmp_path, _scenario("{phase: a, duration: 168h, users: 1e9, intensity: 1.0e+6}"))
    assert cli(capsys, "scenario", "validate", path).code == 0
    with pytest.raises(ChecksPassed):
        cli(capsys, "run", path, "--time-scale", "1/1000", "--user-scale", "1e-9")
    # Stretching time past the 7-day bound is the scale's fault, and the line says so.
    cli(capsys, "run", path, "--time-scale", "2").one_line_error("7 days", "time scale 2")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_without_reading(device, capsys):
    cli(capsys, "scenario", "validate", device).one_line_error(device, "not a regular file")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, capsys):
    import os

    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    cli(capsys, "scenario", "validate", fifo).one_line_error("not a regular file")


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(50 << 20)  # sparse: 50 MB that cost no disk
    cli(capsys, "scenario", "validate", big).one_line_error("52,428,800 bytes", "1,048,576")


def test_a_symlink_loop_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    cli(capsys, "scenario", "validate", tmp_path / "a.yaml").one_line_error("a.yaml", "cannot read")


def test_a_profile_with_an_infinite_figure_is_named(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: p\nfigures:\n  peak: {value: .inf, unit: concurrent users, source: x}\n"
    )
    scenario = _write(
        tmp_path, _scenario("{phase: a, duration: 1m, users: peak}", "profile: p.yaml\n")
    )
    cli(capsys, "scenario", "validate", scenario).one_line_error("p.yaml", "figures.peak.value")


@pytest.mark.parametrize("scale", ["0", "nan", "inf", "1/0", "1e999999999", "-1", "abc", "1e-12"])
def test_show_refuses_a_bad_scale(scale, capsys):
    cli(capsys, "scenario", "show", "login-storm", "--time-scale", scale).one_line_error(
        "--time-scale"
    )
