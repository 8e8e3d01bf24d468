"""``surgeproof exchange`` / ``python -m surgeproof.exchange`` as a process."""

import json
import signal
import subprocess
import sys
import urllib.request


def _start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "surgeproof.exchange", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_json_line_then_clean_exit_on_sigterm():
    proc = _start("--accounts", "7", "--api-workers", "3", "--no-limits")
    try:
        info = json.loads(proc.stdout.readline())
        assert info["url"].startswith("http://127.0.0.1:")
        assert info["ws_url"] == info["url"].replace("http", "ws") + "/websocket/v1"
        assert info["gateways"] == []  # websockets in the core process by default
        assert info["pid"] == proc.pid and info["accounts_total"] == 7
        assert len(info["accounts"]) == 5
        assert set(info["accounts"][0]) == {"member_id", "password", "access_key", "secret_key"}
        assert info["config"]["api_workers"] == 3 and info["config"]["limits"] is False
        with urllib.request.urlopen(info["url"] + "/admin/health", timeout=5) as r:
            assert json.load(r) == {"ok": True}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out == "" and "Traceback" not in err


def test_refuses_non_loopback_host_and_bad_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("api_workers: -3\n")
    for args in (["--host", "0.0.0.0"], ["--config", str(bad)], ["--config", "/nonexistent.yaml"]):
        proc = _start(*args)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 2, args
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("surgeproof exchange: error:")


def test_shipped_target_configs_load():
    from pathlib import Path

    from surgeproof.exchange import load_config

    root = Path(__file__).resolve().parents[2] / "scenarios" / "targets"
    default = load_config(root / "default.yaml")
    assert (default.api_workers, default.service_time_ms) == (4, 10.0)  # 400 req/s, as documented
    assert load_config(root / "unlimited.yaml").limits is False
    assert load_config(root / "autoscale.yaml").autoscale is not None
    sessions = load_config(root / "sessions.yaml")
    assert (sessions.ws_gateways, sessions.ticker_interval_ms, sessions.limits) == (4, 3000, False)


def test_gateway_and_cadence_flags_reach_the_config():
    proc = _start("--ws-gateways", "1", "--ticker-interval-ms", "2500", "--no-limits")
    try:
        info = json.loads(proc.stdout.readline())
        assert info["config"]["ws_gateways"] == 1 and info["config"]["ticker_interval_ms"] == 2500
        assert len(info["gateways"]) == 1 and info["gateways"][0]["pid"] != proc.pid
        assert info["ws_url"] != info["url"].replace("http", "ws") + "/websocket/v1"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_bad_gateway_values_are_one_line_errors():
    for args in (["--ws-gateways", "500"], ["--ws-port", "70000"], ["--ws-gateways", "-1"]):
        proc = _start(*args)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 2, args
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err


def test_dialect_flag_overrides_the_config_and_is_announced(tmp_path):
    target = tmp_path / "target.yaml"
    target.write_text("dialect: bithumb\n")
    proc = _start("--config", str(target), "--dialect", "coinone", "--no-limits")
    try:
        info = json.loads(proc.stdout.readline())
        assert info["dialect"] == "coinone" and info["config"]["dialect"] == "coinone"
        assert info["ws_url"] == info["url"].replace("http", "ws") + "/"
        with urllib.request.urlopen(info["url"] + "/admin/config", timeout=5) as r:
            assert json.load(r)["dialect"] == "coinone"
        with urllib.request.urlopen(info["url"] + "/public/v2/ticker_new/KRW", timeout=5) as r:
            assert json.load(r)["result"] == "success"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0
