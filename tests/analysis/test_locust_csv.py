"""``surgeproof analyze --csv`` on a real plain-Locust run against a server of known capacity:
closed model and reduced precision stated, user-count steps become levels, and the saturation
rule's bracket contains the true saturation point."""

import asyncio
import subprocess
import sys
import textwrap
import threading

import pytest
from aiohttp import web

from surgeproof.analysis import Judging
from surgeproof.analysis.locust_csv import analyze_locust_csv
from surgeproof.cli import main
from surgeproof.scenario.model import Slo

LOCUSTFILE = textwrap.dedent(
    """
    from locust import HttpUser, LoadTestShape, constant_throughput, task

    class Watcher(HttpUser):
        wait_time = constant_throughput(5)  # each user asks for 5 req/s

        @task
        def ticker(self):
            self.client.get("/v1/ticker")

    class Steps(LoadTestShape):
        steps = [(10, 6), (16, 6), (26, 6), (34, 6)]

        def tick(self):
            elapsed, end = self.get_run_time(), 0
            for users, seconds in self.steps:
                end += seconds
                if elapsed < end:
                    return (users, 100)
            return None
    """
)

#: The server's capacity; with 5 req/s per user the true saturation point is 20 users.
CAPACITY_RPS = 100.0


class SlottedServer:
    """A loopback aiohttp server that answers at most one request per 10 ms slot, in arrival
    order: a known capacity of exactly 100 req/s (late wake-ups do not accumulate)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.port = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        slot = 1.0 / CAPACITY_RPS
        next_free = [0.0]

        async def ticker(request):
            now = self.loop.time()
            next_free[0] = max(now, next_free[0]) + slot
            await asyncio.sleep(next_free[0] - now)
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
    with SlottedServer() as server:
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
                "-t",
                "60s",  # a bound; the shape ends the test after its 24 s
            ],
            check=True,
            timeout=90,
            capture_output=True,
        )
    return prefix


@pytest.mark.slow
def test_plain_locust_steps_bracket_the_known_capacity_and_state_reduced_precision(
    locust_prefix, tmp_path, capsys
):
    # 4 s windows (6 s steps, the first second settling): judged with a 4 s minimum.
    a = analyze_locust_csv(
        locust_prefix,
        slos=[Slo("*", "p95", 2000.0), Slo("*", "error_ratio", 0.01), Slo("orders", "p99", 1e3)],
        judging=Judging(min_window_s=4.0),
    )
    assert a["input"]["kind"] == "locust_csv"
    dq = a["data_quality"]
    assert dq["precision"] == "reduced" and dq["closed_model"]
    assert any("147→150 ms" in n for n in dq["precision_notes"])
    assert any("orders p99" in c and "not judged" in c for c in dq["caveats"])
    assert [lv["offered_users"] for lv in a["levels"]] == [10, 16, 26, 34]
    c = a["ceiling"]
    assert c["status"] == "bracketed", [lv["reasons"] for lv in a["levels"]]
    # The truth: 100 req/s over 5 req/s per user = 20 users.
    assert c["last_pass"]["users"] < CAPACITY_RPS / 5 <= c["first_fail"]["users"]
    assert c["failed_first"]["slo"] == "target saturated"
    assert c["plateau"]["detected"]
    assert c["plateau"]["throughput_rps"] == pytest.approx(CAPACITY_RPS, rel=0.05)
    assert 16 <= a["knee"]["users"] <= 26
    assert a["settings"]["judging"]["min_window_s"] == 4.0
    # Same incident shape as a run directory's: no fault can be seen in Locust's CSVs.
    assert a["incidents"]["target_outages"] == a["incidents"]["gateway_outages"] == []
    # The command line writes it and says what limits it.
    slo = tmp_path / "slo.yaml"
    slo.write_text("slos:\n  - {group: '*', error_ratio: 1%}\n")
    assert main(["analyze", "--csv", str(locust_prefix), "--slo", str(slo)]) == 0
    out = capsys.readouterr().out
    assert "reduced precision" in out and "closed-model" in out
    assert locust_prefix.with_name("plain_analysis.json").is_file()


def test_missing_history_file_is_one_line(tmp_path, capsys):
    assert main(["analyze", "--csv", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "_stats_history.csv: missing" in err[0]


def test_run_dir_and_csv_together_are_refused(tmp_path, capsys):
    assert main(["analyze", str(tmp_path), "--csv", str(tmp_path / "x")]) == 2
    assert "exactly one" in capsys.readouterr().err
