"""Surge scenarios: timelines, user mixes, SLOs, capacity profiles; parsing, validation, plans.

This package imports nothing else of surgeproof except ``surgeproof.errors``.
"""

from surgeproof.scenario.catalog import list_scenarios, load_profile, load_scenario, scenarios_dir
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import (
    BEHAVIOURS,
    GROUPS,
    CapacityProfile,
    ReferenceFigure,
    Requirement,
    RetryPolicy,
    Scenario,
    Slo,
    UsersExpr,
)
from surgeproof.scenario.plan import Plan, ResolvedRequirement, resolve
from surgeproof.scenario.programs.step_search import ResolvedSearch, StepSearch
from surgeproof.scenario.programs.timeline import ResolvedPhase, SurgePhase, Timeline

__all__ = [
    "BEHAVIOURS",
    "GROUPS",
    "CapacityProfile",
    "Plan",
    "ReferenceFigure",
    "Requirement",
    "ResolvedPhase",
    "ResolvedRequirement",
    "ResolvedSearch",
    "RetryPolicy",
    "Scenario",
    "ScenarioError",
    "Slo",
    "StepSearch",
    "SurgePhase",
    "Timeline",
    "UsersExpr",
    "list_scenarios",
    "load_profile",
    "load_scenario",
    "resolve",
    "scenarios_dir",
]
