"""Multi-host generation on Locust's master/worker protocol, across network namespaces: the
exchange, the master and two workers each on a host of their own, joined by a bridge; the
workers prove the fleet key, and a third worker holding another key is refused while the run
completes from the other two.

Every address is in 10.200.7.0/24 *inside namespaces this test creates* (and removes): no traffic
leaves them. Skipped where namespaces cannot be made (not root, no ``ip``, no permission).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from load_cli import events, run_meta, surgeproof

from surgeproof.analysis import analyze_run
from surgeproof.exchange.accounts import seed_accounts
from surgeproof.rundir.reader import read_records
from surgeproof.scenario.catalog import scenarios_dir

SUBNET = "10.200.7"
HOSTS = {"ex": 1, "ma": 2, "w1": 3, "w2": 4, "w3": 5}  # exchange, master, three workers
EXCHANGE_PORT = 8080
MASTER_PORT = 5557

HOLD = """\
name: hold
description: A short hold shared by two workers.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: hold
    duration: 8s
    users: 12
    ramp: 2s
    mix: {market_watcher: 0.5, app_user: 0.5}
"""


def _ip(*args: str, ns: str | None = None) -> None:
    cmd = ["ip", "netns", "exec", ns, "ip", *args] if ns else ["ip", *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=10)


def _namespaces_or_skip(prefix: str) -> None:
    if shutil.which("ip") is None:
        pytest.skip("multi-host test needs iproute2's `ip` to create network namespaces")
    if os.geteuid() != 0:
        pytest.skip("multi-host test needs root to create network namespaces")
    probe = subprocess.run(["ip", "netns", "add", f"{prefix}-probe"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create network namespaces here: {probe.stderr.decode().strip()}")
    subprocess.run(["ip", "netns", "del", f"{prefix}-probe"], capture_output=True)


def _build(prefix: str) -> None:
    """A bridge in a switch namespace, one veth from it to each host namespace."""
    sw = f"{prefix}-sw"
    _ip("netns", "add", sw)
    _ip("link", "add", "br0", "type", "bridge", ns=sw)
    _ip("link", "set", "br0", "up", ns=sw)
    for name, n in HOSTS.items():
        ns = f"{prefix}-{name}"
        _ip("netns", "add", ns)
        _ip("link", "set", "lo", "up", ns=ns)
        # Created inside the switch namespace with its peer placed straight into the host's:
        # nothing is ever added to the machine's own namespace.
        _ip("link", "add", f"p{n}", "type", "veth", "peer", "name", "eth0", "netns", ns, ns=sw)
        _ip("link", "set", f"p{n}", "master", "br0", "up", ns=sw)
        _ip("addr", "add", f"{SUBNET}.{n}/24", "dev", "eth0", ns=ns)
        _ip("link", "set", "eth0", "up", ns=ns)


def _teardown(prefix: str) -> None:
    for name in [*HOSTS, "sw"]:
        subprocess.run(["ip", "netns", "del", f"{prefix}-{name}"], capture_output=True)


def _in(ns: str, *cmd: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kw)


def worker_on(prefix: str, host: str, key_file: Path, *extra: str) -> subprocess.Popen:
    """``surgeproof worker`` on host ``host`` for the master on host ``ma``; output captured."""
    return _in(
        f"{prefix}-{host}", sys.executable, "-m", "surgeproof.cli", "worker",
        "--master", f"{SUBNET}.2", "--master-port", str(MASTER_PORT),
        "--fleet-key-file", str(key_file), *extra,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


#: Written only when some user placed an order, which a short hold of 12 users may not do.
ORDER_DEPENDENT = ("orders/", "reconciliation/")


def _shape(run_dir: Path) -> set[str]:
    """Relative paths with worker ids made generic; server/ holds embedded-target extras."""
    out = set()
    for p in run_dir.rglob("*"):
        rel = p.relative_to(run_dir).as_posix()
        if p.is_file() and not rel.startswith(("server/", *ORDER_DEPENDENT)):
            out.add(re.sub(r"worker-[0-9a-f]+", "worker-*", rel))
    return out


@pytest.mark.slow
def test_master_and_two_workers_on_separate_hosts_lose_nothing(tmp_path, monkeypatch):
    prefix = f"sp{os.getpid() % 100000}"
    _namespaces_or_skip(prefix)
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    creds = tmp_path / "accounts.json"  # the remote exchange's admin API answers loopback only
    creds.write_text(json.dumps([a.to_json() for a in seed_accounts(100, 20241203)]))
    monkeypatch.setenv("SURGEPROOF_ACCOUNTS_FILE", str(creds))
    monkeypatch.delenv("SURGEPROOF_FLEET_KEY", raising=False)
    # Each host reads the key from its own file (as from a mounted Secret); w3 holds another.
    key, other = "a1b2c3d4" * 8, "ffffeeee" * 8
    keys = {}
    for name, value in (("fleet.key", key), ("other.key", other)):
        keys[name] = tmp_path / name
        keys[name].write_text(value + "\n")
        keys[name].chmod(0o600)
    py = [sys.executable, "-m"]
    procs: list[subprocess.Popen] = []
    try:
        _build(prefix)
        exchange = _in(
            f"{prefix}-ex",
            *py,
            "surgeproof.exchange",
            "--host",
            f"{SUBNET}.1",
            "--allow-remote",
            "--port",
            str(EXCHANGE_PORT),
            "--json",
            "--accounts",
            "100",
            "--config",
            str(scenarios_dir() / "targets" / "default.yaml"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        procs.append(exchange)
        assert exchange.stdout is not None
        info = json.loads(exchange.stdout.readline())
        assert info["url"].startswith(f"http://{SUBNET}.1:")
        master = _in(
            f"{prefix}-ma",
            *py,
            "surgeproof.cli",
            "run",
            str(scenario),
            "--target",
            f"http://{SUBNET}.1:{EXCHANGE_PORT}",
            "--allow-remote-target",
            "--expect-workers",
            "2",
            "--master-bind-host",
            f"{SUBNET}.2",
            "--master-port",
            str(MASTER_PORT),
            "--fleet-key-file",
            str(keys["fleet.key"]),
            "--reports-dir",
            str(tmp_path),
            "--run-id",
            "mh",
            "--timeout",
            "3",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(master)
        workers = [
            worker_on(prefix, w, keys["other.key" if w == "w3" else "fleet.key"])
            for w in ("w1", "w2", "w3")
        ]
        procs += workers
        out, err = master.communicate(timeout=120)
        outputs = [w.communicate(timeout=30) for w in workers]
        worker_out = [o for o, _ in outputs[:2]]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        _teardown(prefix)

    assert master.returncode == 0, err[-2000:]
    # The worker holding another key refused the master and left; the master recorded it.
    stranger = workers[2]
    assert stranger.returncode == 2, outputs[2]
    assert "did not prove the fleet key" in outputs[2][1]
    refused = [e for e in events(tmp_path / "mh") if e["type"] == "fleet_refused"]
    assert any(e["reason"] == "declined" for e in refused), refused
    assert {e["reason"] for e in refused} <= {"declined", "late"}
    assert key not in out + err + "".join(o + e for o, e in outputs)
    # The guard named the remote host before any load went out.
    assert f"REMOTE target http://{SUBNET}.1:{EXCHANGE_PORT}: host {SUBNET}.1" in out
    run_dir = tmp_path / "mh"
    meta = run_meta(run_dir)
    assert meta["status"] == "complete" and not meta["workers"]["lost"]
    assert meta["workers"]["expected"] == 2 and len(meta["workers"]["seen"]) == 2
    assert meta["workers"]["auth"]["fleet_key"] == "--fleet-key-file"
    assert meta["workers"]["refused"]["messages"] == sum(e["count"] for e in refused)

    # Nothing dropped: each worker's own count (its last line) equals what reached the master.
    rs = read_records(run_dir)
    assert not rs.damage
    own = {}
    for text in worker_out:
        m = re.search(r"surgeproof worker (worker-[0-9a-f]+): shipped (\d+) records", text)
        assert m, text[-1000:]
        own[m.group(1)] = int(m.group(2))
    assert own == rs.per_source == meta["counts"]["records"]
    assert all(n > 0 for n in own.values())
    for source, node in meta["workers"]["nodes"].items():
        assert node["shipped"] == node["received"] == own[source]
    # The remote workers logged in with the file's credentials and reached the exchange.
    assert {"login", "quotation"} <= set(rs.groups)

    # The per-worker share is shown: run.json counts, progress lines, the analysis input.
    assert all(src in out for src in own)  # progress lines name each worker's share
    analysis = analyze_run(run_dir)
    assert analysis["input"]["records"]["per_source"] == own
    assert {e["source"] for e in events(run_dir) if e["type"] == "worker_joined"} == set(own)

    # Same shape as a run on one host (two local workers).
    local = surgeproof(
        "run",
        str(scenario),
        "--workers",
        "2",
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "local",
        "--timeout",
        "3",
    )
    assert local.returncode == 0, local.stderr[-2000:]
    assert _shape(run_dir) == _shape(tmp_path / "local")
    assert set(meta) == set(run_meta(tmp_path / "local"))
