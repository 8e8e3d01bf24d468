"""Judge a step-search level with the analyzer's ``judge_level`` (pure, over the run directory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surgeproof.scenario.model import Slo
from surgeproof.scenario.programs import Judgement


@dataclass
class LevelJudge:
    """A program's judge (``scenario.programs.Judge``) over the run directory being written."""

    run_dir: Path
    slos: tuple[Slo, ...]
    #: The levels judged so far: the saturation rule compares each level with them.
    judged: list[Any] = field(default_factory=list)
    #: The run's record and timeline index, extended at each level by what was appended since:
    #: judging a level reads that level's window, not the run so far.
    index: Any = None

    def __call__(self, start_ns: int, end_ns: int, users: int, label: str) -> Judgement:
        from surgeproof.analysis import judge_level
        from surgeproof.analysis.levels import RunIndex

        if self.index is None:
            self.index = RunIndex()

        v = judge_level(
            self.run_dir,
            start_ns,
            end_ns,
            self.slos,
            target_users=float(users),
            label=label,
            earlier=tuple(self.judged),
            index=self.index,
        )
        self.judged.append(v)
        return Judgement(str(v.verdict), [str(r) for r in v.reasons], tuple(v.short_of))

    def load_restored(self) -> bool:
        """Every lost worker's users run again (a ``rebalanced`` event followed each loss)."""
        from surgeproof.analysis.shortfall import shortfall_windows
        from surgeproof.rundir.reader import read_events, read_meta

        events, _ = read_events(self.run_dir)
        return all(w.end_ns is not None for w in shortfall_windows(read_meta(self.run_dir), events))


def level_judge(run_dir: Path, slos: tuple[Slo, ...]) -> LevelJudge:
    """The judge the conductor hands to the program."""
    return LevelJudge(Path(run_dir), tuple(slos))
