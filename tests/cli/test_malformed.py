"""Malformed command lines: every flag of every subcommand answers bad input with exit 2 and
one line naming the flag, before anything is started or written."""

from __future__ import annotations

import pytest

from cli.oneline import ChecksPassed, cli, files_under
from cli.oneline import checks_only as checks_only  # a fixture

#: ``surgeproof run login-storm ARGS`` → what the one line must say.
BAD_RUN_FLAGS = {
    ("--time-scale", "0"): "--time-scale",
    ("--time-scale", "abc"): "--time-scale",
    ("--time-scale", "1/0"): "--time-scale",
    ("--time-scale", "nan"): "--time-scale",
    ("--time-scale", "1e999999999"): "--time-scale",
    ("--time-scale", "1e-12"): "--time-scale",
    ("--user-scale", "0"): "--user-scale",
    ("--user-scale", "abc"): "--user-scale",
    ("--user-scale", "1/0"): "--user-scale",
    ("--user-scale", "nan"): "--user-scale",
    ("--user-scale", "1e6"): "--user-scale",
    ("--target", "http://[::1"): "--target",
    ("--target", "http://127.0.0.1:abc"): "--target",
    ("--target", "http://127.0.0.1:99999"): "--target",
    ("--target", "http://127.0.0.1:0"): "--target",
    ("--target", "ftp://127.0.0.1"): "--target",
    ("--target", "http://127.0.0.1 :80"): "--target",
    ("--target", "http://127.0.0.1/?x=1"): "--target",
    ("--max-duration", "nan"): "--max-duration",
    ("--max-duration", "inf"): "--max-duration",
    ("--max-duration", "0"): "--max-duration",
    ("--max-duration", "1e9"): "--max-duration",
    ("--inject-stall", "nan:nan"): "--inject-stall",
    ("--inject-stall", "1:inf"): "--inject-stall",
    ("--inject-stall", "5"): "--inject-stall",
    ("--inject-target-outage", "inf:1"): "--inject-target-outage",
    ("--inject-target-outage", "1:inf"): "--inject-target-outage",
    ("--inject-target-outage", "nan:1"): "--inject-target-outage",
    ("--inject-target-outage", "99999:1"): "the run is over",
    ("--inject-gateway-crash", "inf"): "--inject-gateway-crash",
    ("--fault-command", "soon:./failover.sh"): "--fault-command",
    ("--fault-command", "10:"): "--fault-command",
    ("--fault-command", "10:echo 'open"): "--fault-command",
    ("--fault-command", "99h:./failover.sh"): "the run is over",
    ("--fault-shell", "./failover.sh"): "--fault-shell",
    ("--fault-timeout", "0"): "--fault-timeout",
    ("--fault-timeout", "nan"): "--fault-timeout",
    ("--reconcile-rate", "0"): "--reconcile-rate",
    ("--reconcile-rate", "inf"): "--reconcile-rate",
    ("--reconcile-time", "-1"): "--reconcile-time",
    ("--timeout", "0"): "--timeout",
    ("--timeout", "-1"): "--timeout",
    ("--timeout", "nan"): "--timeout",
    ("--abort-error-ratio", "2"): "--abort-error-ratio",
    ("--abort-error-ratio", "nan"): "--abort-error-ratio",
    ("--abort-after", "-1"): "--abort-after",
    ("--progress-every", "0"): "--progress-every",
    ("--master-port", "99999"): "--master-port",
    ("--master-port", "-1"): "--master-port",
    ("--workers", "100000"): "--allow-many-workers",
    ("--workers", "100000", "--allow-many-workers"): "at most 1024",
    ("--workers", "-1"): "--workers",
    ("--workers", "abc"): "--workers",
    ("--expect-workers", "-1"): "--expect-workers",
    ("--run-id", "../x"): "--run-id",
    ("--run-id", "/abs"): "--run-id",
    ("--model", "sideways"): "--model",
    ("--no-such-flag",): "unrecognized arguments",
    ("--dashboard", "99999"): "--dashboard",
    ("--dashboard", "-1"): "--dashboard",
    ("--dashboard", "abc"): "--dashboard",
    ("--dashboard", "9700", "--metrics-port", "9700"): "give each its own",
}


@pytest.mark.parametrize("args", sorted(BAD_RUN_FLAGS), ids=" ".join)
def test_run_flags_outside_their_bounds_are_one_line(args, tmp_path, capsys, checks_only):
    before = files_under(tmp_path)
    answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path / "r", *args)
    answer.one_line_error(BAD_RUN_FLAGS[args])
    assert files_under(tmp_path) == before


def test_argparse_errors_are_one_line_not_the_usage(capsys, checks_only):
    for argv in (["run"], ["bogus"], ["scenario"], ["analyze", "--window"], ["gate"]):
        cli(capsys, *argv).one_line_error("--help")


def test_no_command_prints_the_help_and_one_error_line(capsys):
    answer = cli(capsys)
    assert "COMMAND" in answer.out
    answer.one_line_error("no COMMAND")


def test_a_password_in_the_target_url_is_refused_without_echoing_it(capsys, checks_only):
    line = cli(capsys, "run", "login-storm", "--target", "http://u:hunter2@127.0.0.1:1")
    assert "hunter2" not in line.one_line_error("--target", "user:password@")


