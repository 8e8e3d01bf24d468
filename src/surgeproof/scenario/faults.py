"""A scenario's ``faults:``: what breaks when, on the scenario's clock.

```yaml
faults:
  - name: failover              # optional (default fault-1, fault-2, ...)
    at: 30m                     # scenario time, scaled with the timeline like every other
    command: ./failover.sh --to standby   # or [./failover.sh, --to, standby]; no shell
    timeout: 2m                 # real time the command may take (default 5m)
  - at: 45m
    shell: "kubectl delete pod -l app=matching && sleep 5"   # explicitly through /bin/sh -c
  - {at: 50m, target_outage: 3m}   # the embedded exchange killed, restarted 3m later (scaled)
  - {at: 55m, gateway_crash: 1}    # its websocket gateway 1 SIGKILLed
  - {at: 60m, stall: 10s}          # a surgeproof exchange answering nothing for 10s (scaled)
```
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from surgeproof.scenario.fields import Field

KINDS = ("command", "shell", "target_outage", "gateway_crash", "stall")
FAULT_KEYS = ("name", "at", "timeout", *KINDS)
#: A fault command's default and largest timeout (real seconds).
DEFAULT_TIMEOUT_S = 300.0
MAX_TIMEOUT_S = 24 * 3600.0
MAX_GATEWAY = 63


@dataclass(frozen=True)
class FaultSpec:
    """One fault of a scenario; times in scenario seconds (the run scales them)."""

    at_s: float
    kind: str  # "command" | "target-outage" | "gateway-crash" | "stall"
    name: str
    argv: tuple[str, ...] = ()
    shell: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S  # real seconds (commands only)
    seconds: float = 0.0  # outage / stall length, scenario seconds
    gateway: int = 0


def parse_faults(f: Field) -> tuple[FaultSpec, ...]:
    """The ``faults`` list; each entry names exactly one kind."""
    out = []
    names: set[str] = set()
    for i, item in enumerate(f.items(), start=1):
        spec = item.fields(FAULT_KEYS, required=("at",))
        kinds = [k for k in KINDS if k in spec]
        if len(kinds) != 1:
            raise item.error("expected exactly one of " + ", ".join(KINDS))
        kind = kinds[0]
        name = spec["name"].text() if "name" in spec else f"fault-{i}"
        if name in names:
            raise spec["name"].error(f"a second fault named {name!r}")
        names.add(name)
        at_s = spec["at"].duration(positive=False)
        if at_s < 0:
            raise spec["at"].expected("a time from the timeline's start, not before it")
        if "timeout" in spec and kind not in ("command", "shell"):
            raise spec["timeout"].error("only a command or shell fault has a timeout")
        timeout = (
            spec["timeout"].duration(maximum=MAX_TIMEOUT_S)
            if "timeout" in spec
            else DEFAULT_TIMEOUT_S
        )
        k = spec[kind]
        if kind == "command":
            out.append(FaultSpec(at_s, "command", name, _argv(k), timeout_s=timeout))
        elif kind == "shell":
            out.append(FaultSpec(at_s, "command", name, shell=k.text(), timeout_s=timeout))
        elif kind == "target_outage":
            out.append(FaultSpec(at_s, "target-outage", name, seconds=k.duration()))
        elif kind == "stall":
            out.append(FaultSpec(at_s, "stall", name, seconds=k.duration()))
        else:
            out.append(FaultSpec(at_s, "gateway-crash", name, gateway=k.integer(
                minimum=0, maximum=MAX_GATEWAY)))  # fmt: skip
    return tuple(out)


def _argv(f: Field) -> tuple[str, ...]:
    """A command's words: a list of them, or text split as a shell splits (nothing expanded)."""
    if isinstance(f.value, list):
        words = [w.text() for w in f.items()]
    elif isinstance(f.value, str) and "\x00" not in f.value:
        try:
            words = shlex.split(f.value)
        except ValueError as exc:
            raise f.error(f"cannot split the command into words ({exc})") from None
    else:
        raise f.expected("a command: text, or a list of words")
    if not words:
        raise f.expected("a command: the program, then its arguments")
    return tuple(words)
