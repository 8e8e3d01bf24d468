"""Refused worker-channel messages in analysis.json: counted from the master's rate-limited
events, named per peer and reason, and a caveat — while every figure stays what the records say."""

from faults import add_events, at
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.refusals import MAX_ENTRIES, refusal_caveat, refused_messages
from surgeproof.analysis.run import analyze_run


def refusal(peer, reason, count, t_s, *, message="surgeproof_batch", claimed=None):
    return {
        "t_ns": at(t_s),
        "type": "fleet_refused",
        "peer": peer,
        "claimed_source": claimed,
        "message": message,
        "reason": reason,
        "why": f"why {reason}",
        "count": count,
        "total": count,
        "first_ns": at(t_s),
        "last_ns": at(t_s),
    }


def test_refusals_are_summed_per_key_and_surface_as_a_caveat_without_touching_figures(tmp_path):
    run = tmp_path / "r"
    queue_run(run, QueueModel(), [Level(20)])
    before = analyze_run(run)
    add_events(
        run,
        refusal("evil_1", "unauthenticated", 1, 3.0, claimed="local"),
        refusal("evil_1", "unauthenticated", 499, 63.0, claimed="local"),
        refusal("w_2", "replay", 1, 5.0, claimed="worker-ab12cd34"),
    )
    after = analyze_run(run)
    r = after["data_quality"]["refused_messages"]
    assert r["messages"] == 501 and r["peers"] == 2
    assert r["by_reason"] == {"unauthenticated": 500, "replay": 1}
    first = r["entries"][0]
    assert (first["peer"], first["claimed_source"], first["count"]) == ("evil_1", "local", 500)
    assert (first["first_t_s"], first["last_t_s"]) == (3.0, 63.0)
    [caveat] = [c for c in after["data_quality"]["caveats"] if "refused" in c]
    assert caveat.startswith("the master refused 501 worker-channel message(s) from 2 peer(s)")
    assert "unauthenticated 500, replay 1" in caveat
    # Nothing they carried is in the figures: the rest of the analysis is unchanged.
    for key in ("levels", "ceiling", "overall", "input", "verdict"):
        assert after[key] == before[key]
    assert before["data_quality"]["refused_messages"]["messages"] == 0
    assert not any("refused" in c for c in before["data_quality"]["caveats"])


def test_crafted_refusal_events_are_bounded_and_bad_counts_ignored():
    events = [
        refusal(f"peer-{i}", "unauthenticated", 1, 1.0, claimed="\x1b[2J" + "x" * 500)
        for i in range(MAX_ENTRIES + 10)
    ]
    events.append({**refusal("p", "bad_mac", 1, 1.0), "count": "many"})
    events.append({**refusal("p", "bad_mac", 1, 1.0), "count": True})
    r = refused_messages(events, at(0))
    assert r["messages"] == MAX_ENTRIES + 10 and len(r["entries"]) == MAX_ENTRIES + 1
    assert r["entries"][-1]["peer"] == "(others)" and r["entries"][-1]["count"] == 10
    claimed = r["entries"][0]["claimed_source"]
    assert claimed.startswith("?[2J") and len(claimed) == 67
    assert refusal_caveat(refused_messages([], None)) is None
