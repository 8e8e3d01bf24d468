"""Hostile YAML in the files a user hands us — scenario, profile, dialect, target config,
accounts — is refused where it is written: anchors and aliases (billion laughs), too many
values. Each case goes through the real command line: exit 2, one exact line naming the file,
and nothing changed in the folder beside the working directory."""

from __future__ import annotations

import pytest

from cli.oneline import checks_only as checks_only  # a fixture
from cli.oneline import cli
from surgeproof.scenario.bounds import MAX_NODES
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.yamlfile import ALIASES_REFUSED, parse_yaml

#: Nine levels of nine aliases each: 342 bytes that stand for 9⁹ (387 million) strings once
#: every alias is followed (as a template compiler or a JSON dump of the document does).
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} [{','.join(['*' + chr(ord('a') + i)] * 9)}]\n"
    for i in range(8)
)
SCENARIO_ERROR = "surgeproof scenario: error: "
REFUSED_AT_FIRST_ANCHOR = f"line 1, column 4: bad YAML: {ALIASES_REFUSED}"


def test_billion_laughs_is_refused_by_scenario_validate(work, sentinel, capsys):
    (work / "bomb.yaml").write_text(BILLION_LAUGHS)
    answer = cli(capsys, "scenario", "validate", "bomb.yaml")
    line = answer.one_line_error()
    assert line == f"surgeproof scenario: error: bomb.yaml: {REFUSED_AT_FIRST_ANCHOR}"


def test_an_alias_inside_a_real_scenario_is_refused_where_it_stands(work, sentinel, capsys):
    (work / "s.yaml").write_text(
        "name: x\ntimeline:\n  - &p {phase: a, duration: 1m, users: 10}\n  - *p\n"
    )
    line = cli(capsys, "scenario", "validate", "s.yaml").one_line_error()
    assert line == f"{SCENARIO_ERROR}s.yaml: line 3, column 5: bad YAML: {ALIASES_REFUSED}"


def test_a_merge_key_through_an_alias_is_refused(work, sentinel, capsys):
    (work / "s.yaml").write_text(
        "name: x\nbase: &b {duration: 1m, users: 10}\ntimeline:\n  - {<<: *b, phase: a}\n"
    )
    line = cli(capsys, "scenario", "validate", "s.yaml").one_line_error()
    assert line == f"{SCENARIO_ERROR}s.yaml: line 2, column 7: bad YAML: {ALIASES_REFUSED}"


def test_billion_laughs_is_refused_as_a_profile(work, sentinel, capsys):
    (work / "p.yaml").write_text(BILLION_LAUGHS)
    line = cli(capsys, "scenario", "show", "login-storm", "--profile", "p.yaml").one_line_error()
    assert line == f"surgeproof scenario: error: p.yaml: {REFUSED_AT_FIRST_ANCHOR}"


def test_billion_laughs_is_refused_by_dialect_validate(work, sentinel, capsys):
    (work / "d.yaml").write_text(BILLION_LAUGHS)
    line = cli(capsys, "dialect", "validate", "d.yaml").one_line_error()
    assert line == f"surgeproof dialect: error: d.yaml: {REFUSED_AT_FIRST_ANCHOR}"


def test_billion_laughs_is_refused_as_a_run_target_config(work, sentinel, capsys, checks_only):
    (work / "t.yaml").write_text(BILLION_LAUGHS)
    line = cli(capsys, "run", "login-storm", "--target-config", "t.yaml").one_line_error()
    assert line == f"surgeproof run: error: --target-config t.yaml: {REFUSED_AT_FIRST_ANCHOR}"


def test_billion_laughs_is_refused_as_an_accounts_file(work, sentinel, capsys):
    (work / "accounts.yaml").write_text(BILLION_LAUGHS)
    # Port 9 on loopback: nothing is sent, the accounts file is read (and refused) first.
    answer = cli(
        capsys,
        "dialect",
        "probe",
        "--target",
        "http://127.0.0.1:9",
        "--accounts-file",
        "accounts.yaml",
    )
    line = answer.one_line_error()
    assert line == (
        f"surgeproof dialect: error: accounts.yaml: accounts file: {REFUSED_AT_FIRST_ANCHOR}"
    )


def test_a_file_of_too_many_values_is_refused(work, sentinel, capsys):
    (work / "many.yaml").write_text("name: x\nlots: [" + ",".join(["0"] * MAX_NODES) + "]\n")
    line = cli(capsys, "scenario", "validate", "many.yaml").one_line_error()
    assert line.startswith("surgeproof scenario: error: many.yaml: line 2, column ")
    assert line.endswith(f": bad YAML: more than {MAX_NODES:,} values in one file")


def test_accounts_files_hold_more_values_than_a_scenario_may():
    rows = "".join(f"- [m{i}, p, a, s]\n" for i in range(MAX_NODES // 4))
    assert len(parse_yaml(rows, "accounts", max_nodes=None)) == MAX_NODES // 4
    with pytest.raises(ScenarioError, match="values in one file"):
        parse_yaml(rows, "scenario")
