"""Hostile numbers in the files people hand us: scenario, profile and traffic trace. Every numeric
field reads plain ASCII decimal only — YAML 1.1's ``1_000``, ``0x10``, ``010``, ``1:30``, ``+5``,
``.inf``, ``.nan`` and Python's ``"١٢٣"``, ``" 5"``, ``"nan"`` are refused — each with one line
naming the file and the field, exit 2, and nothing written."""

from __future__ import annotations

import pytest

from cli.oneline import ChecksPassed, cli, files_under
from cli.oneline import checks_only as checks_only  # a fixture
from surgeproof.scenario.numbers import is_number_text, parse_number, parse_whole

#: Written as they stand (plain YAML scalars): each is a number to PyYAML or to float().
PLAIN = ["1_000", "0x10", "0o17", "1:30", "+5", ".inf", "-.inf", ".nan", "0b11"]
#: Written quoted: text that Python's float() would read as a number.
QUOTED = ["'١٢٣'", "'１２'", "'1_000'", "' 5'", "'5 '", "'+5'", "'nan'", "'inf'", "'Infinity'"]
HOSTILE = PLAIN + QUOTED

GOOD = "{phase: a, duration: 1m, users: 10}"


def _scenario(phase: str = GOOD, extra: str = "") -> str:
    return f"name: x\n{extra}timeline:\n  - {phase}\n"


#: Each numeric field of a scenario: (file text with {v} where the value goes, field path).
SCENARIO_FIELDS = {
    "users": (_scenario("{phase: a, duration: 1m, users: {v}}"), "timeline[0].users"),
    "duration": (_scenario("{phase: a, duration: {v}, users: 1}"), "timeline[0].duration"),
    "intensity": (
        _scenario("{phase: a, duration: 1m, users: 1, intensity: {v}}"),
        "timeline[0].intensity",
    ),
    "arrival_rate": (
        _scenario("{phase: a, duration: 1m, users: 1, arrival_rate: {v}}"),
        "timeline[0].arrival_rate",
    ),
    "mix share": (
        _scenario("{phase: a, duration: 1m, users: 1, mix: {market_watcher: {v}}}"),
        "timeline[0].mix.market_watcher",
    ),
    "slo p99": (_scenario(extra="slos:\n  - {group: login, p99: {v}}\n"), "slos[0].p99"),
    "slo error_rate": (
        _scenario(extra="slos:\n  - {group: login, error_rate: {v}}\n"),
        "slos[0].error_rate",
    ),
    "search start": ("name: x\nsearch: {start: {v}, max: 1000}\n", "search.start"),
}


def _fill(template: str, value: str) -> str:
    return template.replace("{v}", value)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", sorted(SCENARIO_FIELDS))
def test_scenario_numbers_are_plain_decimal(field, value, tmp_path, capsys):
    template, path_in_file = SCENARIO_FIELDS[field]
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_fill(template, value), encoding="utf-8")
    sentinel = files_under(tmp_path)
    line = cli(capsys, "scenario", "validate", scenario).one_line_error("s.yaml", path_in_file)
    assert "Traceback" not in line
    assert files_under(tmp_path) == sentinel
    # The same field with a plain number is read (so the refusal is about the number's form).
    scenario.write_text(_fill(template, "1" if "share" not in field else "1.0"), encoding="utf-8")
    if field not in ("slo error_rate",):
        assert cli(capsys, "scenario", "validate", scenario).code == 0


@pytest.mark.parametrize("value", ["'١٢٣'", "1_000", ".inf", "'nan'", "0x10"])
def test_run_refuses_the_scenario_before_writing_anything(value, tmp_path, capsys, checks_only):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario(f"{{phase: a, duration: 1m, users: {value}}}"))
    sentinel = files_under(tmp_path)
    cli(capsys, "run", scenario, "--reports-dir", tmp_path / "reports").one_line_error(
        "timeline[0].users"
    )
    assert files_under(tmp_path) == sentinel  # no run directory, not even reports/


PROFILE = (
    "name: p\nexchange: X\nfigures:\n"
    "  peak: {value: {v}, unit: concurrent users, label: peak, source: test}\n"
)


