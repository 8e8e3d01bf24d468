"""Roles follow the phase's mix across users; the state survives the trip to a worker."""

from collections import Counter

from surgeproof.load.state import LoadState, role_for
from surgeproof.scenario.model import RetryPolicy


def test_roles_honour_the_mix_shares():
    mix = {"market_watcher": 0.6, "app_user": 0.3, "api_bot": 0.1}
    counts = Counter(role_for(uid, mix) for uid in range(1, 1001))
    assert abs(counts["market_watcher"] - 600) <= 5
    assert abs(counts["app_user"] - 300) <= 5
    assert abs(counts["api_bot"] - 100) <= 5


def test_a_user_keeps_its_role_while_the_mix_is_unchanged():
    mix = {"market_watcher": 0.5, "panic_seller": 0.5}
    assert all(role_for(u, mix) == role_for(u, dict(mix)) for u in range(200))


def test_state_round_trips_through_a_message():
    st = LoadState(
        12.5, 2, "panic", {"panic_seller": 1.0}, 2.0, 0.9, RetryPolicy(4, 0.0, 2.0), 1, False
    )
    assert LoadState.from_message(st.to_message()) == st
