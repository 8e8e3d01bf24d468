"""A run directory whose names and labels were written by someone hostile (imported by the tests).

Its step levels, scenario name, run id, endpoint names, dialect name, phase and SLO group carry
raw HTML, a Markdown image and link, bare URLs, table pipes, newlines with Markdown after them,
backtick fences, ESC/CSI/OSC sequences and bidi overrides: what a crafted ``run.json``,
``events.jsonl`` or records name table can hold. The numbers are the step runs' known truth.
"""

from __future__ import annotations

import json
from pathlib import Path

from report import stepruns

#: Terminal attacks: clear screen, window title, an OSC 8 hyperlink, clipboard, a C1 CSI, bidi.
TERMINAL = "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://attacker.invalid/\x1b\\link\x1b]8;;\x1b\\"
TERMINAL += "\x1b]52;c;ZXZpbA==\x07\x9b31m\u202eevil\u202c\r"


def hostile(field: str) -> str:
    """One field's hostile value; ``field`` keeps it findable in the outputs."""
    return (
        f"{field}<script>alert(1)</script> ![x](http://attacker.invalid/p.png) "
        f"[click](http://attacker.invalid/) www.attacker.invalid a|b|c `tick` <!-- "
        f"\n# injected heading\n| x | y |\n```\n<img src=x onerror=alert(1)>{TERMINAL}"
    )


#: The fields a hostile run fills, by name.
FIELDS = ("level", "scenario", "runid", "endpoint", "dialect", "phase", "target")


def write_hostile_run(path: Path) -> Path:
    """A complete, analysable run directory at ``path`` with every FIELDS value hostile."""
    names = stepruns.ENDPOINTS
    stepruns.ENDPOINTS = ((hostile("endpoint"), "login"), ("GET /v1/ticker", "quotation"))
    try:
        stepruns.write_step_run(path)
    finally:
        stepruns.ENDPOINTS = names
    events = path / "events.jsonl"
    lines = []
    for line in events.read_text().splitlines():
        event = json.loads(line)
        if event.get("type") == "level":
            event["label"] = hostile("level") + event["label"]
        lines.append(json.dumps(event))
    first = json.loads(lines[0])
    phase = {"t_ns": first["t_ns"], "type": "phase", "phase": hostile("phase"), "index": 0}
    lines.insert(1, json.dumps(phase))
    events.write_text("\n".join(lines) + "\n")
    scenario = path / "scenario.yaml"  # comments that try to close report.md's code fence
    fence_breaker = "description: |\n  ```\n  <script>alert(1)</script>\n  ````\n  ![x](y)\n"
    scenario.write_text(
        scenario.read_text().replace(
            "description: Synthetic steps for the gate tests.\n", fence_breaker
        )
    )
    meta = json.loads((path / "run.json").read_text())
    meta["scenario_name"] = hostile("scenario")
    meta["scenario"]["name"] = hostile("scenario")
    meta["run_id"] = hostile("runid")
    meta["dialect"] = {"name": hostile("dialect"), "source": hostile("dialect")}
    meta["target"]["url"] = "http://127.0.0.1:40000/" + hostile("target")
    (path / "run.json").write_text(json.dumps(meta, indent=2))
    return path
