"""``surgeproof run --dashboard [PORT]``: a live page served by the conductor, nothing to install.

The page (``dashboard_page/``) draws with plotly.js, which the ``plotly`` package ships in its
wheel: it is read from the installed package and served from here, so nothing is fetched from
the internet. Its data are the live merge the Prometheus exporter serves (``LiveTally``), read
every second from ``/api/state``; after the run it shows the analysis's verdict and links the
report for ``--metrics-linger`` seconds.

Hostile by default: loopback unless ``--metrics-host`` widens it, and then only requests named
for this host on loopback (no DNS rebinding); a fixed set of paths, each served from memory (no
request names a file); GET and HEAD only, no bodies, bounded request lines and queries, a
per-connection timeout and a bounded pool of connections; nothing in the state is a secret.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from surgeproof.errors import UserError
from surgeproof.load.dashboard_state import RunFacts, dashboard_state, target_label
from surgeproof.load.live_metrics import LiveTally

#: Connections served at once, and how long one may take to send its request.
MAX_CONNECTIONS = 32
REQUEST_TIMEOUT_S = 10.0
MAX_QUERY = 64
MAX_PATH = 64
#: A report larger than this is linked by its path only.
MAX_REPORT_BYTES = 64 * 1024 * 1024
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        # plotly.js adds its own style rules (it draws without eval: checked in Chromium).
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'",
    ),
]


def _asset(name: str) -> bytes:
    return (resources.files("surgeproof.load") / "dashboard_page" / name).read_bytes()


def _plotly_js() -> bytes:
    try:
        return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        raise UserError(
            "--dashboard: the plotly package (its bundled plotly.js draws the page) is not "
            "installed; pip install plotly"
        ) from None


class Dashboard:
    """The page and its data, served from a gevent server in the conductor."""

    def __init__(self, tally: LiveTally, host: str, port: int, facts: RunFacts) -> None:
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIHandler, WSGIServer

        self.tally = tally
        self.facts = facts
        self.report: bytes | None = None
        self._files = {
            "/": (_asset("index.html"), "text/html; charset=utf-8"),
            "/dashboard.js": (_asset("dashboard.js"), "text/javascript; charset=utf-8"),
            "/dashboard.css": (_asset("dashboard.css"), "text/css; charset=utf-8"),
            "/plotly.min.js": (_plotly_js(), "text/javascript; charset=utf-8"),
        }

        class Handler(WSGIHandler):
            MAX_REQUEST_LINE = 2048

            def handle(self) -> None:
                self.socket.settimeout(REQUEST_TIMEOUT_S)
                super().handle()

        self._server = WSGIServer(
            (host, port), self._route, log=None, spawn=Pool(MAX_CONNECTIONS), handler_class=Handler
        )
        try:
            self._server.init_socket()
        except OSError as exc:
            raise UserError(f"--dashboard {port}: cannot listen on {host} ({exc})") from None
        self.host, self.port = self._server.socket.getsockname()[:2]
        self.loopback_only = host in _LOOPBACK

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        self._server.start()

    def finish(self, final: dict[str, Any], report: Path | None) -> None:
        """The run's answer (the analysis's lines) and its report, for the page to show."""
        if report is not None:
            try:
                if report.stat().st_size <= MAX_REPORT_BYTES:
                    self.report = report.read_bytes()
            except OSError:
                self.report = None
        self.facts.final = {**final, "report": "/report" if self.report is not None else None}
        self.facts.finishing = False

    def close(self) -> None:
        self._server.stop(timeout=1)

    # -- requests ---------------------------------------------------------------------------

    def _route(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if not self._host_ok(environ.get("HTTP_HOST", "")):
            return _answer(start_response, "421 Misdirected Request", b"not this host\n")
        if method not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", b"GET only\n")
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") or environ.get(
            "HTTP_TRANSFER_ENCODING"
        ):
            return _answer(start_response, "413 Content Too Large", b"no request bodies\n")
        query = environ.get("QUERY_STRING", "")
        if len(query) > MAX_QUERY or len(path) > MAX_PATH:
            return _answer(start_response, "414 URI Too Long", b"query too long\n")
        body, ctype = self._body(path, query)
        if body is None:
            return _answer(start_response, "404 Not Found", b"not found\n")
        start_response(
            "200 OK",
            [("Content-Type", ctype), ("Content-Length", str(len(body))), *_SECURITY_HEADERS],
        )
        return [b"" if method == "HEAD" else body]

    def _host_ok(self, host: str) -> bool:
        """On loopback, only requests named for loopback: a page elsewhere cannot rebind a
        name of its own to 127.0.0.1 and read the run."""
        if not self.loopback_only:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.strip("[]").lower() in _LOOPBACK

    def _body(self, path: str, query: str) -> tuple[bytes | None, str]:
        if path in self._files:
            return self._files[path]
        if path == "/api/state":
            after = _after(query)
            state = dashboard_state(self.tally, self.facts, after)
            return json.dumps(state, allow_nan=False).encode(), "application/json"
        if path == "/report" and self.report is not None:
            return self.report, "text/html; charset=utf-8"
        return None, ""


def _after(query: str) -> int | None:
    """``after=N`` (seconds from t0), else None: every closed second."""
    try:
        values = parse_qs(query, max_num_fields=2).get("after") or []
        n = int(values[0]) if values else None
    except ValueError:
        return None
    return n if n is not None and -1 <= n <= 10**7 else None


def _answer(start_response: Any, status: str, body: bytes) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *_SECURITY_HEADERS],
    )
    return [body]


def open_dashboard(opts, plan, tally: LiveTally) -> Dashboard | None:
    """The dashboard ``opts`` asks for (``--dashboard``), bound but not serving yet; or None."""
    if opts.dashboard_port is None:
        return None
    facts = RunFacts(
        scenario=plan.scenario.name,
        user_scale=plan.user_scale,
        unit=_unit(plan),
        target=target_label(opts.target) if opts.target else "embedded exchange",
        dashboard_linger_s=opts.metrics_linger_s,
    )
    return Dashboard(tally, opts.metrics_host, opts.dashboard_port, facts)


def _unit(plan) -> str:
    """What real numbers count (the profile's unit: Coinone counts orders), as the analysis."""
    figures = plan.profile.figures.values() if plan.profile is not None else ()
    for fig in figures:
        if fig.unit.startswith("concurrent ") and fig.unit != "concurrent users":
            return fig.unit.removeprefix("concurrent ")
    return "users"
