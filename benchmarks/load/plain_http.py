"""Peer (a): plain Locust FastHttpUser hammering /v1/ticker (no wait), as its docs show it."""

from locust import FastHttpUser, constant, task


class Hammer(FastHttpUser):
    wait_time = constant(0)

    @task
    def ticker(self) -> None:
        self.client.get("/v1/ticker?markets=KRW-BTC", name="GET /v1/ticker")
