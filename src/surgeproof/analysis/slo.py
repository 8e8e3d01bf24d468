"""Judging group statistics against SLOs; the default SLOs; SLO files given with ``--slo``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surgeproof.analysis.groupstats import ALL_GROUPS, GroupStats
from surgeproof.analysis.judging import Judging
from surgeproof.errors import UserError
from surgeproof.scenario.model import Slo

#: Used only when neither the scenario nor ``--slo`` names any; stated as a caveat when used.
DEFAULT_SLOS: tuple[Slo, ...] = (Slo("*", "p99", 1000.0), Slo("*", "error_ratio", 0.01))

SLO_METRICS = ("p50", "p90", "p95", "p99", "p99.9", "max", "error_ratio")


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
        return "ratio" if self.slo.metric == "error_ratio" else "ms"

    def describe(self) -> str:
        """``orders p99 2340.0 ms > 800 ms``."""
        if self.slo.metric == "error_ratio":
            return f"{self.group} error_ratio {self.value:.2%} > {self.slo.limit:.2%}"
        return f"{self.group} {self.slo.metric} {self.value:.1f} ms > {self.slo.limit:g} ms"

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


def over_limit(value: Any, limit: float) -> Any:
    """The one SLO comparison (scalars or numpy arrays): a value above its limit breaks it."""
    return value > limit


def samples_of(stats: GroupStats | None, slo: Slo) -> int:
    """What ``slo`` is judged on in ``stats``: calls for an error ratio, latency samples else."""
    if stats is None:
        return 0
    if slo.metric == "error_ratio":
        return stats.count
    return stats.count - int(stats.errors.get("backlogged", 0))


def decides(stats: GroupStats | None, slo: Slo, judging: Judging) -> bool:
    """Whether ``stats`` holds enough to judge ``slo``: ``judging.samples_for`` samples, or a breach
    that no missing sample could undo.

    Below the minimum a pass cannot be claimed, but an error ratio whose errors alone exceed the
    limit of the minimum number of calls (``errors > limit × need``) breaks it whatever the calls
    it lacks would have answered: a user who cannot log in at all is a failure at any volume.
    One error alone still never breaks a 1% limit (``1 > 0.01 × 100`` is false).
    """
    n = samples_of(stats, slo)
    need = judging.samples_for(slo)
    if n >= need:
        return True
    if stats is None or slo.metric != "error_ratio" or stats.error_ratio is None or n == 0:
        return False
    errors = stats.error_ratio * n
    return errors > slo.limit * need + 1e-9


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
            value = g.metric(slo.metric) if g is not None else None
            if value is not None and over_limit(value, slo.limit):
                breaches.append(SloBreach(slo, group, float(value)))
    return breaches, unjudged


def slo_dict(slo: Slo, source: str) -> dict[str, Any]:
    """The ``slos`` entry of analysis.json."""
    return {
        "group": slo.group,
        "metric": slo.metric,
        "limit": slo.limit,
        "unit": "ratio" if slo.metric == "error_ratio" else "ms",
        "text": str(slo),
        "source": source,
    }


def load_slo_file(path: str | Path) -> tuple[Slo, ...]:
    """SLOs from a YAML file: ``slos: [{group: orders, p99: 800ms}, ...]`` or the bare list."""
    from surgeproof.scenario.units import parse_latency_ms, parse_ratio
    from surgeproof.scenario.yamlfile import read_yaml

    doc, source = read_yaml(path)
    entries = doc.get("slos") if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{source}: expected a list of SLOs under 'slos:'")
    out: list[Slo] = []
    for i, entry in enumerate(entries):
        where = f"{source}: slos[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("group"), str):
            raise UserError(
                f"{where}: expected a mapping with a 'group', like {{group: orders, p99: 800ms}}"
            )
        metrics = [k for k in entry if k != "group"]
        unknown = [k for k in metrics if k not in SLO_METRICS]
        if unknown or not metrics:
            raise UserError(
                f"{where}: expected metrics among {', '.join(SLO_METRICS)}, got "
                f"{', '.join(map(str, unknown)) or 'none'}"
            )
        for m in metrics:
            try:
                limit = parse_ratio(entry[m]) if m == "error_ratio" else parse_latency_ms(entry[m])
            except ValueError as exc:
                raise UserError(f"{where}.{m}: {exc}") from None
            out.append(Slo(entry["group"], m, limit))
    return tuple(out)
