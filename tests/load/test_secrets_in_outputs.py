"""No secret in any output: dialects that misuse every secret variable — passwords, API keys and
session tokens in paths, queries, headers and bodies, and through filters that cannot take them —
are probed and run (in-process users, and a Locust worker) against the embedded exchange on
loopback; then every file of the run directories, the reports, the export, the extracted
evidence packs and both output streams of every command are searched for every secret, as is,
upper- and lower-cased, URL-encoded and base64-encoded. Zero hits.

The calls the dialects cannot build are recorded as ``invalid_request`` with their reason (naming
the template and the variable), and a run in which no call could be sent ends ``failed``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import numpy as np
import pytest

from surgeproof.cli import main
from surgeproof.exchange import build_config, exchange_in_thread
from surgeproof.exchange.accounts import seed_accounts
from surgeproof.exchange.sessions import SessionTable
from surgeproof.rundir.schema import RECORD_DTYPE, Outcome

pytestmark = pytest.mark.slow

#: Logs in for real (the password and the API key also in the query and a list in the body),
#: carries the session token in two headers, and misuses the API key in a path, a query and
#: through ``|number``, the token through ``|number`` in the logout's path.
LEAKY_LOGIN_WORKS = """\
name: leaky-a
extends: upbit
session:
  headers: {X-Session-Token: "{session_token}", X-Echo: "tok {session_token}"}
actions:
  login:
    method: POST
    path: /v1/session
    query: {pw: "{password}", key: "{access_key}"}
    body: {member_id: "{member_id}", password: "{password}",
           copy: ["{password|upper}", "{access_key|lower}"]}
    extract: {session_token: /session_token}
  logout:
    method: DELETE
    path: "/v1/session/{session_token|number}"
    session: true
  trades:
    method: GET
    path: /v1/trades/ticks
    query: {market: "{market}", count: "{access_key|number}"}
  orderbook:
    method: GET
    path: "/v1/orderbook/{access_key}"
    query: {markets: "{market}", k: "{access_key|upper}"}
"""
#: Its login cannot be built: the password through ``|number``, and in a path with a space.
LEAKY_LOGIN_FAILS = """\
name: leaky-b
extends: upbit
actions:
  login:
    method: POST
    path: "/v1/session/{password} x"
    query: {pw: "{password}"}
    body: {member_id: "{member_id}", password: "{password|number}", key: "{access_key|lower}"}
    extract: {session_token: /session_token}
"""
MIXED = """\
name: mixed
slos:
  - {group: "*", error_ratio: 90%}
timeline:
  - {phase: a, duration: 3s, users: 6, mix: {app_user: 0.5, api_bot: 0.25, market_watcher: 0.25}}
"""
APP_ONLY = """\
name: app-only
slos:
  - {group: "*", error_ratio: 90%}
timeline:
  - {phase: a, duration: 3s, users: 4, mix: {app_user: 1.0}}
"""


def _forms(value: str) -> set[bytes]:
    out = set()
    for v in {value, value.upper(), value.lower()}:
        raw = v.encode()
        b64 = base64.b64encode(raw).decode().rstrip("=")
        url64 = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        out |= {v, quote(v, safe=""), quote_plus(v), b64, url64}
    return {f.encode() for f in out}


class Needles:
    """Every secret of the test, in every form it could be shown in, as one bytes pattern."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str) -> None:
        self.values.update(v for v in values if v)

    def find(self, data: bytes) -> list[bytes]:
        forms = sorted({f for v in self.values for f in _forms(v)}, key=len, reverse=True)
        pattern = re.compile(b"|".join(re.escape(f) for f in forms))
        return sorted({m.group() for m in pattern.finditer(data)})


@pytest.fixture(scope="module")
def issued_tokens() -> Iterator[list[str]]:
    """Session tokens the in-thread exchange hands out (observed, not changed)."""
    tokens: list[str] = []
    original = SessionTable.open

    def observed(self, member_id, access_key):
        session = original(self, member_id, access_key)
        tokens.append(session.token)
        return session

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SessionTable, "open", observed)
        yield tokens


def _secrets_of(rows) -> list[str]:
    return [getattr(r, k) if not isinstance(r, dict) else r[k]
            for r in rows for k in ("password", "access_key", "secret_key")]  # fmt: skip


