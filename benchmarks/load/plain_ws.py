"""Peer: a minimal plain-Locust user holding a websocket-client subscription (one greenlet each)."""

import json
import os

import websocket
from locust import User, task


class Watcher(User):
    def on_start(self) -> None:
        self.ws = websocket.create_connection(os.environ["WS_URL"], timeout=30)
        self.ws.send(json.dumps([{"ticket": "t"}, {"type": "ticker", "codes": ["KRW-BTC"]}]))

    @task
    def watch(self) -> None:
        while True:
            self.ws.recv()

    def on_stop(self) -> None:
        # Not close(): it waits up to 3 s for the server's close frame, and Locust stops a
        # process's users one after another, so 12,500 users took minutes to stop at -t.
        self.ws.shutdown()
