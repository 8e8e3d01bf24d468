"""``/openapi.json`` describes every endpoint of the selected dialect, and a real fuzzer
(schemathesis) driven by it finds no server error and no request left without an answer;
oversized bodies get a 413 the client can read."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from surgeproof.exchange.admin import ROUTES as ADMIN_ROUTES
from surgeproof.exchange.dialects import DIALECT_NAMES, get_dialect

HERE = Path(__file__).parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _document(ex) -> dict:
    with urllib.request.urlopen(ex.url + "/openapi.json", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("application/json")
        return json.load(r)


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_the_document_lists_every_route_of_the_dialect(exchange, dialect):
    ex = exchange(dialect=dialect)
    doc = _document(ex)
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    routes = {(r.method, r.path) for r in (*get_dialect(dialect).routes, *ADMIN_ROUTES)}
    ws_path = "/" if dialect == "coinone" else "/websocket/v1"
    assert listed == routes | {("GET", ws_path), ("GET", "/openapi.json")}
    assert doc["info"]["version"] == dialect and doc["openapi"].startswith("3.")
    # Parameters come from the route table: the ticker's markets, a login's body.
    if dialect != "coinone":
        (markets,) = doc["paths"]["/v1/ticker"]["get"]["parameters"]
        assert markets == {
            "name": "markets",
            "in": "query",
            "required": True,
            "schema": {"type": "string"},
            "description": "comma-separated market codes",
        }
    login = "/v2.1/app/login" if dialect == "coinone" else "/v1/session"
    body = doc["paths"][login]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["member_id", "password"]


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_schemathesis_finds_no_server_error_and_no_unanswered_request(exchange, dialect, tmp_path):
    ex = exchange(dialect=dialect, limits=False)
    account = ex.state.accounts[0]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "SURGEPROOF_FUZZ_SIGNER": json.dumps(
            {"dialect": dialect, "access_key": account.access_key, "secret_key": account.secret_key}
        ),
    }
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            ex.url + "/openapi.json",
            "--checks",
            "no_server_error_but_overload",
            "--max-examples",
            "2",
            "--phases",
            "examples,coverage,fuzzing",
            # A stall withholds every answer by design: the one endpoint not fuzzed.
            "--exclude-path",
            "/admin/stall",
            "--request-timeout",
            "10",
            "--seed",
            "7",
            "--no-shrink",
        ],
        env=env,
        cwd=tmp_path,  # its cache and reports stay out of the tree
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = run.stdout[-4000:]
    assert run.returncode == 0, summary
    assert "passed" in summary and "Network Error" not in summary
    ledger = json.load(urllib.request.urlopen(ex.url + "/admin/ledger", timeout=5))
    assert ledger["conserved"] and ledger["lost_orders"] == []


def _raw_post(port: int, path: str, size: int) -> bytes:
    """Send a body of ``size`` bytes in one go and read whatever the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n"
        ).encode()
        s.sendall(head)
        # The server may stop reading once it has answered: the answer still counts.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(b"[" * size)
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return answer
            answer += chunk


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
def test_an_oversized_body_gets_a_413_the_client_reads(exchange, dialect):
    ex = exchange(dialect=dialect)
    paths = {
        "upbit": ["/v1/orders", "/v1/candles/minutes/1", "/v1/session"],
        "bithumb": ["/v2/orders", "/v1/session"],
        "coinone": ["/v2.1/order", "/v2.1/app/login"],
    }[dialect] + ["/admin/stall", "/no/such/path"]
    for path in paths:
        for _ in range(4):
            answer = _raw_post(ex.port, path, 2 << 20)
            assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:200])
            assert b"Connection: close" in answer
