"""Running the real command line on bad input and checking the house rule: exit 2, exactly one
line on stderr, no traceback, and (in a child process) bounded memory.

Most cases run in-process through ``surgeproof.cli.main`` (fast); ``run`` is kept from patching
this process with gevent and from going past its checks (``checks_only``). A few run in a child
process under an address-space limit, where memory is the point.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from surgeproof.cli import main

#: Address space a child process may map: the interpreter with numpy, pandas, scipy and
#: matplotlib loaded fits in half of it; an input that makes a command allocate by a value in
#: the data (13 GiB for one zero record, before the fix) fails with MemoryError instead.
CHILD_ADDRESS_SPACE = 1 << 30


@dataclass
class Answer:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def one_line_error(self, *says: str) -> str:
        """Assert exit 2 and one line on stderr that says each of ``says``; return the line."""
        assert "Traceback" not in self.err and "Traceback" not in self.out, self.err[-3000:]
        assert self.code == 2, (self.code, self.err[-2000:])
        assert len(self.err_lines) == 1, self.err_lines
        [line] = self.err_lines
        for text in says:
            assert text in line, (text, line)
        return line


def cli(capsys, *argv: str) -> Answer:
    """``surgeproof ARGV`` in this process."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Answer(code, captured.out, captured.err)


class ChecksPassed(Exception):
    """``run`` got past every check of its flags and scenario (it would make the run dir)."""


@pytest.fixture
def checks_only(monkeypatch):
    """``surgeproof run`` in-process: no gevent patching, and stop where the run would begin."""

    def stop(*_args, **_kw):
        raise ChecksPassed

    monkeypatch.setattr("surgeproof.cli.gevent_patch.prepare_process", lambda argv: None)
    monkeypatch.setattr("surgeproof.load.launch.make_run_dir", stop)
    return stop


def child(*argv: str, cwd: Path, timeout: float = 60, env: dict | None = None) -> Answer:
    """``surgeproof ARGV`` in a child process under CHILD_ADDRESS_SPACE."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))

    done = subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        preexec_fn=limit,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})},
    )
    return Answer(done.returncode, done.stdout, done.stderr)


def files_under(folder: Path) -> set[Path]:
    """Every path below ``folder`` (to show a command wrote nothing where it should not)."""
    return set(folder.rglob("*"))
