"""Where scenarios and profiles live, and loading them by name or by path."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import CapacityProfile, Scenario
from surgeproof.scenario.parse import parse_scenario
from surgeproof.scenario.profile import parse_profile
from surgeproof.scenario.yamlfile import display_path, read_yaml

#: Environment variable naming the scenarios folder (with ``profiles/`` inside).
ENV_VAR = "SURGEPROOF_SCENARIOS"


def scenarios_dir() -> Path:
    """$SURGEPROOF_SCENARIOS, else the repository's ``scenarios/`` beside ``src/``."""
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise ScenarioError(f"${ENV_VAR}", "", f"expected a folder, got {env!r}")
        return path
    # src/surgeproof/scenario/catalog.py → the checkout's root is three folders up from here.
    path = Path(__file__).resolve().parents[3] / "scenarios"
    if not path.is_dir():
        raise ScenarioError(
            "scenarios", "", f"built-in scenarios not found at {path}; set ${ENV_VAR}"
        )
    return path


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every built-in scenario, sorted by name."""
    out = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        scenario = load_scenario(path)
        first = scenario.description.split(". ")[0].rstrip(".")
        out.append((scenario.name, first + "." if first else ""))
    return sorted(out)


def load_scenario(ref: str | Path) -> Scenario:
    """A validated scenario from a YAML path, or a built-in name like ``martial-law-2024-12-03``."""
    path = _find(ref, scenarios_dir(), "scenario")
    doc, source = read_yaml(path)
    return parse_scenario(doc, source, lambda f: _profile_for(f, path))


def load_profile(ref: str | Path) -> CapacityProfile:
    """A capacity profile from a YAML path, or a name like ``upbit`` (``profiles/upbit.yaml``)."""
    path = _find(ref, scenarios_dir() / "profiles", "profile")
    doc, source = read_yaml(path)
    return parse_profile(doc, source)


def profile_of(scenario: Scenario) -> CapacityProfile | None:
    """The profile a scenario names, looked up the way ``load_scenario`` did; None if none."""
    if scenario.profile is None:
        return None
    base = Path(scenario.source_path) if scenario.source_path else scenarios_dir() / "x.yaml"
    where = Field(scenario.source_path or scenario.name, "profile", scenario.profile)
    return _profile_for(where, base)


def _profile_for(f: Field, scenario_path: Path) -> CapacityProfile:
    """A profile named in a scenario: a path beside it, its folder's ``profiles/``, or built in."""
    ref = f.text()
    if _looks_like_path(ref):
        path = (scenario_path.parent / ref) if not Path(ref).is_absolute() else Path(ref)
        if not path.is_file():
            raise f.expected("an existing profile file")
        return load_profile(path)
    for folder in (scenario_path.parent / "profiles", scenarios_dir() / "profiles"):
        candidate = folder / f"{ref}.yaml"
        if candidate.is_file():
            return load_profile(candidate)
    known = _names(scenarios_dir() / "profiles")
    close = difflib.get_close_matches(ref, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScenarioError(
        f.source, f.path, f"expected a known profile ({', '.join(known)}), got {ref!r}{hint}"
    )


def _find(ref: str | Path, folder: Path, kind: str) -> Path:
    if isinstance(ref, Path) or _looks_like_path(str(ref)):
        return Path(ref)
    candidate = folder / f"{ref}.yaml"
    if candidate.is_file():
        return candidate
    known = _names(folder)
    close = difflib.get_close_matches(str(ref), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
    raise ScenarioError(str(ref), "", f"no such {kind} file or built-in {kind} name{hint}")


def _looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or os.sep in ref


def _names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


__all__ = ["display_path", "list_scenarios", "load_profile", "load_scenario", "scenarios_dir"]
