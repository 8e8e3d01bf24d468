"""``surgeproof mark RUN_DIR|URL TEXT``: put an external mark on a running run's clock."""

from __future__ import annotations

import argparse
import ipaddress
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Seconds the command waits for the run to answer.
TIMEOUT_S = 5.0
MAX_ANSWER_BYTES = 4096


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mark`` subcommand."""
    p = subparsers.add_parser(
        "mark",
        help="mark a running run's timeline (a fault triggered by hand or by a chaos tool)",
        description=(
            "Send TEXT as a mark to a run started with --mark-port: it becomes a 'mark' event "
            "at the time the run receives it, on the run's clock. Authenticated with the fleet "
            "key (--fleet-key-file or $SURGEPROOF_FLEET_KEY, the run's own); loopback only."
        ),
    )
    p.add_argument(
        "where",
        metavar="RUN_DIR|URL",
        help="the running run's directory (its mark-endpoint.json), or http://127.0.0.1:PORT/mark",
    )
    p.add_argument("text", metavar="TEXT", help="one line, at most 200 printable characters")
    p.add_argument("--fleet-key-file", metavar="PATH", help="default: $SURGEPROOF_FLEET_KEY")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from surgeproof.errors import UserError
    from surgeproof.load.fleet_key import find_fleet_key, missing_key_error
    from surgeproof.load.marks import MarkRefused, clean_text, sealed_mark

    try:
        text = clean_text(args.text)
    except MarkRefused as exc:
        raise UserError(f"mark TEXT: {str(exc).split(': ', 1)[1]}") from None
    key = find_fleet_key(args.fleet_key_file)
    if key is None:
        raise missing_key_error("mark")
    url, run_id = _endpoint(args.where)
    status, answer = _call(url, sealed_mark(key.secret, run_id, text) if run_id else None)
    if status != 200:
        why = answer.get("why") if isinstance(answer, dict) else None
        raise UserError(f"mark: {url} refused the mark (HTTP {status}: {str(why)[:200]})")
    print(f"surgeproof mark: run {run_id}: marked {text!r}")
    return 0


def _endpoint(where: str) -> tuple[str, str]:
    """The endpoint's URL and the run id a mark is sealed for."""
    from surgeproof.confine import TooLarge, read_bounded
    from surgeproof.errors import UserError
    from surgeproof.load.mark_endpoint import ENDPOINT_FILE

    if where.startswith(("http://", "https://")):
        url = _loopback_url(where, where)
        status, answer = _call(url, None)
        run_id = answer.get("run_id") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(run_id, str):
            raise UserError(f"mark: {url} is not a run's mark endpoint (HTTP {status})")
        return url, run_id
    run_dir = Path(where)
    try:
        raw = read_bounded(run_dir, ENDPOINT_FILE, MAX_ANSWER_BYTES, "mark")
        d = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"mark: {run_dir / ENDPOINT_FILE}: no such file (is the run going, with --mark-port?)"
        ) from None
    except (TooLarge, OSError, ValueError) as exc:
        raise UserError(f"mark: {run_dir / ENDPOINT_FILE}: not readable ({exc})") from None
    if not isinstance(d, dict) or not isinstance(d.get("run_id"), str):
        raise UserError(f"mark: {run_dir / ENDPOINT_FILE}: expected {{url, run_id}}")
    return _loopback_url(d.get("url"), str(run_dir / ENDPOINT_FILE)), d["run_id"]


def _loopback_url(url: Any, shown: str) -> str:
    from surgeproof.errors import UserError

    parts = urlsplit(url) if isinstance(url, str) else None
    try:
        loopback = parts is not None and ipaddress.ip_address(parts.hostname or "").is_loopback
        port = parts.port if parts is not None else None
    except ValueError:
        loopback, port = False, None
    if not loopback or parts is None or parts.scheme != "http" or port is None:
        raise UserError(
            f"mark: {shown[:200]}: expected a loopback mark endpoint like "
            "http://127.0.0.1:PORT/mark (marks never leave this host)"
        )
    return f"http://{parts.hostname}:{port}/mark"


def _call(url: str, body: bytes | None) -> tuple[int, Any]:
    """(HTTP status, JSON answer) of a GET (no body) or POST; never through a proxy."""
    import urllib.error
    import urllib.request

    from surgeproof.errors import UserError

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    req.add_header("Content-Type", "application/json")
    try:
        with opener.open(req, timeout=TIMEOUT_S) as resp:
            status, raw = resp.status, resp.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(MAX_ANSWER_BYTES)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"mark: {url}: cannot reach the run ({reason})") from None
    try:
        return status, json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return status, None
