"""The few malformed inputs where memory or processes are the point, run as a user runs them: the
console command in a child process under an address-space limit (CHILD_ADDRESS_SPACE)."""

from __future__ import annotations

from cli.oneline import child, files_under


def test_dev_zero_as_a_scenario_is_refused_at_once(tmp_path):
    answer = child("scenario", "validate", "/dev/zero", cwd=tmp_path)
    answer.one_line_error("/dev/zero", "not a regular file")


def test_a_50_mb_scenario_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "w") as fh:  # real bytes this time: 50 MB of a valid-looking YAML list
        line = "- {phase: a, duration: 1s, users: 1}\n"
        fh.write("name: big\ntimeline:\n" + line * (50_000_000 // len(line)))
    answer = child("run", big, "--reports-dir", tmp_path / "reports", cwd=tmp_path)
    answer.one_line_error("big.yaml", "larger than")
    assert not (tmp_path / "reports").exists()  # it took minutes and 3.6 GB before


def test_a_hundred_thousand_workers_are_refused_before_one_is_forked(tmp_path):
    before = files_under(tmp_path)
    answer = child(
        "run", "login-storm", "--workers", "100000", "--reports-dir", tmp_path, cwd=tmp_path
    )
    answer.one_line_error("--workers 100000", "--allow-many-workers")
    assert files_under(tmp_path) == before


def test_a_duration_cap_of_nan_is_refused_before_the_exchange_starts(tmp_path):
    answer = child(
        "run", "login-storm", "--max-duration", "nan", "--reports-dir", tmp_path, cwd=tmp_path
    )
    answer.one_line_error("argument --max-duration", "'nan'")
    assert not any(tmp_path.iterdir())