def test_no_secret_reaches_any_output(tmp_path: Path, issued_tokens: list[str]) -> None:
    needles = Needles()
    streams: list[tuple[str, str]] = []

    def command(*args: str, env: dict | None = None, expect: int | None = 0) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "surgeproof.cli", *args],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
        )
        return _heard(args, done.returncode, done.stdout, done.stderr, expect)

    def in_process(*args: str, expect: int | None = 0) -> str:
        """Commands that do not patch their process run here: no interpreter start-up each."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return _heard(args, code, out.getvalue(), err.getvalue(), expect)

    def _heard(args, code: int, out: str, err: str, expect: int | None) -> str:
        streams.append((" ".join(args), out + err))
        assert "Traceback" not in err, err[-3000:]
        if expect is not None:
            assert code == expect, (args, code, err[-2000:])
        return out

    (tmp_path / "leaky-a.yaml").write_text(LEAKY_LOGIN_WORKS)
    (tmp_path / "leaky-b.yaml").write_text(LEAKY_LOGIN_FAILS)
    (tmp_path / "mixed.yaml").write_text(MIXED)
    (tmp_path / "app-only.yaml").write_text(APP_ONLY)
    reports = tmp_path / "reports"

    with exchange_in_thread(build_config({"accounts": 6, "seed": 7})) as ex:
        accounts = json.loads(_get(ex.url + "/admin/accounts"))
        rows = accounts.get("accounts", accounts) if isinstance(accounts, dict) else accounts
        needles.add(*_secrets_of(rows))
        (tmp_path / "accounts.json").write_text(json.dumps(rows))

        # The probe, with the accounts from a file (flag) and from the environment.
        out = command("dialect", "probe", "--target", ex.url, "--dialect", "leaky-a.yaml",
                      "--accounts-file", "accounts.json", expect=1)  # fmt: skip
        assert "ok session token (32 chars)" in out
        assert "{session_token|number} in '/v1/session/{session_token|number}': the value of " \
            "session_token cannot go through |number" in out  # fmt: skip
        out = command("dialect", "probe", "--target", ex.url, "--dialect", "leaky-b.yaml",
                      env={"SURGEPROOF_ACCOUNTS_FILE": "accounts.json"}, expect=1)  # fmt: skip
        assert "{password|number} in '{password|number}': the value of password cannot go " \
            "through |number" in out  # fmt: skip

        # A real run with in-process users, accounts from the exchange's admin endpoint.
        command("run", "mixed.yaml", "--target", ex.url, "--dialect", "leaky-a.yaml",
                "--reports-dir", str(reports), "--run-id", "local")  # fmt: skip
        # A Locust worker, accounts from the file the environment names.
        command("run", "app-only.yaml", "--target", ex.url, "--workers", "1",
                "--dialect", "leaky-b.yaml", "--reports-dir", str(reports), "--run-id", "worker",
                env={"SURGEPROOF_ACCOUNTS_FILE": "accounts.json"}, expect=3)  # fmt: skip
    assert issued_tokens, "the leaky login logged in for real"
    needles.add(*issued_tokens)

    # A run that starts its own embedded exchange (whose log is packed): its accounts are the
    # seeded ones, the same for the same seed, so the test can name every one of them.
    seed = 20241203
    needles.add(*_secrets_of(seed_accounts(100, seed)))
    (tmp_path / "target.yaml").write_text(f"seed: {seed}\n")
    command("run", "mixed.yaml", "--target-config", "target.yaml", "--reports-dir", str(reports),
            "--run-id", "embedded")  # fmt: skip
    assert (reports / "embedded" / "server" / "exchange.log").is_file()

    # Every call of the worker run failed before it could be sent: the run says so.
    worker = json.loads((reports / "worker" / "run.json").read_text())
    assert worker["status"] == "failed"
    assert "calls was sent" in worker["failed_reason"]
    local = json.loads((reports / "local" / "run.json").read_text())
    assert local["status"] == "complete"
    assert json.loads((reports / "embedded" / "run.json").read_text())["status"] == "complete"
    for run_id in ("local", "worker", "embedded"):
        run_dir = reports / run_id
        events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
        reasons = [e["reason"] for e in events if e["type"] == "invalid_request"]
        if run_id != "embedded":  # the leaky dialects' unbuildable calls, recorded and told
            assert np.count_nonzero(_outcomes(run_dir) == Outcome.INVALID_REQUEST) > 0
            assert reasons, run_id
            assert all("cannot go through" in r or "no value" in r for r in reasons), reasons
        in_process("report", str(run_dir), expect=None)
        in_process("export", str(run_dir))
        in_process("export", str(run_dir), "--format", "csv", "--out", str(run_dir / "csv"))
        pack = tmp_path / f"{run_id}.tar.gz"
        in_process("evidence", str(run_dir), "--out", str(pack))
        with tarfile.open(pack) as tar:
            tar.extractall(tmp_path / f"{run_id}-pack", filter="data")
    assert Outcome.OK in _outcomes(reports / "local")

    hits = {}
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        if path.name == "accounts.json":  # the test's own input
            continue
        found = needles.find(path.read_bytes())
        if found:
            hits[str(path.relative_to(tmp_path))] = found
    for label, text in streams:
        found = needles.find(text.encode())
        if found:
            hits[f"output of {label}"] = found
    assert hits == {}
    scanned = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "report.md" for p in scanned)
    assert any(p.suffix == ".parquet" for p in scanned)
    assert any("worker" in p.parts and p.name == "workers.log" for p in scanned)


def _outcomes(run_dir: Path) -> np.ndarray:
    parts = [np.fromfile(p, RECORD_DTYPE) for p in sorted((run_dir / "records").glob("*.bin"))]
    return np.concatenate(parts)["outcome"] if parts else np.array([], np.uint8)


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read()
