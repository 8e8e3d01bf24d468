"""A websocket gateway that dies is replaced on the same port; the others never notice."""

import asyncio
import json
import os
import signal
import time

import aiohttp
import psutil
from core_process import gone, start_core, wait_gone
from upbit_client import run

from surgeproof.exchange import build_config
from surgeproof.exchange.app import build_app
from surgeproof.exchange.gateway_pool import GatewayPool
from surgeproof.exchange.restart_backoff import RestartBackoff
from surgeproof.exchange.routes import STATE

SUBSCRIBE = json.dumps([{"ticket": "restart"}, {"type": "ticker", "codes": ["KRW-BTC"]}])
#: Tickers every 100 ms, so every open subscription sees updates within a poll or two.
FAST = "ws_gateways: 2\nticker_interval_ms: 100\nprice: {update_s: 0.1}\n"


def _core(tmp_path, extra=""):
    config = tmp_path / "target.yaml"
    config.write_text(FAST + extra)
    return start_core("--config", str(config))


async def _until(probe, what, timeout=20.0):
    """Await ``probe()`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.05)


async def _metrics(session, info):
    async with session.get(info["url"] + "/admin/metrics") as r:
        return await r.json()


class Watcher:
    """One websocket subscribed to KRW-BTC tickers, counting realtime updates until it closes."""

    def __init__(self, ws):
        self.ws = ws
        self.updates = 0
        self.closed = False
        self.port = ws.get_extra_info("sockname")[1]  # how its gateway sees it
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        while True:
            msg = await self.ws.receive()
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            if json.loads(msg.data)["stream_type"] == "REALTIME":
                self.updates += 1
        self.closed = True


async def _watchers(session, url, n):
    """``n`` subscribed watchers, returned once each has had a realtime update."""
    watchers = []
    for _ in range(n):
        ws = await session.ws_connect(url)
        await ws.send_str(SUBSCRIBE)
        watchers.append(Watcher(ws))

    async def all_updated():
        return all(w.updates for w in watchers)

    await _until(all_updated, f"a realtime update on each of {n} new watchers")
    return watchers


def _gateway_of(watchers, gateways):
    """Gateway id -> the watchers whose socket that gateway process holds."""
    held = {}
    for g in gateways:
        conns = psutil.Process(g["pid"]).net_connections(kind="tcp")
        held[g["id"]] = {c.raddr.port for c in conns if c.raddr}
    return {gid: [w for w in watchers if w.port in ports] for gid, ports in held.items()}


async def _updates_continue(watchers):
    """Every watcher in ``watchers`` gets at least one more update (they are still served)."""
    before = [w.updates for w in watchers]

    async def moved():
        return all(w.updates > b for w, b in zip(watchers, before, strict=True))

    await _until(moved, "another update on every surviving watcher")


async def _gateways_holding(session, info, counts):
    """/admin/metrics' gateways once their connection counts are ``{id: n}`` (as the core
    learns of opens over the channel, a moment after the client)."""

    async def matched():
        gateways = (await _metrics(session, info))["gateways"]
        return gateways if {g["id"]: g["connections"] for g in gateways} == counts else None

    return await _until(matched, f"gateway connection counts {counts}")


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    return err


def test_a_killed_gateway_is_replaced_and_its_share_of_connections_comes_back(tmp_path):
    proc, info = _core(tmp_path)
    first_pids = {g["id"]: g["pid"] for g in info["gateways"]}

    async def go():
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            before = await _watchers(s, info["ws_url"], 40)
            by_gateway = _gateway_of(before, info["gateways"])
            assert sum(len(ws) for ws in by_gateway.values()) == 40
            victim = max(by_gateway, key=lambda gid: len(by_gateway[gid]))
            other = 1 - victim
            lost, kept = by_gateway[victim], by_gateway[other]
            assert lost and kept  # 40 client ports hashed over 2 listeners

            os.kill(first_pids[victim], signal.SIGKILL)

            async def lost_closed():
                return all(w.closed for w in lost)

            await _until(lost_closed, "the killed gateway's connections to close")

            async def replaced():
                g = (await _metrics(s, info))["gateways"][victim]
                return g if g["alive"] and g["pid"] != first_pids[victim] else None

            new = await _until(replaced, "a new, alive process for the killed gateway")
            assert new["restarts"] == 1 and new["last_exit"] == "killed by SIGKILL"
            assert new["restarted_at"] >= new["died_at"]

            # The kernel hashes new clients over both listeners again; all are served.
            after = await _watchers(s, info["ws_url"], 60)
            spread = _gateway_of(after, (await _metrics(s, info))["gateways"])
            assert len(spread[victim]) > 0 and len(spread[other]) > 0
            counts = {victim: len(spread[victim]), other: len(kept) + len(spread[other])}
            gateways = await _gateways_holding(s, info, counts)
            await _updates_continue(kept + after)
            assert not any(w.closed for w in kept)  # the other gateway's clients never noticed
            assert gateways[other]["pid"] == first_pids[other]
            assert gateways[other]["restarts"] == 0

            metrics = await _metrics(s, info)
            entry = metrics["seconds"][-1]["ws_gateways"]
            assert entry[str(victim)]["restarts"] == 1 and entry[str(other)]["restarts"] == 0
            for w in before + after:
                await w.ws.close()
            return victim, new["pid"]

    try:
        victim, new_pid = run(go())
    finally:
        err = _stop(proc)
    assert proc.returncode == 0 and "Traceback" not in err
    died = f"websocket gateway {victim} (pid {first_pids[victim]}) died (killed by SIGKILL)"
    assert died in err and "restart #1 in 0.5 s" in err
    assert f"websocket gateway {victim} restarted as pid {new_pid} (restart #1)" in err
    assert wait_gone([*first_pids.values(), new_pid]) == []


def test_with_restarts_off_a_dead_gateway_stays_dead_and_the_other_serves_everyone(tmp_path):
    proc, info = _core(tmp_path, "gateway_restart: false\n")
    victim, other = info["gateways"]

    async def go():
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            os.kill(victim["pid"], signal.SIGKILL)

            async def dead():
                g = (await _metrics(s, info))["gateways"][victim["id"]]
                return g if not g["alive"] and g["last_exit"] else None

            await _until(dead, "the killed gateway reported dead")
            watchers = await _watchers(s, info["ws_url"], 30)
            counts = {victim["id"]: 0, other["id"]: 30}
            gateways = await _gateways_holding(s, info, counts)
            for w in watchers:
                await w.ws.close()
            return gateways[victim["id"]]

    try:
        dead = run(go())
    finally:
        err = _stop(proc)
    assert dead["pid"] == victim["pid"] and dead["restarts"] == 0 and dead["connections"] == 0
    assert f"(pid {victim['pid']}) died (killed by SIGKILL)" in err
    assert "not restarted (gateway_restart: false)" in err and "restarted as" not in err
    assert proc.returncode == 0


def test_killing_the_core_after_a_restart_leaves_no_gateway_behind(tmp_path):
    proc, info = _core(tmp_path)
    first = [g["pid"] for g in info["gateways"]]

    async def restarted():
        async with aiohttp.ClientSession() as s:

            async def replaced():
                g = (await _metrics(s, info))["gateways"][0]
                return g["pid"] if g["alive"] and g["restarts"] == 1 else None

            return await _until(replaced, "gateway 0 restarted")

    try:
        os.kill(first[0], signal.SIGKILL)
        pids = [run(restarted()), first[1]]
        assert not any(gone(p) for p in pids)
        assert all(psutil.Process(p).ppid() == proc.pid for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        assert wait_gone(pids) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def _gateway_children():
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if "surgeproof.exchange.gateway" in " ".join(p.cmdline())
    ]


async def _started_pool(backoff):
    pool = GatewayPool(build_app(build_config({"limits": False}))[STATE], 2, backoff)
    await pool.start("127.0.0.1", 0)
    return pool


def test_stop_cancels_a_pending_restart():
    async def go():
        pool = await _started_pool(RestartBackoff(first_s=5.0, max_s=5.0))
        pids = [g["pid"] for g in pool.describe()]
        os.kill(pids[0], signal.SIGKILL)

        async def reaped():  # from then on the replacement waits out the backoff
            return pool.describe()[0]["last_exit"]

        await _until(reaped, "the killed gateway reaped")
        await pool.stop()
        # Nothing of the pool is left to run, so no restart can follow.
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        return pids, pool.describe(), pending

    pids, gateways, pending = run(go())
    assert pending == set()
    assert gateways[0]["restarts"] == 0 and not gateways[0]["alive"]
    assert wait_gone(pids) == [] and _gateway_children() == []


def test_stop_during_a_replacements_start_up_leaves_no_gateway_behind():
    async def go():
        pool = await _started_pool(RestartBackoff(first_s=0.0, max_s=0.0))
        pids = [g["pid"] for g in pool.describe()]
        os.kill(pids[0], signal.SIGKILL)

        async def spawned():  # a replacement process exists (it may not have said hello)
            return pool.describe()[0]["restarts"] == 1

        await _until(spawned, "a replacement for gateway 0")
        pids.append(pool.describe()[0]["pid"])
        await pool.stop()
        return pids

    pids = run(go())
    assert len(set(pids)) == 3
    assert wait_gone(pids) == [] and _gateway_children() == []
