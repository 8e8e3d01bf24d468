"""EU MiFID II RTS 7, Art. 11: capacity for at least twice the highest message rate of the
previous five years (``mifid-rts7: 1200/s``).

Source: Commission Delegated Regulation (EU) 2017/584 (RTS 7), Article 11 — a trading venue's
systems must accommodate at least twice the highest number of messages per second recorded on
them over the previous five years. The figure is the user's (the venue's own five-year peak, in
requests per second, real scale); the capacity is the throughput the run achieved at its
measured ceiling (the last level that held every SLO), scaled back to real requests with the
run's user scale (each simulated user stands for that many real ones at the same rate).

Met when that throughput reaches twice the peak. Not met when the users of the first level that
failed above the ceiling asked for at most twice the peak (no load that held the SLOs was served
faster), or no level held the SLOs at all. Not demonstrated (inconclusive) when twice the peak
lies between the two, or above every level measured.
"""

from __future__ import annotations

from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements.kind import Evidence, Judged, RequirementKind

#: The multiple of the five-year peak message rate the capacity must reach (Art. 11).
MULTIPLE = 2.0


class MifidRts7(RequirementKind):
    name = "mifid-rts7"
    rule = "capacity >= 2 x the highest message rate of the previous five years"
    source = "EU Commission Delegated Regulation (EU) 2017/584 (MiFID II RTS 7), Art. 11"
    order = 10
    example = "mifid-rts7: 1200/s"

    def parse(self, f: Field) -> Requirement:
        return Requirement(kind=self.name, options=(("peak_rps", f.rate()),))

    def from_settings(self, d: dict[str, Any]) -> Requirement:
        return self.parse(Field("settings", "requirements.peak_rps", d["peak_rps"]))

    def text(self, req: Requirement) -> str:
        return f"{self.name}: {_peak(req):g}/s"

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        peak = _peak(req)
        return (
            f"capacity >= {MULTIPLE:g} x {peak:,.0f} req/s = {MULTIPLE * peak:,.0f} req/s "
            f"(MiFID II RTS 7 Art. 11)"
        )

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        peak = _peak(req)
        required = MULTIPLE * peak
        name = f"MiFID II RTS 7 Art. 11: capacity >= {MULTIPLE:g} x {peak:,.0f} req/s"
        limit = f">= {required:,.0f} req/s (real)"
        said = f"{name} ({required:,.0f} req/s)"
        have, above = ev.ceiling_rps_real, ev.first_fail_rps_real
        figures = {"required_rps": required, "ceiling_rps_real": have, "first_fail_rps": above}
        measured = (
            f"{have:,.0f} req/s at the ceiling ({ev.ceiling_real:,.0f} {ev.real_words})"
            if have is not None and ev.ceiling_real is not None
            else "no ceiling"
        )
        if have is not None and have >= required:
            reason = f"met: {said}; the ceiling achieved {have:,.0f} req/s"
            return Judged("pass", name, measured, limit, "", reason, figures)
        if above is not None and above <= required:
            note = f"the first level that failed asked for {above:,.0f} req/s"
            status, reason = "fail", f"not met: {said}; {note}"
        elif have is None and ev.ceiling_status == "upper_bound":
            note = "no level held the SLOs: even the lowest measured level failed"
            status, reason = "fail", f"not met: {said}; {note}"
        elif above is not None:
            note = (
                f"between the last pass ({have or 0:,.0f} req/s) and the first fail "
                f"({above:,.0f} req/s): measure finer"
            )
            status, reason = "inconclusive", f"not demonstrated: {said}; {note}"
        else:
            note = "no level at or above the required rate was measured: measure higher"
            status, reason = "inconclusive", f"not demonstrated: {said}; {note}"
        return Judged(status, name, measured, limit, note, reason, figures)


def _peak(req: Requirement) -> float:
    peak = req.option("peak_rps")
    if peak is None:
        raise ValueError("mifid-rts7 requirement without 'peak_rps'")
    return peak


KIND = MifidRts7()
