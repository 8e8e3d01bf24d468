"""The loopback endpoint a run serves for external marks (``surgeproof run --mark-port PORT``).

``POST /mark`` with a sealed mark (``marks.py``) adds a ``mark`` event at the time it arrives;
``GET /mark`` answers the run id a mark must be sealed for. It listens on 127.0.0.1 only (a
chaos tool on another host runs ``surgeproof mark`` through its own tunnel), from a gevent
server in the conductor, and is said in ``RUN_DIR/mark-endpoint.json`` (its URL, nothing
secret; removed when the run ends) so that ``surgeproof mark RUN_DIR TEXT`` finds it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from surgeproof.confine import replace_bytes, unlink_confined
from surgeproof.errors import UserError
from surgeproof.load.marks import MAX_BODY_BYTES, MarkDesk, MarkRefused
from surgeproof.secret import Secret

ENDPOINT_FILE = "mark-endpoint.json"
HOST = "127.0.0.1"
MAX_CONNECTIONS = 16
REQUEST_TIMEOUT_S = 5.0


class MarkEndpoint:
    """The server; ``on_mark(text)`` is called for each mark accepted, on the conductor's hub."""

    def __init__(self, key: Secret, run_id: str, port: int, on_mark: Callable[[str], None]) -> None:
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIHandler, WSGIServer

        self.desk = MarkDesk(key, run_id)
        self.run_id = run_id
        self.on_mark = on_mark
        #: Refusals by reason (said in the run's output at the end, not one event each).
        self.refused: dict[str, int] = {}

        class Handler(WSGIHandler):
            MAX_REQUEST_LINE = 1024

            def handle(self) -> None:
                self.socket.settimeout(REQUEST_TIMEOUT_S)
                super().handle()

        self._server = WSGIServer(
            (HOST, port), self._route, log=None, spawn=Pool(MAX_CONNECTIONS), handler_class=Handler
        )
        try:
            self._server.init_socket()
        except OSError as exc:
            raise UserError(f"--mark-port {port}: cannot listen on {HOST} ({exc})") from None
        self.port = self._server.socket.getsockname()[1]
        self._run_dir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/mark"

    def start(self, run_dir: Path) -> None:
        self._server.start()
        body = json.dumps({"url": self.url, "run_id": self.run_id}).encode()
        replace_bytes(run_dir, ENDPOINT_FILE, body, "run directory")
        self._run_dir = run_dir

    def close(self) -> None:
        """Stop serving; the endpoint file goes with it (a mark after the run is refused by a
        missing file, not by a port some other program may hold by then)."""
        self._server.stop(timeout=1)
        if self._run_dir is not None:
            with contextlib.suppress(OSError, UserError):
                unlink_confined(self._run_dir, ENDPOINT_FILE, "run directory")
            self._run_dir = None

    def _route(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if environ.get("PATH_INFO") != "/mark":
            return _answer(start_response, "404 Not Found", {"error": "not found"})
        if method == "GET":
            return _answer(start_response, "200 OK", {"run_id": self.run_id})
        if method != "POST":
            return _answer(start_response, "405 Method Not Allowed", {"error": "POST a mark"})
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return self._refuse(start_response, MarkRefused("malformed"))
        body = environ["wsgi.input"].read(int(length))
        try:
            text = self.desk.check(body, time.monotonic())
        except MarkRefused as refusal:
            return self._refuse(start_response, refusal)
        self.on_mark(text)
        return _answer(start_response, "200 OK", {"marked": text})

    def _refuse(self, start_response: Any, refusal: MarkRefused) -> list[bytes]:
        self.refused[refusal.reason] = self.refused.get(refusal.reason, 0) + 1
        status = f"{refusal.status} Refused"
        return _answer(start_response, status, {"error": refusal.reason, "why": str(refusal)})


def _answer(start_response: Any, status: str, obj: dict[str, Any]) -> list[bytes]:
    body = json.dumps(obj).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
