"""Hostile dialect files: an ``extends:`` (or a scenario's ``dialect:``) that points out of its
folder, through a link, or at a file that is not a dialect; regular expressions that would
backtrack forever in Python's ``re``. Each refusal goes through the real command line — exit 2,
one exact line naming the file and field, nothing of the other file's content — and nothing
changes in the sentinel folder beside the working directory."""

from __future__ import annotations

import os

import pytest

from cli.oneline import checks_only as checks_only  # a fixture
from cli.oneline import cli
from sentinel import SECRET
from surgeproof.dialect.answer import read_answer
from surgeproof.dialect.catalog import builtin_names, load_dialect

ERROR = "surgeproof dialect: error: "
BUILTINS = ", ".join(builtin_names())
NOT_BESIDE = (
    f"is not a file beside it: expected a built-in dialect ({BUILTINS}) or a dialect file in "
    "the same folder (names of letters, digits, '.', '_', '-'; no '..', no absolute path)"
)
TICKER = "actions:\n  ticker: {method: GET, path: /v1/ticker}\n"


def _refused(capsys, *argv: str) -> str:
    answer = cli(capsys, *argv)
    line = answer.one_line_error()
    assert SECRET.decode().splitlines()[0] not in answer.out + answer.err
    return line


@pytest.mark.parametrize(
    "extends",
    ["../sentinel/secret", "../sentinel/nested/data.yaml", "/etc/passwd", "sub/../../x.yaml"],
)
def test_extends_out_of_the_folder_is_refused_unread(work, sentinel, capsys, extends):
    (work / "d.yaml").write_text(f"name: d\nextends: {extends}\n{TICKER}")
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line == f"{ERROR}d.yaml: extends: {extends!r} {NOT_BESIDE}"


def test_extends_through_a_link_is_refused_unfollowed(work, sentinel, capsys):
    os.symlink(sentinel.passwd, work / "base.yaml")
    (work / "d.yaml").write_text(f"name: d\nextends: base.yaml\n{TICKER}")
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line == f"{ERROR}d.yaml: extends: 'base.yaml' is a link; links are not followed"


def test_extends_through_a_linked_folder_is_refused_unfollowed(work, sentinel, capsys):
    os.symlink(sentinel.path, work / "sub")
    (work / "d.yaml").write_text(f"name: d\nextends: sub/nested/data.yaml\n{TICKER}")
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert (
        line == f"{ERROR}d.yaml: extends: 'sub/nested/data.yaml' is a link; links are not followed"
    )


def test_extends_a_file_that_is_not_a_dialect_never_echoes_it(work, sentinel, capsys):
    (work / "notes.yaml").write_bytes(SECRET)
    (work / "d.yaml").write_text(f"name: d\nextends: notes.yaml\n{TICKER}")
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line == (
        f"{ERROR}d.yaml: extends: 'notes.yaml' is not a dialect (expected a mapping at its top)"
    )


def test_extends_a_missing_file_and_an_unknown_builtin(work, sentinel, capsys):
    (work / "d.yaml").write_text(f"name: d\nextends: absent.yaml\n{TICKER}")
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line == f"{ERROR}d.yaml: extends: no such dialect file 'absent.yaml' beside it"
    (work / "d.yaml").write_text(f"name: d\nextends: upbt\n{TICKER}")
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line == (
        f"{ERROR}d.yaml: extends: no such dialect 'upbt'; did you mean 'upbit'? "
        f"built-in: {BUILTINS} (or a .yaml file)"
    )


def test_extends_a_file_beside_or_below_still_works(work, sentinel, capsys):
    (work / "sub").mkdir()
    (work / "sub" / "base.yaml").write_text("name: base\nextends: upbit\n")
    (work / "d.yaml").write_text("name: d\nextends: ./sub/base.yaml\n")
    assert cli(capsys, "dialect", "validate", "d.yaml").code == 0
    assert load_dialect("d.yaml").actions.keys() == load_dialect("upbit").actions.keys()


def test_a_scenario_cannot_name_a_dialect_outside_its_folder(work, sentinel, capsys, checks_only):
    (work / "s.yaml").write_text(
        "name: s\ndialect: ../sentinel/secret.yaml\n"
        "timeline:\n  - {phase: a, duration: 2s, users: 1}\n"
    )
    answer = cli(capsys, "run", "s.yaml")
    line = answer.one_line_error()
    assert line == (
        f"surgeproof run: error: s.yaml: dialect: '../sentinel/secret.yaml' {NOT_BESIDE}"
    )


def test_a_regex_that_needs_backtracking_is_refused_at_validation(work, sentinel, capsys):
    (work / "d.yaml").write_text(
        "name: d\nextends: upbit\nrate_limit: {header: Remaining-Req, remaining: '(\\d)\\1'}\n"
    )
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line == (
        f"{ERROR}d.yaml: rate_limit.remaining: not a regular expression RE2 takes (invalid "
        "escape sequence: \\1); patterns are matched in linear time, so backreferences and "
        "look-around are not available"
    )


def test_a_regex_without_a_group_and_an_overlong_one_are_refused(work, sentinel, capsys):
    (work / "d.yaml").write_text(
        "name: d\nextends: upbit\nrate_limit: {header: Remaining-Req, remaining: 'sec=\\d+'}\n"
    )
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert line.endswith("rate_limit.remaining: needs one (group) capturing the calls left, "
                         "like sec=(\\d+)")  # fmt: skip
    (work / "d.yaml").write_text(
        "name: d\nextends: upbit\nrate_limit: {header: Remaining-Req, remaining: '(x)"
        + "y" * 600
        + "'}\n"
    )
    line = _refused(capsys, "dialect", "validate", "d.yaml")
    assert "rate_limit.remaining: not a regular expression RE2 takes (longer than 500" in line


def test_a_catastrophic_pattern_for_backtracking_engines_reads_answers_at_once(work, sentinel):
    """``^(\\d+)+$`` against 40 digits and an ``x`` never ends in Python's ``re``; RE2 answers
    in one pass, so the dialect is valid and reading the answer returns."""
    (work / "d.yaml").write_text(
        "name: d\nextends: upbit\nrate_limit: {header: Remaining-Req, remaining: '^(\\d+)+$'}\n"
    )
    dialect = load_dialect("d.yaml")
    ticker = dialect.actions["ticker"]
    hostile = {"remaining-req": "1" * 5000 + "x"}
    reading = read_answer(dialect, ticker, 200, lambda h: hostile.get(h.lower()), b"[]")
    assert reading.kind is None and not reading.second_used_up
    spent = {"remaining-req": "0"}
    reading = read_answer(dialect, ticker, 200, lambda h: spent.get(h.lower()), b"[]")
    assert reading.second_used_up


def test_run_refuses_the_same_files_before_it_starts(work, sentinel, capsys, checks_only):
    (work / "d.yaml").write_text("name: d\nextends: ../sentinel/secret\n")
    answer = cli(capsys, "run", "login-storm", "--dialect", "d.yaml")
    assert answer.one_line_error() == (
        f"surgeproof run: error: d.yaml: extends: '../sentinel/secret' {NOT_BESIDE}"
    )
