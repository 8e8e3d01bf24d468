"""Which API a run speaks, why, and where that API's websocket is on the target.

The choice, strongest first: ``--dialect``; the scenario's ``dialect:``; the capacity profile's
(``--profile coinone`` speaks Coinone); the target config's (embedded exchange) or what a
loopback surgeproof exchange says it speaks; else Upbit's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from surgeproof.dialect.catalog import DEFAULT, builtin_names, load_dialect
from surgeproof.dialect.model import Dialect
from surgeproof.errors import UserError
from surgeproof.scenario.plan import Plan
from surgeproof.scenario.yamlfile import display_path


@dataclass(frozen=True)
class DialectChoice:
    """The dialect of a run and what chose it (said in run.json and before the run)."""

    dialect: Dialect
    chosen_by: str

    @property
    def builtin(self) -> bool:
        return self.dialect.source.startswith("builtin:")

    def meta(self) -> dict[str, Any]:
        """``run.json``'s ``dialect``: name, source, chosen by, and the file's SHA-256."""
        return {
            "name": self.dialect.name,
            "source": self.dialect.source,
            "chosen_by": self.chosen_by,
            "sha256": hashlib.sha256(self.dialect.text.encode()).hexdigest(),
        }


def choose_dialect(flag: str | None, plan: Plan, target_says: str | None) -> DialectChoice:
    """The run's dialect; a UserError (one line) when the one named cannot be loaded."""
    scenario = plan.scenario
    profile = plan.profile
    if flag:
        ref, why = flag, "--dialect"
    elif scenario.dialect:
        ref, why = scenario.dialect, "the scenario"
        # A dialect file a scenario names is found beside the scenario, and only there.
        beside = Path(scenario.source_path).parent if scenario.source_path else None
        named_in = f"{display_path(scenario.source_path or scenario.name)}: dialect"
        return DialectChoice(load_dialect(ref, beside, named_in), why)
    elif profile is not None and profile.dialect:
        ref, why = profile.dialect, f"profile {profile.name}"
    elif target_says:
        ref, why = target_says, "the target"
    else:
        ref, why = DEFAULT, "default"
    return DialectChoice(load_dialect(ref), why)


def embedded_dialect_arg(choice: DialectChoice) -> str:
    """The name the embedded exchange is started with (it speaks the built-in dialects only)."""
    if not choice.builtin:
        raise UserError(
            f"dialect {choice.dialect.name} ({choice.dialect.source}) describes an API of your "
            f"own: point --target at an exchange that speaks it (the embedded exchange speaks "
            f"{', '.join(builtin_names())})"
        )
    return choice.dialect.name


def ws_url_for(dialect: Dialect, target_url: str, ws_base: str | None) -> str | None:
    """The websocket URL market watchers subscribe at (None: the dialect describes none).

    A path is taken on the host the target's websockets are served from (``ws_base``, which the
    embedded exchange reports; else the target's own host); an absolute ``url`` is used as is
    and must pass the same target guard as ``--target``.
    """
    spec = dialect.websocket
    if spec is None:
        return None
    if spec.url:
        return spec.url
    base = urlsplit(ws_base or target_url)
    scheme = base.scheme
    if scheme in ("http", "https"):
        scheme = "wss" if scheme == "https" else "ws"
    return f"{scheme}://{base.netloc}{spec.path}"
