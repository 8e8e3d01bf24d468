"""A fault from the team's own tools: how the command is read, what environment it gets, what
of its output is kept, and that it never outlives its timeout or the run."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from surgeproof.errors import UserError
from surgeproof.load.fault_command import (
    LINE_CHARS,
    TAIL_LINES,
    CommandRun,
    clean_line,
    command_env,
    command_spec,
    parse_command,
)


def play(run: CommandRun) -> CommandRun:
    """Start, read and wait as the schedule does (a thread stands in for the greenlet)."""
    assert run.start()
    reader = threading.Thread(target=run.read_output, daemon=True)
    reader.start()
    run.wait()
    reader.join(timeout=2)
    return run


def test_at_is_scenario_time_and_the_command_is_split_into_words_without_a_shell():
    at, spec = parse_command("30m:./failover.sh --to 'standby b'", "--fault-command", False)
    assert at == 1800.0 and spec.argv == ("./failover.sh", "--to", "standby b")
    assert spec.shell is None and spec.to_event() == {"argv": list(spec.argv)}
    at, spec = parse_command("90:kill -STOP $PID && echo x", "--fault-shell", True)
    assert at == 90.0 and spec.shell == "kill -STOP $PID && echo x" and spec.argv == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("./failover.sh", "expected AT:COMMAND"),
        ("soon:./x", "expected AT:COMMAND"),
        ("10:", "expected AT:COMMAND"),
        ("-5:./x", "expected AT:COMMAND"),
        ("10:echo 'unclosed", "cannot split the command into words"),
    ],
)
def test_a_malformed_fault_command_is_one_line_naming_the_flag(text, says):
    with pytest.raises(UserError) as err:
        parse_command(text, "--fault-command", False)
    assert says in str(err.value) and "--fault-command" in str(err.value)


def test_no_shell_means_no_expansion_the_words_reach_the_program_as_written(tmp_path):
    run = play(CommandRun(command_spec("echo $HOME;ls", False, "x"), 10.0, command_env({})))
    assert list(run.tail) == ["$HOME;ls"] and run.exit_status == 0


def test_the_command_gets_the_documented_variables_and_no_surgeproof_secret(monkeypatch):
    monkeypatch.setenv("SURGEPROOF_ACCOUNTS_FILE", "/secret/accounts.json")
    monkeypatch.setenv("SURGEPROOF_FLEET_KEY", "k3y")
    monkeypatch.setenv("KUBECONFIG", "/home/sre/.kube/config")  # the user's own tools keep theirs
    env = command_env({"SURGEPROOF_TARGET_PID": "4242", "SURGEPROOF_TARGET_URL": "http://x"})
    run = play(CommandRun(command_spec("env", False, "x"), 10.0, env))
    seen = dict(line.split("=", 1) for line in run.tail if "=" in line)
    assert seen["SURGEPROOF_TARGET_PID"] == "4242" and seen["KUBECONFIG"].endswith("config")
    assert "SURGEPROOF_ACCOUNTS_FILE" not in seen and "SURGEPROOF_FLEET_KEY" not in seen


def test_only_the_last_lines_are_kept_bounded_and_without_control_characters():
    script = (
        "for i in $(seq 1 50); do echo line $i; done; printf '\\033[31mred\\033[0m\\a\\n'; "
        "head -c 100000 /dev/zero | tr '\\0' x; echo; echo done >&2; exit 3"
    )
    run = play(CommandRun(command_spec(script, True, "x"), 10.0, command_env({})))
    tail = list(run.tail)
    assert len(tail) == TAIL_LINES and tail[-1] == "done"  # stderr is kept too
    assert "red" in tail and all(len(line) <= LINE_CHARS for line in tail)
    assert not any(c < " " for line in tail for c in line)
    assert run.exit_status == 3 and run.end_fields()["exit_status"] == 3
    assert clean_line("a\x1b]0;title\x07b\u202ec") == "abc"


def test_a_command_past_its_timeout_is_killed_with_everything_it_started(tmp_path):
    marker = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    started = time.monotonic()
    run = play(CommandRun(command_spec(script, True, "x"), 0.5, command_env({})))
    assert time.monotonic() - started < 10
    assert run.timed_out and run.signal_name == "SIGTERM" and run.exit_status == -signal.SIGTERM
    child = int(marker.read_text())
    assert _gone(child)  # its background child went with its group


def test_a_command_still_running_when_the_run_ends_is_killed_and_says_so():
    run = CommandRun(command_spec("sleep 60", False, "x"), 300.0, command_env({}))
    assert run.start()
    run.stop_for_run_end()
    fields = run.end_fields()
    assert fields["killed_by_run_end"] and not fields["timed_out"]
    assert fields["signal"] == "SIGTERM" and run.proc.poll() is not None


def test_a_program_that_does_not_exist_is_an_error_of_the_fault_not_of_the_run():
    run = CommandRun(command_spec("/no/such/failover.sh", False, "x"), 10.0, command_env({}))
    assert not run.start()
    assert run.end_fields()["error"].startswith("could not start: No such file")


def _gone(pid: int) -> bool:
    """Dead (or a zombie its new parent has not reaped yet), within a few seconds."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False
