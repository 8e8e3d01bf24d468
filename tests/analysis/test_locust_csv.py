"""``surgeproof analyze --csv`` on a real plain-Locust run: closed model and reduced precision
stated, user-count steps become levels, the throughput plateau brackets the ceiling."""

import asyncio
import json
import subprocess
import sys
import textwrap
import threading

import pytest
from aiohttp import web

from surgeproof.cli import main

LOCUSTFILE = textwrap.dedent(
    """
    from locust import HttpUser, LoadTestShape, constant, task

    class Watcher(HttpUser):
        wait_time = constant(0.1)

        @task
        def ticker(self):
            self.client.get("/v1/ticker")

    class Steps(LoadTestShape):
        steps = [(2, 3), (4, 3), (8, 3), (14, 3)]

        def tick(self):
            elapsed, end = self.get_run_time(), 0
            for users, seconds in self.steps:
                end += seconds
                if elapsed < end:
                    return (users, users)
            return None
    """
)


class OneWorkerServer:
    """A loopback aiohttp server that serves one request at a time in 20 ms: 50 req/s."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.port = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        gate = asyncio.Semaphore(1)

        async def ticker(request):
            async with gate:
                await asyncio.sleep(0.02)
            return web.json_response([{"market": "KRW-BTC", "trade_price": 131_000_000}])

        app = web.Application()
        app.router.add_get("/v1/ticker", ticker)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self):
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def locust_prefix(tmp_path_factory):
    d = tmp_path_factory.mktemp("locust")
    (d / "locustfile.py").write_text(LOCUSTFILE)
    prefix = d / "plain"
    with OneWorkerServer() as server:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(d / "locustfile.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{server.port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            check=True,
            timeout=60,
            capture_output=True,
        )
    return prefix


@pytest.mark.slow
def test_plain_locust_csv_gives_levels_a_plateau_and_states_reduced_precision(
    locust_prefix, tmp_path, capsys
):
    slo = tmp_path / "slo.yaml"
    slo.write_text(
        "slos:\n  - {group: '*', p95: 2s, error_ratio: 1%}\n  - {group: orders, p99: 1s}\n"
    )
    assert main(["analyze", "--csv", str(locust_prefix), "--slo", str(slo)]) == 0
    out = capsys.readouterr().out
    assert "reduced precision" in out and "closed-model" in out
    a = json.loads(locust_prefix.with_name("plain_analysis.json").read_text())
    assert a["input"]["kind"] == "locust_csv"
    dq = a["data_quality"]
    assert dq["precision"] == "reduced" and dq["closed_model"]
    assert any("147→150 ms" in n for n in dq["precision_notes"])
    assert any("orders p99" in c and "not judged" in c for c in dq["caveats"])
    assert [lv["offered_users"] for lv in a["levels"]] == [2, 4, 8, 14]
    # One worker at 20 ms serves at most 50 req/s; 14 closed-loop users offer far more.
    top = a["levels"][-1]
    assert top["achieved_rps"] <= 52
    assert a["ceiling"]["plateau"]["detected"]
    assert top["verdict"] == "fail"
    assert a["ceiling"]["status"] == "bracketed"
    assert a["ceiling"]["first_fail"]["users"] <= 14
    # Same incident shape as a run directory's: no fault can be seen in Locust's CSVs.
    assert a["incidents"]["target_outages"] == a["incidents"]["gateway_outages"] == []


def test_missing_history_file_is_one_line(tmp_path, capsys):
    assert main(["analyze", "--csv", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "_stats_history.csv: missing" in err[0]


def test_run_dir_and_csv_together_are_refused(tmp_path, capsys):
    assert main(["analyze", str(tmp_path), "--csv", str(tmp_path / "x")]) == 2
    assert "exactly one" in capsys.readouterr().err
