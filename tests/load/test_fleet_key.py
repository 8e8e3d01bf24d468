"""Where the fleet key comes from, and the one line a key that cannot be used gets."""

from __future__ import annotations

import json
import os

import pytest
from load_cli import surgeproof

from surgeproof.errors import UserError
from surgeproof.load.fleet_key import (
    FLEET_KEY_ENV,
    MIN_KEY_CHARS,
    find_fleet_key,
    new_fleet_key,
)

GOOD = "0123456789abcdef" * 4


def test_the_file_comes_before_the_environment(tmp_path):
    path = tmp_path / "fleet.key"
    path.write_text(GOOD + "\n")
    path.chmod(0o600)
    key = find_fleet_key(str(path), {FLEET_KEY_ENV: "e" * 40})
    assert key is not None and key.secret.reveal() == GOOD and key.origin == "--fleet-key-file"
    env = find_fleet_key(None, {FLEET_KEY_ENV: "e" * 40})
    assert env is not None and env.secret.reveal() == "e" * 40
    assert env.origin == FLEET_KEY_ENV
    assert find_fleet_key(None, {}) is None


def test_a_made_key_is_long_random_and_goes_to_children_by_environment_only():
    a, b = new_fleet_key(), new_fleet_key()
    assert a.secret != b.secret and a.origin == "generated"
    assert len(a.secret.reveal()) == 64
    assert a.env() == {FLEET_KEY_ENV: a.secret.reveal()}
    assert a.secret.reveal() not in repr(a) + str(a)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"short", f"at least {MIN_KEY_CHARS} characters, got 5"),
        (b"", "at least 32 characters, got 0"),
        (b"two words " + b"x" * 40, "one word of printable ASCII"),
        ("\uc548\ub155".encode() * 20, "printable ASCII"),
        (b"k" * 5000, "larger than 4096 bytes"),
    ],
)
def test_a_key_file_that_is_not_a_key_is_one_line_without_its_content(tmp_path, content, expected):
    path = tmp_path / "fleet.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(UserError, match=expected) as err:
        find_fleet_key(str(path))
    assert str(err.value).startswith(f"--fleet-key-file {path}: ")
    assert content[:20].decode(errors="ignore") not in str(err.value) or not content


def test_a_missing_or_odd_key_file_and_a_bad_environment_value_are_named(tmp_path):
    with pytest.raises(UserError, match="cannot read it"):
        find_fleet_key(str(tmp_path / "nope"))
    with pytest.raises(UserError, match="cannot read it: Is a directory"):
        find_fleet_key(str(tmp_path))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        find_fleet_key(str(fifo))  # refused at once, not waited on
    with pytest.raises(UserError, match=rf"^\${FLEET_KEY_ENV}: expected a key of at least"):
        find_fleet_key(None, {FLEET_KEY_ENV: "tooshort"})


def test_a_key_file_every_user_may_read_is_used_with_a_warning(tmp_path, capsys):
    path = tmp_path / "fleet.key"
    path.write_text(GOOD)
    path.chmod(0o644)
    assert find_fleet_key(str(path)) is not None
    out = capsys.readouterr().out
    assert "WARNING" in out and "chmod 600" in out and GOOD not in out
    path.chmod(0o640)  # group-readable is how a Kubernetes Secret volume with fsGroup mounts it
    find_fleet_key(str(path))
    assert capsys.readouterr().out == ""


def test_a_run_expecting_remote_workers_without_a_key_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != FLEET_KEY_ENV}
    r = surgeproof(
        "run", "step-to-break", "--expect-workers", "2", "--reports-dir", str(tmp_path),
        env=env,
    )  # fmt: skip
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert "--expect-workers 2: no fleet key: give --fleet-key-file PATH or set" in line
    assert list(tmp_path.iterdir()) == []  # nothing was made


def test_a_worker_without_a_key_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != FLEET_KEY_ENV}
    r = surgeproof("worker", "--master", "127.0.0.1", "--master-port", "1", env=env, timeout=60)
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert "surgeproof worker: no fleet key" in line


@pytest.mark.slow
def test_a_run_makes_a_key_for_its_own_workers_and_hands_it_over_out_of_sight(tmp_path):
    """``--workers N`` alone: a key is made, reaches the workers in their environment (not on
    the command line ``ps`` shows), and is in no output and no file of the run."""
    import time

    import psutil
    from load_cli import start_run

    scenario = tmp_path / "hold.yaml"
    scenario.write_text(
        "name: hold\ndescription: d\nmodel: open\ntimeline:\n"
        "  - {phase: hold, duration: 6s, users: 4, ramp: 1s, mix: {market_watcher: 1.0}}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != FLEET_KEY_ENV}
    proc = start_run(
        str(scenario), "--workers", "1", "--reports-dir", str(tmp_path), "--run-id", "k",
        "--timeout", "2", env=env,
    )  # fmt: skip
    seen: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        while not seen and time.monotonic() < deadline and proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                try:
                    if " worker " in " ".join(child.cmdline()):
                        seen = {"cmdline": " ".join(child.cmdline()), **child.environ()}
                except psutil.Error:
                    continue
            time.sleep(0.2)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err[-2000:]
    key = seen.get(FLEET_KEY_ENV)
    assert key is not None and len(key) == 64
    assert key not in seen["cmdline"] and "fleet-key" not in seen["cmdline"]
    assert key not in out + err
    for p in (tmp_path / "k").rglob("*"):
        if p.is_file():
            assert key.encode() not in p.read_bytes(), p
    meta = json.loads((tmp_path / "k" / "run.json").read_text())
    assert meta["workers"]["auth"]["fleet_key"] == "generated"
    assert meta["workers"]["refused"]["messages"] == 0
