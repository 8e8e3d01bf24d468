"""Windows in which offered load fell short because a generator worker was lost.

From a lost worker's last shipped batch until the survivors run its users again, the generator
offered fewer users than a level claims. Such a level measured less load than its label says: it
is inconclusive, never a pass (the target was spared) nor a fail (the numbers are not the load).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # levels.py applies this module's rule itself
    from surgeproof.analysis.level_verdict import LevelVerdict


@dataclass(frozen=True)
class ShortfallWindow:
    """``[start_ns, end_ns)`` during which the users of ``source`` were not running."""

    source: str
    lost_ns: int
    start_ns: int
    end_ns: int | None  # None: never restored before the run ended
    detected_by: str | None
    users: float | None

    def overlaps(self, start_ns: int, end_ns: int) -> bool:
        return self.start_ns < end_ns and (self.end_ns is None or start_ns < self.end_ns)

    def reason(self, t0_ns: int) -> str:
        """Why a level overlapping this window is inconclusive, naming the worker."""
        how = f", detected by {self.detected_by}" if self.detected_by else ""
        held = f" holding {self.users:g} users" if self.users is not None else ""
        until = (
            f"its users ran again at t={(self.end_ns - t0_ns) / 1e9:.1f} s"
            if self.end_ns is not None
            else "its users never ran again before the run ended"
        )
        return (
            f"offered load fell short: worker {self.source}{held} was lost at "
            f"t={(self.lost_ns - t0_ns) / 1e9:.1f} s{how}; {until}, so this level did not offer "
            "the load it says"
        )

    def to_dict(self, t0_ns: int, levels: Sequence[str]) -> dict[str, Any]:
        return {
            "source": self.source,
            "lost_ns": self.lost_ns,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "t_start_s": (self.start_ns - t0_ns) / 1e9,
            "t_end_s": (self.end_ns - t0_ns) / 1e9 if self.end_ns is not None else None,
            "short_s": (self.end_ns - self.start_ns) / 1e9 if self.end_ns is not None else None,
            "restored": self.end_ns is not None,
            "detected_by": self.detected_by,
            "users": self.users,
            "levels": list(levels),
        }


def shortfall_windows(
    meta: dict[str, Any], events: Sequence[dict[str, Any]]
) -> list[ShortfallWindow]:
    """Shortfall windows from run.json ``workers.lost[]``, else from ``worker_lost`` events.

    run.json is written at the end; a run whose master died keeps only its events, where a
    ``rebalanced`` event after the loss closes the window.
    """
    workers = meta.get("workers") if isinstance(meta.get("workers"), dict) else {}
    lost = [e for e in workers.get("lost") or [] if isinstance(e, dict)]
    if not lost:
        lost = [e for e in events if e.get("type") == "worker_lost"]
        rebalanced = sorted(
            (e for e in events if e.get("type") == "rebalanced" and _int(e.get("t_ns"))),
            key=lambda e: e["t_ns"],
        )
        lost = [
            dict(
                e,
                restored_t_ns=next(
                    (r["t_ns"] for r in rebalanced if r["t_ns"] >= e.get("t_ns", 0)), None
                ),
            )
            for e in lost
        ]
    out = []
    for e in lost:
        lost_ns = e.get("t_ns")
        if not _int(lost_ns):
            continue
        start = next((e[k] for k in ("short_from_ns", "last_batch_ns") if _int(e.get(k))), lost_ns)
        end = e.get("restored_t_ns")
        users = e.get("users")
        out.append(
            ShortfallWindow(
                source=str(e.get("source") or "unknown worker"),
                lost_ns=int(lost_ns),
                start_ns=int(min(start, lost_ns)),
                end_ns=int(end) if _int(end) else None,
                detected_by=str(e["detected_by"]) if e.get("detected_by") else None,
                users=float(users) if isinstance(users, int | float) else None,
            )
        )
    return sorted(out, key=lambda w: w.start_ns)


def apply_shortfalls(
    levels: Sequence[LevelVerdict], windows: Sequence[ShortfallWindow], t0_ns: int
) -> dict[int, list[str]]:
    """Make every level overlapping a shortfall window inconclusive; labels per window index."""
    hit: dict[int, list[str]] = {}
    for v in levels:
        reasons = []
        for i, w in enumerate(windows):
            if w.overlaps(v.start_ns, v.end_ns):
                reasons.append(w.reason(t0_ns))
                hit.setdefault(i, []).append(str(v.label))
        if not reasons:
            continue
        was = f"not counted: measured {v.verdict}: " + "; ".join(v.reasons) if v.reasons else None
        v.verdict = "inconclusive"
        v.reasons = reasons + ([was] if was else [])
        v.short_of = sorted(
            set(v.short_of) | {w.source for w in windows if w.overlaps(v.start_ns, v.end_ns)}
        )
    return hit


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
