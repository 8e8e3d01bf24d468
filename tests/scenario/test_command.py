"""``surgeproof scenario``: list, validate, show and from-trace through the real CLI."""

import pytest

from surgeproof.cli import main
from surgeproof.scenario import load_scenario, resolve
from surgeproof.scenario.catalog import scenarios_dir


def test_list_names_every_built_in(capsys):
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("martial-law-2024-12-03", "step-to-break", "login-storm", "reconnect-storm"):
        assert name in out


def test_validate_accepts_good_files(capsys):
    files = [str(p) for p in sorted(scenarios_dir().glob("*.yaml"))]
    assert main(["scenario", "validate", *files]) == 0
    assert capsys.readouterr().out.count(": ok (") == len(files)


def test_validate_fails_with_one_line_and_exit_2(write_yaml, capsys):
    bad = write_yaml(
        "name: x\ntimeline:\n  - {phase: a, duration: 5m, users: 1, mix: {app_user: 0.9}}\n"
    )
    assert main(["scenario", "validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.endswith("timeline[0].mix: shares must sum to 1, got 0.9")


def test_show_prints_the_resolved_plan(capsys):
    args = [
        "scenario",
        "show",
        "martial-law-2024-12-03",
        "--time-scale",
        "1/24",
        "--user-scale",
        "1/1000",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "panic-selling (reconnect)" in out
    assert "540,000" in out and "1m15s" in out and "22:40" in out
    assert "1 simulated user stands for 1000 real users" in out


def test_show_with_another_profile_keeps_units_honest(capsys):
    assert main(["scenario", "show", "login-storm", "--profile", "coinone"]) == 0
    out = capsys.readouterr().out
    assert "370,000" in out and "concurrent orders" in out


def test_show_refuses_a_bad_scale(capsys):
    assert main(["scenario", "show", "login-storm", "--time-scale", "fast"]) == 2
    assert "--time-scale" in capsys.readouterr().err


def test_from_trace_writes_a_scenario_that_validates(tmp_path, capsys):
    src = tmp_path / "night.csv"
    rows = [10, 11, 9, 10, 12, 10, 40, 90, 100, 70, 60, 55, 50, 45, 40, 30, 20, 15]
    src.write_text(
        "time_kst,requests\n"
        + "".join(f"2024-12-03 22:{20 + i:02d}:00,{v}\n" for i, v in enumerate(rows))
    )
    out = tmp_path / "night-replay.yaml"
    code = main([
        "scenario", "from-trace", str(src), "--baseline-window", "5m",
        "--baseline-to", "profile:bithumb.normal", "--peak-to", "profile:bithumb.peak*1.1",
        "--mix", "rebound=app_user:0.6,market_watcher:0.4", "-o", str(out),
    ])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "time zone: KST (inferred from column 'time_kst')" in printed
    assert "peak: 100 at 2024-12-03 13:28 UTC = 22:28 KST" in printed
    assert "departure: largest" in printed
    plan = resolve(load_scenario(out))
    assert plan.scenario.name == "night-replay" and plan.profile.name == "bithumb"
    assert max(p.real_users for p in plan.program.phases) == pytest.approx(236_000 * 1.1)
    assert any(p.mix == {"app_user": 0.6, "market_watcher": 0.4} for p in plan.program.phases)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--peak-to", "profile:upbit.peek"], "--peak-to: expected a figure of profile upbit"),
        (["--peak-to", "lots"], "--peak-to: expected a number or profile:NAME.FIGURE"),
        (["--peak-to", "1", "--baseline-to", "5"], "--peak-to: expected more users"),
        (["--peak-to", "100", "--mix", "shock=app_user:0.5"], "--mix: shock: shares must sum to 1"),
        (["--peak-to", "100", "--from", "22:00"], "--from: expected an ISO 8601 time"),
    ],
)
def test_from_trace_bad_options_are_one_line_errors(tmp_path, capsys, extra, message):
    src = tmp_path / "t.csv"
    src.write_text("timestamp,v\n" + "".join(f"2024-12-03 13:{m:02d}:00,{m}\n" for m in range(9)))
    args = ["scenario", "from-trace", str(src), "--baseline-to", "1", *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_show_warns_when_the_time_scale_makes_steady_windows_too_short_to_judge(capsys):
    assert main(["scenario", "show", "martial-law-2024-12-03-trace", "--time-scale", "1/240"]) == 0
    warning = capsys.readouterr().out.strip().splitlines()[-1]
    assert warning == (
        "warning: at 1/240, 2 of 3 steady windows are under 5 s (shortest 0.25 s) and will be "
        "inconclusive; 1/12 keeps them all judgeable"
    )


def test_show_does_not_warn_at_a_compression_that_keeps_windows_judgeable(capsys):
    assert main(["scenario", "show", "martial-law-2024-12-03-trace", "--time-scale", "1/12"]) == 0
    assert "warning" not in capsys.readouterr().out
