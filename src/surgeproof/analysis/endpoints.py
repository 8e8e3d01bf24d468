"""Whole-run statistics per endpoint name, per group and for all groups, from one pass.

Samples are keyed by endpoint; the same sorted samples are then re-keyed to their group and to
one key, so the per-group and all-groups percentiles are exact order statistics too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from surgeproof.analysis.groupstats import ALL_GROUPS, GroupStats, KeyedStats
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scan import RecordScan
from surgeproof.analysis.shards import RecordPass


def overall_stats(scan: RecordScan) -> tuple[dict[str, dict[str, Any]], dict[str, GroupStats]]:
    """(``overall.endpoints`` entries by endpoint name, GroupStats by group plus ``*``)."""
    p = scan.run(OverallPass(scan))
    stats = p.stats
    per_name = stats.results()
    stats.coarsen()
    per_group = stats.results()
    stats.coarsen()
    everything = stats.results()
    stats.release()

    endpoints: dict[str, dict[str, Any]] = {}
    for k, st in sorted(per_name.items(), key=lambda kv: (-kv[1].count, scan.names[kv[0]])):
        group = scan.groups[int(scan.name_group[k])]
        key = scan.names[k]
        if key in endpoints:  # one name declared under two groups: keep both, apart
            key = f"{key} [{group}]"
        endpoints[key] = {"group": group, **st.to_dict()}
    groups = {scan.groups[k]: st for k, st in per_group.items()}
    if groups:
        groups[ALL_GROUPS] = everything[0]
    return endpoints, groups


class OverallPass(RecordPass):
    """Per endpoint name (then group, then all): outcomes and exact percentiles."""

    parts = ("stats",)

    def __init__(self, scan: RecordScan) -> None:
        census = scan.census()
        n_names = max(len(scan.names), 1)
        n_groups = max(len(scan.groups), 1)
        self.stats = KeyedStats(
            n_names,
            census.counted,
            (census.latency, census.service),
            coarser=[
                (scan.name_group[:n_names].astype(np.int64), n_groups),
                (np.zeros(n_groups, dtype=np.int64), 1),
            ],
            execution=scan.execution,
        )

    def feed(self, s: Samples, first: bool) -> None:
        self.stats.add(s, s.name.astype(np.int64), tally=first)
