"""``surgeproof dialect list|show|validate``: what a user sees, and one line on bad input."""

from __future__ import annotations

from surgeproof.cli import main


def run(capsys, *args):
    code = main(["dialect", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_names_the_three_builtin_dialects(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["bithumb", "coinone", "upbit"]


def test_show_tables_the_actions_and_yaml_prints_the_file(capsys):
    code, out, _ = run(capsys, "show", "coinone")
    assert code == 0
    assert "limit_order    orders     POST /v2.1/order" in out
    assert "login: Coinone's public API has no login" in out
    code, out, _ = run(capsys, "show", "upbit", "--yaml")
    assert code == 0 and out.startswith("# Upbit Open API v1") and "scheme: upbit-jwt" in out


def test_validate_is_one_line_and_exit_2_on_a_bad_file(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nactions:\n  ticker: {method: GET, path: /t, signed: yes}\n")
    code, out, err = run(capsys, "validate", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "actions.ticker.signed" in err and "no 'signing'" in err
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nextends: bithumb\n")
    code, out, _ = run(capsys, "validate", str(good), "--scenario", "login-storm")
    assert code == 0 and "good.yaml: ok (good: 13 actions" in out and "plays login-storm" in out
