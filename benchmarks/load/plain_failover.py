"""Peer for the failover benchmark: plain Locust users polling the ticker at a fixed pace."""

from locust import FastHttpUser, constant_throughput, task


class Poller(FastHttpUser):
    wait_time = constant_throughput(2)

    @task
    def ticker(self) -> None:
        self.client.get("/v1/ticker?markets=KRW-BTC", name="GET /v1/ticker")
