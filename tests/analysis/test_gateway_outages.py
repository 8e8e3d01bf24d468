"""Websocket gateway outages: each gateway death with its replacement, the sessions lost with it,
how many came back and how fast, and the reconnect attempts it caused."""

from __future__ import annotations

import numpy as np

from surgeproof.analysis.amplification import Amplification, Returns
from surgeproof.analysis.gateway_outages import gateway_outage_sentence, gateway_outages

NS = 1_000_000_000
T0_NS = 1_700_000_000 * NS
N_WINDOWS = 30


def at(t_s: float) -> int:
    return T0_NS + round(t_s * NS)


def amplification(
    lost_at_s: list[float], back_after_s: list[float], reconnects: dict[int, int]
) -> Amplification:
    """One-second windows; losses and returns as given; ``reconnects``: window → attempts."""
    zeros = np.zeros(N_WINDOWS, np.int64)
    ok = zeros.copy()
    for w, n in reconnects.items():
        ok[w] = n
    return Amplification(
        t0_ns=T0_NS,
        window_s=1.0,
        groups=[],
        first=zeros,
        resends=zeros,
        resends_failed=zeros,
        group_first=np.zeros(1, np.int64),
        group_resends=np.zeros(1, np.int64),
        group_failed=np.zeros(1, np.int64),
        max_http_attempt=0,
        reconnects_ok=ok,
        reconnects_failed=zeros,
        users_reconnected=0,
        max_ws_attempt=0,
        returns=Returns(
            lost_ns=np.array([at(t) for t in lost_at_s], np.int64),
            back_after_s=np.array(back_after_s, np.float64),
        ),
    )


def down(t_s, gateway=0, pid=500, cause="injected", **kw):
    return {"type": "gateway_down", "t_ns": at(t_s), "gateway": gateway, "pid": pid,
            "cause": cause, **kw}  # fmt: skip


def up(t_s, gateway=0, pid=600, down_s=None):
    return {"type": "gateway_up", "t_ns": at(t_s), "gateway": gateway, "pid": pid,
            "down_s": down_s}  # fmt: skip


def test_the_sessions_lost_after_a_death_are_its_own_and_their_returns_its_toll():
    # Three sessions lost just after the kill at 10 s, one lost long before (not this outage's).
    amp = amplification(
        [4.0, 10.01, 10.02, 10.5], [1.0, 1.0, 2.0, 3.0], reconnects={4: 1, 10: 5, 11: 2, 13: 1}
    )
    events = [down(10, signal="SIGKILL"), up(10.8, down_s=0.8)]
    [o] = gateway_outages(events, amp)
    assert (o["gateway"], o["down_ns"], o["up_ns"]) == (0, at(10), at(10.8))
    assert (o["t_down_s"], o["t_up_s"], o["down_s"]) == (10.0, 10.8, 0.8)
    assert o["cause"] == "injected SIGKILL" and o["pids"] == {"down": 500, "up": 600}
    assert (o["sessions_lost"], o["sessions_back"], o["never_back"]) == (3, 3, 0)
    assert o["resubscribe_s"]["p50"] == 2.0 and o["resubscribe_s"]["max"] == 3.0
    # From the window of the death to the one in which the last session was back (13.5 s).
    assert o["reconnect_attempts"] == 5 + 2 + 1
    assert gateway_outage_sentence(o) == (
        "websocket gateway 0 killed at t=10 s (injected): serving again 0.8 s later; "
        "3 sessions lost, 3 back (median 2.0 s, p95 2.9 s), 8 reconnect attempts"
    )


def test_a_session_that_never_came_back_counts_reconnects_to_the_end_of_the_data():
    amp = amplification([20.1, 20.2], [1.0, np.nan], reconnects={20: 2, 25: 4, 29: 1})
    [o] = gateway_outages([down(20)], amp)
    assert (o["sessions_lost"], o["sessions_back"], o["never_back"]) == (2, 1, 1)
    assert o["up_ns"] is None and o["down_s"] is None and o["pids"]["up"] is None
    assert o["reconnect_attempts"] == 7
    assert gateway_outage_sentence(o).startswith(
        "websocket gateway 0 killed at t=20 s (injected): not serving again before the run ended; "
        "2 sessions lost, 1 back"
    )


