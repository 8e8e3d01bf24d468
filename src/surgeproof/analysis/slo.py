"""Judging group statistics against SLOs; the default SLOs; SLO files given with ``--slo``.

The one judging rule for every SLO kind: a group is judged on an SLO only when its samples
decide it (:func:`decides`), and breaks it when its value lies past the limit in the kind's
direction. What the value is, what counts as a sample and how many are needed are the kind's
(``surgeproof.scenario.slos``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surgeproof.analysis.groupstats import ALL_GROUPS, GroupStats
from surgeproof.analysis.judging import Judging
from surgeproof.errors import UserError
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of

#: Used only when neither the scenario nor ``--slo`` names any; stated as a caveat when used.
DEFAULT_SLOS: tuple[Slo, ...] = (Slo("*", "p99", 1000.0), Slo("*", "error_ratio", 0.01))


@dataclass(frozen=True)
class SloBreach:
    """One SLO broken on one group, with the measured value."""

    slo: Slo
    group: str
    value: float
    #: Seconds from the start of the judged window to the first 1-s window where it broke.
    first_s: float | None = None

    @property
    def metric(self) -> str:
        return self.slo.metric

    @property
    def limit(self) -> float:
        return self.slo.limit

    @property
    def unit(self) -> str:
        return kind_of(self.slo).unit

    def describe(self) -> str:
        """``orders p99 2340.0 ms > 800 ms``."""
        return kind_of(self.slo).describe(self.group, self.slo, self.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": str(self.slo),
            "group": self.group,
            "metric": self.metric,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "first_s": self.first_s,
        }


def groups_of(slo: Slo, stats: dict[str, GroupStats]) -> list[str]:
    """The groups an SLO applies to: its own, or each group separately for ``*``.

    ``*`` means "every endpoint group, each on its own" (never all traffic pooled): one small
    group failing badly breaks it even when the pooled figure would hold.
    """
    if slo.group == ALL_GROUPS:
        return sorted(g for g in stats if g != ALL_GROUPS)
    return [slo.group]


def breaks(slo: Slo, value: Any) -> Any:
    """The one SLO comparison (scalars or numpy arrays): ``value`` lies past ``slo``'s limit in
    its kind's direction (NaN never breaks)."""
    return kind_of(slo).breaks(slo, value)


def samples_of(stats: GroupStats | None, slo: Slo) -> int:
    """What ``slo`` is judged on in ``stats`` (its kind says: calls, latency samples, ...)."""
    return kind_of(slo).samples(slo, stats)


def decides(stats: GroupStats | None, slo: Slo, judging: Judging) -> bool:
    """Whether ``stats`` holds enough to judge ``slo``: ``judging.samples_for`` samples, or a breach
    that no missing sample could undo.

    Below the minimum a pass cannot be claimed, but an error ratio whose errors alone exceed the
    limit of the minimum number of calls (``errors > limit × need``) breaks it whatever the calls
    it lacks would have answered: a user who cannot log in at all is a failure at any volume.
    One error alone still never breaks a 1% limit (``1 > 0.01 × 100`` is false). Which kinds
    can break early, and how, is the kind's ``certain_breach``.
    """
    n = samples_of(stats, slo)
    need = judging.samples_for(slo)
    if n >= need:
        return True
    if stats is None or n == 0:
        return False
    return kind_of(slo).certain_breach(slo, stats, need)


def judged_groups(slo: Slo, stats: dict[str, GroupStats], judging: Judging) -> list[str]:
    """The groups of ``stats`` whose samples decide ``slo`` (see :func:`decides`)."""
    return [g for g in groups_of(slo, stats) if decides(stats.get(g), slo, judging)]


def evaluate(
    slos: Sequence[Slo], stats: dict[str, GroupStats], judging: Judging
) -> tuple[list[SloBreach], list[str]]:
    """(breaches, texts of SLOs not judged for too few samples) of ``stats`` under ``slos``.

    A group is judged on an SLO only when its samples decide it (:func:`decides`).
    """
    breaches: list[SloBreach] = []
    unjudged: list[str] = []
    for slo in slos:
        judged = judged_groups(slo, stats, judging)
        for group in groups_of(slo, stats):
            g = stats.get(group)
            if group not in judged:
                need = judging.samples_for(slo)
                unjudged.append(f"{slo} on {group} ({samples_of(g, slo)} samples, needs {need})")
                continue
            value = kind_of(slo).value(slo, g) if g is not None else None
            if value is not None and breaks(slo, value):
                breaches.append(SloBreach(slo, group, float(value)))
    return breaches, unjudged


def slo_dict(slo: Slo, source: str) -> dict[str, Any]:
    """The ``slos`` entry of analysis.json."""
    out: dict[str, Any] = {
        "group": slo.group,
        "metric": slo.metric,
        "limit": slo.limit,
        "unit": kind_of(slo).unit,
        "text": str(slo),
        "source": source,
    }
    if slo.options:
        out["options"] = dict(slo.options)
    return out


def load_slo_file(path: str | Path) -> tuple[Slo, ...]:
    """SLOs from a YAML file: ``slos: [{group: orders, p99: 800ms}, ...]`` or the bare list; each
    entry parsed as a scenario's (any group name: a Locust run's groups are its own)."""
    from surgeproof.scenario.fields import Field
    from surgeproof.scenario.parse import parse_slo_entry
    from surgeproof.scenario.yamlfile import read_yaml

    doc, source = read_yaml(path)
    entries = doc.get("slos") if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{source}: expected a list of SLOs under 'slos:'")
    out: list[Slo] = []
    for f in Field(source, "slos", entries).items():
        if not isinstance(f.value, dict) or not isinstance(f.value.get("group"), str):
            raise UserError(
                f"{source}: {f.path}: expected a mapping with a 'group', like "
                "{group: orders, p99: 800ms}"
            )
        out.extend(parse_slo_entry(f, None))
    return tuple(out)
