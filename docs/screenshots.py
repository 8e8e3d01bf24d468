"""Refresh the README's pictures: the live dashboard during the demo, the report's first screen.

    python docs/screenshots.py            # runs `surgeproof demo` (about 4 minutes, 2 cores)

It starts the real demo (embedded exchange on loopback) with its dashboard on a free port, takes
a headless-Chromium screenshot of the dashboard in the panic phase, waits for the demo to end and
takes one of the report's first screen. The demo's terminal output is kept beside the pictures
(``docs/images/demo-output.txt``), so the README can quote what it printed. On a shared machine,
run it under the machine's CPU lock (``flock /tmp/surgeproof-cpu.lock python docs/screenshots.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shoot(url: str, out: Path, size: str, profile: Path, budget_ms: int = 5000) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--virtual-time-budget={budget_ms}",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"wrote {out}", flush=True)


def _t0(run_dir: Path) -> int:
    try:
        return int(json.loads((run_dir / "run.json").read_text())["t0_ns"])
    except (OSError, ValueError, KeyError):
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "images")
    ap.add_argument("--at", type=float, default=40.0, help="seconds into the run for the shot")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="surgeproof-shots-"))
    port = _free_port()
    cmd = [sys.executable, "-m", "surgeproof.cli", "demo", "--reports-dir", str(work)]
    cmd += ["--dashboard", str(port)]
    started = time.monotonic()
    demo = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            print(line, end="", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while not any("live dashboard on" in line for line in lines):
        if demo.poll() is not None:
            sys.exit("the demo ended before its dashboard started")
        time.sleep(0.2)
    url = re.search(r"(http://\S+/)", next(x for x in lines if "live dashboard on" in x)).group(1)
    run_dir = next(p for p in work.iterdir() if p.is_dir())
    while not _t0(run_dir) or time.time_ns() < _t0(run_dir) + args.at * 1e9:
        time.sleep(0.2)
    _shoot(url, args.out / "dashboard.png", "1400,1500", work / "profile")
    demo.wait(timeout=900)
    reader.join(5)
    took = time.monotonic() - started
    report = run_dir / "report.html"
    _shoot(report.as_uri(), args.out / "report-first-screen.png", "1280,1000", work / "profile")
    text = "".join(lines).replace(str(work), "reports")
    (args.out / "demo-output.txt").write_text(text + f"\n(took {took:.0f} s)\n")
    print(f"demo took {took:.0f} s", flush=True)
    return demo.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