def test_a_gateway_that_died_on_its_own_is_an_outage_like_an_injected_one():
    amp = amplification([8.2], [0.6], reconnects={8: 1})
    events = [down(8, gateway=1, cause="died", last_exit="killed by SIGKILL"), up(8.5, 1)]
    [o] = gateway_outages(events, amp)
    assert o["cause"] == "died (killed by SIGKILL)" and o["gateway"] == 1
    assert o["down_s"] == 0.5  # no down_s on the event: up − down
    assert gateway_outage_sentence(o) == (
        "websocket gateway 1 died at t=8 s (killed by SIGKILL): serving again 0.5 s later; "
        "1 session lost, 1 back (median 0.6 s, p95 0.6 s), 1 reconnect attempt"
    )


def test_a_death_the_exchange_noticed_late_keeps_the_losses_its_watchers_saw_first():
    # The supervisor stamped the death at 8 s; its watchers' sockets closed at 7.6 s (a busy
    # machine). A loss 2 s before is not this death's, nor one in a previous death's window.
    amp = amplification([3.5, 6.0, 7.6, 7.7], [0.5, 0.5, 0.6, 0.6], reconnects={7: 2})
    events = [down(8, gateway=1, cause="died"), up(8.5, 1)]
    [o] = gateway_outages(events, amp)
    assert (o["sessions_lost"], o["sessions_back"], o["down_ns"]) == (2, 2, at(8))
    assert o["reconnect_attempts"] == 2  # from the window its losses began in
    earlier = [down(3, gateway=0, cause="injected"), *events]
    first, second = gateway_outages(earlier, amp)
    assert first["sessions_lost"] == 1  # 3.5 s: within the first death's 3 s
    assert second["sessions_lost"] == 2  # 6.0 s is in neither: 3 s after the first, 2 s early
    injected = gateway_outages([down(8, gateway=1), up(8.5, 1)], amp)[0]
    assert injected["sessions_lost"] == 0  # a kill the run made is stamped before its losses


def test_two_deaths_close_together_split_the_losses_and_pair_their_own_replacements():
    # Gateway 0 dies at 5 s, gateway 1 at 6 s, within LOSS_WINDOW_S of the first: the losses
    # after 6 s are gateway 1's.
    amp = amplification([5.1, 5.2, 6.1], [0.5, 0.5, 0.5], reconnects={5: 2, 6: 1})
    events = [down(5, 0, 100), down(6, 1, 101), up(5.6, 0, 200), up(6.7, 1, 201)]
    first, second = gateway_outages(events, amp)
    assert (first["gateway"], first["sessions_lost"], first["pids"]["up"]) == (0, 2, 200)
    assert (second["gateway"], second["sessions_lost"], second["pids"]["up"]) == (1, 1, 201)


def test_a_gateway_that_died_twice_pairs_each_death_with_the_replacement_after_it():
    amp = amplification([], [], reconnects={})
    events = [down(3, pid=1), up(3.5, pid=2), down(9, pid=2), up(10, pid=3)]
    a, b = gateway_outages(events, amp)
    assert (a["pids"], b["pids"]) == ({"down": 1, "up": 2}, {"down": 2, "up": 3})
    assert (a["sessions_lost"], a["resubscribe_s"], a["reconnect_attempts"]) == (0, None, 0)
    assert "0 sessions lost, 0 reconnect attempts" in gateway_outage_sentence(a)


def test_no_gateway_events_no_gateway_outages():
    assert (
        gateway_outages([{"type": "target_down", "t_ns": at(1)}], amplification([], [], {})) == []
    )
