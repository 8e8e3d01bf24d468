"""Judge a step-search level with the analyzer's ``judge_level`` (pure, over the run directory)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from surgeproof.scenario.model import Slo


def level_judge(
    run_dir: Path, slos: tuple[Slo, ...]
) -> Callable[[int, int, int, str], tuple[str, list[str]]]:
    """A judge for ``SearchProgram``: (start_ns, end_ns, users, label) → (verdict, reasons)."""
    from surgeproof.analysis import judge_level

    def judge(start_ns: int, end_ns: int, users: int, label: str) -> tuple[str, list[str]]:
        v = judge_level(run_dir, start_ns, end_ns, slos, target_users=float(users), label=label)
        return str(v.verdict), [str(r) for r in v.reasons]

    return judge
