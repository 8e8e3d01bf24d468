"""The system under test: the embedded exchange as a child process, or a URL with a guard."""

from __future__ import annotations

import ipaddress
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from surgeproof.errors import UserError

STARTUP_TIMEOUT_S = 30.0


@dataclass
class Target:
    """Where the load goes."""

    url: str
    ws_url: str | None
    embedded: bool
    config: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    #: How the embedded exchange was started (to restart it on the same port after an outage).
    command: list[str] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback_url(self.url)

    def stop(self) -> None:
        """SIGTERM the embedded exchange and wait for it (then SIGKILL)."""
        p = self.process
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def is_loopback_url(url: str) -> bool:
    """Whether every address the URL's host resolves to is a loopback address."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):  # UnicodeError: a host name IDNA cannot encode
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)


def describe_host(url: str) -> str:
    """``host (addr, ...)``: the host a URL names and what it resolves to, for the guard's line."""
    host = urlsplit(url).hostname or ""
    try:
        addrs = sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        return f"{host} (does not resolve)"
    shown = ", ".join(addrs[:4]) + (", ..." if len(addrs) > 4 else "")
    return host if addrs == [host] else f"{host} ({shown})"


def check_target_url(url: str, allow_remote: bool) -> str:
    """Validate ``--target``; refuse a non-loopback host unless explicitly allowed."""
    expected = "expected an http(s) URL like http://127.0.0.1:8080"
    if not url:
        raise UserError(f"--target '': {expected}")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise UserError(f"--target {url!r}: {expected} (no spaces or control characters)")
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for ':abc' or a port beyond 65535
    except ValueError as exc:
        raise UserError(f"--target {url!r}: {expected} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--target {url!r}: {expected}")
    if port == 0:
        raise UserError(f"--target {url!r}: {expected} (port 0 is not a port to connect to)")
    if parts.username is not None or parts.password is not None:
        # A password in the URL would be written to run.json and every report.
        raise UserError(f"--target: {expected}, without user:password@ (use --accounts-file)")
    if parts.query or parts.fragment:
        raise UserError(f"--target {url!r}: {expected}, a base URL without ?query or #fragment")
    if not is_loopback_url(url) and not allow_remote:
        raise UserError(
            f"--target {url}: {parts.hostname} is not a loopback address; refusing to send load "
            "to a remote host without --allow-remote-target"
        )
    return url.rstrip("/")


def check_ws_url(url: str, allow_remote: bool) -> str:
    """A dialect's absolute websocket URL passes the same guard as ``--target``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - ValueError for ':abc' or a port beyond 65535
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UserError(f"websocket {url!r}: expected a ws(s) URL like ws://127.0.0.1:8080/ws")
    if not is_loopback_url(url) and not allow_remote:
        raise UserError(
            f"websocket {url}: {parts.hostname} is not a loopback address; refusing to send load "
            "to a remote host without --allow-remote-target"
        )
    return url


def ws_url_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/websocket/v1"


def start_embedded(
    config: str | None, accounts: int, log_path: Path, dialect: str | None = None
) -> Target:
    """Start ``python -m surgeproof.exchange`` on an ephemeral loopback port and wait for it,
    speaking ``dialect`` (a built-in name; None: what the config says)."""
    if config and not Path(config).is_file():
        raise UserError(f"--target-config {config}: file not found")
    cmd = [
        sys.executable,
        "-m",
        "surgeproof.exchange",
        "--port",
        "0",
        "--json",
        "--accounts",
        str(accounts),
    ]
    if config:
        cmd += ["--config", str(config)]
    if dialect:
        cmd += ["--dialect", dialect]
    # What the exchange keeps across a restart (its order journal, when its config asks for
    # durability) lives beside its log, in the run directory.
    cmd += ["--state-dir", str(log_path.parent / "exchange-state")]
    proc, info = _spawn(cmd, log_path)
    url = str(info["url"]).rstrip("/")
    target = Target(url, info.get("ws_url") or ws_url_of(url), True, {}, proc, cmd, log_path)
    target.config = fetch_json(url + "/admin/config") or {"config": info.get("config")}
    return target


def restart_embedded(target: Target, attempts_s: float = 10.0) -> subprocess.Popen:
    """Start the embedded exchange again on the port (and websocket port) it had; returns it.

    The same command and seed give the same accounts and markets; what lived only in the dead
    process (sessions, open orders, websockets) is gone, as after a real crash.
    """
    if not target.command or target.log_path is None:
        raise UserError("only the embedded exchange can be restarted")
    parts = urlsplit(target.url)
    cmd = list(target.command)
    cmd[cmd.index("--port") + 1] = str(parts.port)
    ws_port = urlsplit(target.ws_url or "").port
    if ws_port and ws_port != parts.port:
        cmd += ["--ws-port", str(ws_port)]
    deadline = time.monotonic() + attempts_s
    while True:
        try:
            proc, _info = _spawn(cmd, target.log_path)
        except UserError:
            # The port may still be held for a moment by the dead process's sockets.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        target.process = proc
        return proc


def _spawn(cmd: list[str], log_path: Path) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start the exchange and read its one JSON line; a UserError with its last log line if not.

    Its own session keeps a terminal's Ctrl-C from killing it under a run that is still
    flushing; the parent-death signal keeps a SIGKILLed conductor from leaving it behind.
    """
    from surgeproof.load.liveness import die_with_parent

    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child for its lifetime
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,  # only prctl: safe between fork and exec
    )
    log.close()
    assert proc.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    line = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            line += chunk
        elif proc.poll() is not None:
            break
    try:
        info = json.loads(line.decode().splitlines()[0])
    except (ValueError, IndexError):
        proc.kill()
        proc.wait()
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"embedded exchange did not start: {tail[0]}") from None
    return proc, info


def fetch_json(url: str, timeout_s: float = 5.0, data: bytes | None = None) -> Any:
    """GET (or POST ``data``) a JSON admin endpoint; None when it does not answer."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return json.loads(resp.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def default_target_config() -> str | None:
    """``scenarios/targets/default.yaml``: the embedded exchange as the demo and docs describe it
    (per-user rate-limit identity, since every simulated user shares 127.0.0.1)."""
    from surgeproof.scenario.catalog import scenarios_dir

    path = scenarios_dir() / "targets" / "default.yaml"
    return str(path) if path.is_file() else None


def target_says(target_url: str | None, target_config: str | None) -> str | None:
    """The dialect the target names: a loopback surgeproof exchange's ``/admin/config``, or
    (embedded) the target config's ``dialect:``; None when it says nothing."""
    if target_url:
        if not is_loopback_url(target_url):
            return None
        cfg = fetch_json(target_url + "/admin/config", timeout_s=2.0)
        said = cfg.get("dialect") if isinstance(cfg, dict) else None
        return said if isinstance(said, str) else None
    path = target_config or default_target_config()
    if not path:
        return None
    from surgeproof.scenario.yamlfile import read_yaml

    try:
        doc, _source = read_yaml(path)  # bounded: no aliases, size and nesting checked
    except UserError:
        return None  # the exchange itself reports a broken config, with its reason
    said = doc.get("dialect") if isinstance(doc, dict) else None
    return said if isinstance(said, str) else None
