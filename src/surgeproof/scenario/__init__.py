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
    StepSearch,
    SurgePhase,
    UsersExpr,
)
from surgeproof.scenario.plan import (
    Plan,
    ResolvedPhase,
    ResolvedRequirement,
    ResolvedSearch,
    resolve,
)

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
    "UsersExpr",
    "list_scenarios",
    "load_profile",
    "load_scenario",
    "resolve",
    "scenarios_dir",
]
