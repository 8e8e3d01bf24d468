"""A report showing SLO-breach windows beside its verdict says why they did not decide it."""

from types import SimpleNamespace

from surgeproof.analysis.breaches import explain_breaches
from surgeproof.scenario.model import Slo

NS = 1_000_000_000
WS = Slo("websocket", "p99", 1000.0)
ORDERS = Slo("orders", "p99", 500.0)


def level(start_s, end_s, verdict, gap_ms=None):
    """A judged level as the builder holds it (only what the rule reads)."""
    gaps = {"p50": gap_ms} if gap_ms is not None else None
    return SimpleNamespace(
        start_ns=start_s * NS, end_ns=end_s * NS, verdict=verdict, ws_gap_ms=gaps
    )


def window(start_s, end_s, *slos):
    return {"start_ns": start_s * NS, "end_ns": end_s * NS, "slos_broken": [str(s) for s in slos]}


def series(users):
    """Offered users per 1-s window from t=0."""
    return {
        "window_s": 1.0,
        "start_ns": [i * NS for i in range(len(users))],
        "offered_users": users,
    }


def explain(windows, levels, users, verdict="pass"):
    incidents = {"breach_windows": windows}
    explain_breaches(incidents, levels, series(users), [WS, ORDERS], verdict)
    return incidents


def test_breaches_inside_a_failing_level_are_the_failure_and_need_no_note():
    inc = explain([window(12, 14, ORDERS)], [level(10, 20, "fail")], [50] * 30, "fail")
    assert inc["breach_windows"][0]["context"] == "failing level"
    assert inc["breach_note"] is None


def test_a_breach_during_a_ramp_outside_the_levels_is_said_to_be_so():
    users = [10] * 10 + [10 + 5 * i for i in range(10)] + [60] * 10
    inc = explain([window(13, 15, ORDERS)], [level(2, 10, "pass"), level(22, 30, "pass")], users)
    assert inc["breach_windows"][0]["context"] == "ramp"
    assert inc["breach_note"] == (
        "1 SLO-breach window beside the PASS: 1 during a ramp, outside the judged levels."
    )


def test_a_websocket_limit_within_the_feed_cadence_breaks_on_the_cadence_not_on_load():
    levels = [level(0, 10, "pass", gap_ms=1004.0), level(10, 20, "pass", gap_ms=998.0)]
    inc = explain([window(3, 4, WS), window(15, 16, WS)], levels, [20] * 20)
    assert [w["context"] for w in inc["breach_windows"]] == ["cadence", "cadence"]
    assert inc["feed_cadence_ms"] == 1001.0
    assert inc["breach_note"] == (
        "2 SLO-breach windows beside the PASS: 2 on the websocket feed's cadence (a data "
        "message about every 1.0 s, so a first message waits that long at any load)."
    )
    # A limit well above the cadence breaks on load: no excuse.
    fast = [level(0, 10, "pass", gap_ms=200.0)]
    assert explain([window(3, 4, WS)], fast, [20] * 20)["breach_windows"][0]["context"] == (
        "passing level"
    )


def test_one_line_for_several_contexts():
    users = [10] * 6 + [15] + [20] * 13
    levels = [level(10, 20, "pass"), level(0, 4, "inconclusive")]
    inc = explain(
        [window(12, 13, ORDERS), window(2, 3, ORDERS), window(6, 7, ORDERS)], levels, users
    )
    assert [w["context"] for w in inc["breach_windows"]] == [
        "passing level",
        "inconclusive level",
        "ramp",
    ]
    note = inc["breach_note"]
    assert note.startswith("3 SLO-breach windows beside the PASS: 1 inside a level that held")
    assert note.count(";") == 2 and note.endswith("during a ramp, outside the judged levels.")