@pytest.mark.parametrize("value", HOSTILE)
def test_profile_figures_are_plain_decimal(value, tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text(_fill(PROFILE, value), encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario("{phase: a, duration: 1m, users: peak}"))
    answer = cli(capsys, "scenario", "show", scenario, "--profile", profile)
    answer.one_line_error("p.yaml", "figures.peak.value")
    profile.write_text(_fill(PROFILE, "540000"), encoding="utf-8")
    with_plain = cli(capsys, "scenario", "show", scenario, "--profile", profile)
    assert with_plain.code == 0 and "540,000" in with_plain.out


TRACE_HEAD = "timestamp,value\n"


def _trace(rows: list[tuple[str, str]]) -> str:
    return TRACE_HEAD + "".join(f"{t},{v}\n" for t, v in rows)


GOOD_ROWS = [(f"2024-12-03T22:{m:02d}:00+09:00", str(100 + m)) for m in range(10)]


@pytest.mark.parametrize("value", ["١٢٣", "1_000", "nan", "inf", "+5", "0x10", "1e400"])
def test_trace_values_and_epoch_times_are_plain_decimal(value, tmp_path, capsys):
    trace = tmp_path / "t.csv"
    rows = list(GOOD_ROWS)
    rows[4] = (rows[4][0], value)
    trace.write_text(_trace(rows), encoding="utf-8")
    out = tmp_path / "out.yaml"
    flags = ("--baseline-to", "1000", "--peak-to", "5000", "-o", out)
    sentinel = files_under(tmp_path)
    cli(capsys, "scenario", "from-trace", trace, *flags).one_line_error("t.csv", "line 6")
    # A Unix time in other digits (or beyond year 9999) is no time either.
    rows = list(GOOD_ROWS)
    rows[2] = ("١٧٣٣٢٣٣٠٠٠" if value == "١٢٣" else "1" + "0" * 20, rows[2][1])
    trace.write_text(_trace(rows), encoding="utf-8")
    cli(capsys, "scenario", "from-trace", trace, *flags).one_line_error("t.csv", "line 4")
    assert files_under(tmp_path) == sentinel
    trace.write_text(_trace(GOOD_ROWS), encoding="utf-8")
    assert cli(capsys, "scenario", "from-trace", trace, *flags).code == 0 and out.is_file()


@pytest.mark.parametrize("target", ["١٠٠٠", "1_000", "nan", "inf", "+5"])
def test_trace_targets_are_plain_decimal(target, tmp_path, capsys):
    trace = tmp_path / "t.csv"
    trace.write_text(_trace(GOOD_ROWS), encoding="utf-8")
    cli(
        capsys, "scenario", "from-trace", trace, "--baseline-to", "1000", "--peak-to", target
    ).one_line_error("--peak-to")
    assert files_under(tmp_path) == {trace}


@pytest.mark.parametrize(
    "text", ["١٢٣", "１２", "1_000", " 5", "5 ", "5\n", "+5", "nan", "inf", "0x10", "", "-", "."]
)
def test_the_number_reader_takes_only_plain_ascii_decimal(text):
    assert not is_number_text(text)
    with pytest.raises(ValueError):
        parse_number(text)
    with pytest.raises(ValueError):
        parse_whole(text)


def test_the_number_reader_reads_what_people_write():
    assert [parse_number(t) for t in ("12", "-0.5", ".5", "2.", "1e-3", "1.5E+6")] == [
        12.0,
        -0.5,
        0.5,
        2.0,
        0.001,
        1.5e6,
    ]
    assert parse_whole("-42") == -42
    with pytest.raises(ValueError, match="too large"):
        parse_number("1e400")


def test_a_leading_zero_is_decimal_never_octal(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario("{phase: a, duration: 1m, users: 010}"))
    shown = cli(capsys, "scenario", "show", scenario)
    assert shown.code == 0 and " 10 " in shown.out and " 8 " not in shown.out


def test_good_files_still_run(tmp_path, capsys, checks_only):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario("{phase: a, duration: 1m30s, users: 1.0e+3, intensity: 2}"))
    with pytest.raises(ChecksPassed):
        cli(capsys, "run", scenario, "--reports-dir", tmp_path / "r")
