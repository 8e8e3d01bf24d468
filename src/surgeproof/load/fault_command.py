"""A fault from the team's own tools: a command run at its time on the run's clock.

``--fault-command AT:COMMAND`` (or a scenario's ``faults: [{at, command}]``) runs COMMAND — a
failover script, ``kubectl delete pod ...``, a chaos tool's CLI — AT into the run. It runs
without a shell (the words split as a shell would split them, nothing expanded) unless a shell
is asked for explicitly (``--fault-shell``, ``shell:``); in its own process group, with stdin
closed, in an environment that holds no surgeproof secret (every ``SURGEPROOF_*`` variable of
ours removed) plus the documented ``SURGEPROOF_TARGET_*``/``SURGEPROOF_FAULT_*`` ones, so the
command can find the target. It is killed at its timeout (SIGTERM to its group, SIGKILL 2 s
later) and when the run ends: it never outlives the run. Its start, end, exit status and last
output lines (bounded, control characters stripped) are ``fault_start``/``fault_end`` events.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from surgeproof.errors import UserError
from surgeproof.load.recorder import now_ns

#: Lines of a command's output kept for its ``fault_end`` event, and the length of each.
TAIL_LINES = 20
LINE_CHARS = 240
#: Bytes of output kept unread-into-lines at most (a command printing without newlines).
TAIL_BYTES = 16 * 1024
#: Longest a fault command may be given (its timeout), and its default.
MAX_TIMEOUT_S = 24 * 3600.0
DEFAULT_TIMEOUT_S = 300.0
#: Between SIGTERM at the timeout and SIGKILL.
KILL_GRACE_S = 2.0
#: Environment variables a command never inherits: ours (accounts files, fleet keys...).
SECRET_PREFIX = "SURGEPROOF_"

_ANSI = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class CommandSpec:
    """What to run: argv (no shell), or a shell's text."""

    argv: tuple[str, ...] = ()
    shell: str | None = None

    def shown(self) -> str:
        return self.shell if self.shell is not None else shlex.join(self.argv)

    def to_event(self) -> dict[str, Any]:
        if self.shell is not None:
            return {"shell": self.shell}
        return {"argv": list(self.argv)}


def parse_command(text: str, flag: str, shell: bool) -> tuple[float, CommandSpec]:
    """``AT:COMMAND`` → (AT in scenario seconds, the command); a one-line UserError otherwise."""
    from surgeproof.scenario.units import parse_duration

    at_text, sep, command = text.partition(":")
    want = "expected AT:COMMAND like 30m:./failover.sh or 90:kubectl delete pod x"
    try:
        at_s = parse_duration(at_text)
    except ValueError:
        raise UserError(f"{flag} {text!r}: {want}") from None
    if not sep or not command.strip() or not at_s >= 0:
        raise UserError(f"{flag} {text!r}: {want}")
    return at_s, command_spec(command, shell, f"{flag} {text!r}")


def command_spec(command: str | list[str], shell: bool, where: str) -> CommandSpec:
    """A command from text (split like a shell, nothing expanded) or a list of words."""
    if isinstance(command, list):
        if not command or not all(isinstance(w, str) and w for w in command):
            raise UserError(f"{where}: expected a command: a list of words, the first the program")
        words = tuple(command)
        if shell:
            raise UserError(f"{where}: a shell command is one text, not a list of words")
        return CommandSpec(argv=words)
    if any(c in command for c in "\x00"):
        raise UserError(f"{where}: the command holds a NUL character")
    if shell:
        return CommandSpec(shell=command.strip())
    try:
        words = tuple(shlex.split(command))
    except ValueError as exc:
        raise UserError(f"{where}: cannot split the command into words ({exc})") from None
    if not words:
        raise UserError(f"{where}: the command is empty")
    return CommandSpec(argv=words)


def clean_line(text: str) -> str:
    """A line of a command's output as events keep it: no escapes, no control characters."""
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " ")).rstrip()
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"


def command_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment a fault command gets: ours without any ``SURGEPROOF_*`` variable, plus
    the documented ones in ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_PREFIX)}
    env.update(extra)
    return env


@dataclass
class CommandRun:
    """One fault command running: its process, its output's tail, how it ended."""

    spec: CommandSpec
    timeout_s: float
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started_ns: int = 0
    ended_ns: int = 0
    exit_status: int | None = None
    signal_name: str | None = None
    timed_out: bool = False
    killed_by_run_end: bool = False
    error: str | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def start(self) -> bool:
        """Start the command; False (and ``error``) when it cannot be started."""
        from surgeproof.load.liveness import die_with_parent

        spec = self.spec
        args = list(spec.argv) if spec.shell is None else ["/bin/sh", "-c", spec.shell]
        self.started_ns = now_ns()
        try:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=die_with_parent,  # only prctl: safe between fork and exec
                close_fds=True,
            )
        except OSError as exc:
            self.ended_ns = now_ns()
            self.error = f"could not start: {exc.strerror or exc}"
            return False
        return True

    def read_output(self) -> None:
        """Read the output to its end, keeping the last lines (run in its own greenlet)."""
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline(TAIL_BYTES)  # bounded: a line without an end
            if not line:
                return
            self._keep(line.rstrip(b"\r\n"))

    def _keep(self, raw: bytes) -> None:
        line = clean_line(raw.decode("utf-8", errors="replace"))
        if line:
            self.tail.append(line)

    def wait(self) -> None:
        """Wait for the end, killing the command's group at its timeout."""
        assert self.proc is not None
        try:
            self.exit_status = self.proc.wait(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.kill()
        self._ended()

    def kill(self) -> None:
        """SIGTERM the command's process group, SIGKILL it after a grace."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        # Whatever it started in its group goes with it.
        _signal_group(proc.pid, signal.SIGKILL)

    def stop_for_run_end(self) -> None:
        """The run is over: a command still running is killed (recorded as such)."""
        if self.proc is not None and self.proc.poll() is None:
            self.killed_by_run_end = True
            self.kill()
            self._ended()

    def _ended(self) -> None:
        assert self.proc is not None
        code = self.proc.poll()
        if code is None:
            return
        self.ended_ns = self.ended_ns or now_ns()
        self.exit_status = code
        if code < 0 and -code in signal.valid_signals():
            self.signal_name = signal.Signals(-code).name

    def end_fields(self) -> dict[str, Any]:
        """The ``fault_end`` event's fields about the command."""
        return {
            "exit_status": self.exit_status,
            "signal": self.signal_name,
            "timed_out": self.timed_out,
            "killed_by_run_end": self.killed_by_run_end,
            "error": self.error,
            "duration_s": max(0.0, (self.ended_ns - self.started_ns) / 1e9),
            "output_tail": list(self.tail),
        }


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