def test_good_values_at_the_bounds_pass(tmp_path, capsys, checks_only):
    with pytest.raises(ChecksPassed):
        cli(
            capsys, "run", "login-storm", "--reports-dir", tmp_path, "--time-scale", "1/1000",
            "--user-scale", "1e-9", "--max-duration", "604800", "--timeout", "600",
            "--abort-error-ratio", "0", "--master-port", "65535", "--inject-stall", "0:1",
            "--workers", "100", "--allow-many-workers",
        )  # fmt: skip


class TestReportsDir:
    def test_a_file(self, tmp_path, capsys, checks_only):
        (tmp_path / "f").write_text("")
        answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path / "f")
        answer.one_line_error("--reports-dir", "is a file")

    def test_under_a_file(self, tmp_path, capsys, checks_only):
        (tmp_path / "f").write_text("")
        answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path / "f" / "sub")
        answer.one_line_error("--reports-dir", "which is a file")

    def test_a_broken_link(self, tmp_path, capsys, checks_only):
        (tmp_path / "r").symlink_to(tmp_path / "gone")
        answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path / "r" / "x")
        answer.one_line_error("--reports-dir", "broken symbolic link")

    @pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root writes anywhere")
    def test_read_only(self, tmp_path, capsys, checks_only):
        (tmp_path / "ro").mkdir(mode=0o555)
        answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path / "ro")
        answer.one_line_error("--reports-dir", "not writable")

    def test_a_folder_that_cannot_be_made_is_one_line(self, tmp_path, capsys, monkeypatch):
        # As root no folder is read-only: make mkdir fail the way a read-only one would.
        from surgeproof.load import options as options_module
        from surgeproof.load.options import RunOptions, make_run_dir, plan_for

        def refuse(self, *a, **kw):
            raise PermissionError(13, "Permission denied", str(self))

        opts = RunOptions(scenario="login-storm", reports_dir=str(tmp_path / "r"), run_id="a")
        plan = plan_for(opts)
        monkeypatch.setattr(options_module.Path, "mkdir", refuse)
        with pytest.raises(options_module.UserError, match=r"cannot create .*Permission denied"):
            make_run_dir(opts, plan)


class TestFilesTheRunReads:
    def test_an_accounts_file_that_is_a_device(self, tmp_path, capsys, checks_only):
        answer = cli(capsys, "run", "login-storm", "--accounts-file", "/dev/zero")
        answer.one_line_error("/dev/zero", "not a regular file")

    def test_an_accounts_file_too_large(self, tmp_path, capsys, checks_only, monkeypatch):
        monkeypatch.setattr("surgeproof.load.accounts.MAX_ACCOUNTS_FILE_BYTES", 1000)
        big = tmp_path / "a.json"
        big.write_text("[" + ",".join(["{}"] * 1000) + "]")
        answer = cli(capsys, "run", "login-storm", "--accounts-file", big)
        answer.one_line_error("a.json", "larger than")

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("[" * 100_000, "bad YAML"),
            ('{"accounts": 5}', "expected a list"),
            ('[{"member_id": "m"}]', "account 0 needs"),
            ('[{"member_id": "m", "password": ["p"], "access_key": 1, "secret_key": 2}]',
             "password must be text"),
            ("[1, 2]", "account 0 needs"),
            ("? [a]\n: 1\n", "keys are text"),
        ],
    )  # fmt: skip
    def test_malformed_accounts_files(self, text, says, tmp_path, capsys, checks_only):
        path = tmp_path / "accounts.json"
        path.write_text(text)
        before = files_under(tmp_path)
        answer = cli(
            capsys, "run", "login-storm", "--accounts-file", path, "--reports-dir", tmp_path
        )
        answer.one_line_error("accounts.json", says)
        assert files_under(tmp_path) == before  # refused before any run directory

    def test_account_errors_never_echo_a_secret(self, tmp_path, capsys, checks_only):
        path = tmp_path / "accounts.json"
        path.write_text('[{"member_id": "m", "password": "hunter2", "access_key": "AK"}]')
        line = cli(capsys, "run", "login-storm", "--accounts-file", path).one_line_error()
        assert "hunter2" not in line and "AK" not in line

    @pytest.mark.parametrize(
        ("text", "says"),
        [("a: " + "[" * 5000, "nested deeper"), ("api_workers: -1\n", "api_workers"),
         ("bogus: 1\n", "unknown key")],
    )  # fmt: skip
    def test_malformed_target_configs(self, text, says, tmp_path, capsys, checks_only):
        path = tmp_path / "t.yaml"
        path.write_text(text)
        answer = cli(capsys, "run", "login-storm", "--target-config", path)
        answer.one_line_error("--target-config", says)

    def test_a_target_config_that_is_a_device(self, capsys, checks_only):
        answer = cli(capsys, "run", "login-storm", "--target-config", "/dev/zero")
        answer.one_line_error("--target-config", "not a regular file")


@pytest.mark.parametrize(
    "argv",
    [
        ("worker", "--master", "127.0.0.1", "--master-port", "99999"),
        ("worker", "--master", "127.0.0.1", "--master-port", "0"),
        ("worker", "--master", "127.0.0.1", "--master-port", "x"),
        ("demo", "--time-scale", "0"),
        ("demo", "--user-scale", "nan"),
        ("demo", "--dashboard", "99999"),
        ("analyze", "x", "--window", "nan"),
        ("analyze", "x", "--window", "1e400s"),
    ],
    ids=" ".join,
)
def test_other_subcommands_refuse_bad_values_with_one_line(argv, capsys, monkeypatch):
    monkeypatch.setattr("surgeproof.cli.gevent_patch.prepare_process", lambda argv: None)
    cli(capsys, *argv).one_line_error()
