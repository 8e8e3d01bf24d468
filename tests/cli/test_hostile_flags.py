"""Hostile numbers and targets on the command line: every numeric flag reads plain ASCII decimal
only (Python's int() and float() also read "١٢٣", "1_000", " 5", "+5", "nan", "inf"), and every
flag that takes a target refuses one that is no http(s) URL with a host; each refusal is one
line naming the flag, exit 2, with nothing written anywhere."""

from __future__ import annotations

import pytest

from cli.oneline import ChecksPassed, cli, files_under
from cli.oneline import checks_only as checks_only  # a fixture

#: Text Python reads as a number that no flag may.
HOSTILE = ["١٢", "１２", "1_0", " 5", "5 ", "+5", "nan", "inf", "-Infinity", "0x10", "1" * 70]

#: (command line before the value, the flag) for each numeric flag.
NUMERIC_FLAGS = [
    (("run", "login-storm"), "--workers"),
    (("run", "login-storm"), "--max-duration"),
    (("run", "login-storm"), "--master-port"),
    (("run", "login-storm"), "--timeout"),
    (("run", "login-storm"), "--abort-error-ratio"),
    (("run", "login-storm"), "--abort-after"),
    (("run", "login-storm"), "--progress-every"),
    (("run", "login-storm"), "--expect-workers"),
    (("run", "login-storm"), "--metrics-port"),
    (("run", "login-storm"), "--metrics-linger"),
    (("run", "login-storm"), "--time-scale"),
    (("plan", "login-storm"), "--host-cores"),
    (("plan", "login-storm"), "--host-memory"),
    (("plan", "login-storm"), "--host-addresses"),
    (("plan", "login-storm"), "--ws-messages-per-s"),
    (("scenario", "from-trace", "trace.csv"), "--tolerance"),
    (("scenario", "from-trace", "trace.csv"), "--max-phases"),
    (("dialect", "probe", "--target", "http://127.0.0.1:1"), "--timeout"),
    (("analyze", "RUN"), "--jobs"),
    (("exchange",), "--accounts"),
    (("exchange",), "--service-time-ms"),
]


def _ids(value) -> str:
    return " ".join(value) if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("before, flag", NUMERIC_FLAGS, ids=_ids)
def test_numeric_flags_take_plain_ascii_decimal_only(
    before, flag, text, tmp_path, capsys, checks_only
):
    sentinel = files_under(tmp_path)
    where = ("--reports-dir", tmp_path) if before[0] == "run" else ()
    answer = cli(capsys, *before, *where, f"{flag}={text}")  # '=': '-Infinity' is no option
    answer.one_line_error(flag, "expected")
    assert files_under(tmp_path) == sentinel


@pytest.mark.parametrize(
    "value, says",
    [
        ("nan:1", "--inject-stall"),
        ("١:1", "--inject-stall"),
        ("1:1_0", "--inject-stall"),
    ],
)
def test_injection_values_are_plain_decimal(value, says, tmp_path, capsys, checks_only):
    answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path, "--inject-stall", value)
    answer.one_line_error(says)
    for flag in ("--inject-target-outage", "--inject-gateway-crash"):
        bad = value.replace("nan", "١")
        answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path, flag, bad)
        answer.one_line_error(flag)
    assert files_under(tmp_path) == set()


#: Targets that are no http(s) URL with a host.
BAD_TARGETS = ["", " ", "\t", "http://", "https://", "http:///x", "//127.0.0.1:8080",
               "127.0.0.1:8080", "ws://127.0.0.1:8080", "file:///etc/passwd", "javascript:1",
               "http://127.0.0.1\u202e:8080", "http://127.0.0.1:8080\x1b[2J"]  # fmt: skip


@pytest.mark.parametrize("target", BAD_TARGETS, ids=repr)
def test_run_refuses_a_target_that_is_no_url(target, tmp_path, capsys, checks_only):
    answer = cli(capsys, "run", "login-storm", "--reports-dir", tmp_path, "--target", target)
    line = answer.one_line_error("--target", "expected an http(s) URL")
    assert "\x1b" not in line and "\u202e" not in line
    assert files_under(tmp_path) == set()


@pytest.mark.parametrize("target", BAD_TARGETS, ids=repr)
def test_dialect_probe_refuses_a_target_that_is_no_url(target, tmp_path, capsys):
    answer = cli(capsys, "dialect", "probe", "--target", target)
    answer.one_line_error("--target", "expected an http(s) URL")


def test_an_empty_target_is_not_taken_for_the_embedded_exchange(tmp_path, capsys, checks_only):
    # Without --target the embedded exchange starts; with --target '' the user asked for a URL.
    with pytest.raises(ChecksPassed):
        cli(capsys, "run", "login-storm", "--reports-dir", tmp_path)
    cli(capsys, "run", "login-storm", "--reports-dir", tmp_path, "--target", "").one_line_error(
        "--target ''"
    )
