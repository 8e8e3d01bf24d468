"""The wait before a dead gateway is replaced: it doubles in a crash loop and resets after a
healthy life."""

import pytest

from surgeproof.exchange.restart_backoff import RestartBackoff, restart_delay

BACKOFF = RestartBackoff(first_s=0.5, max_s=10.0, stable_s=30.0)


def test_the_first_death_is_replaced_after_the_first_delay_however_short_its_life():
    assert restart_delay([3600.0], BACKOFF) == 0.5
    assert restart_delay([0.2], BACKOFF) == 0.5  # the original process was not a restart
    assert restart_delay([], BACKOFF) == 0.5


def test_each_quick_death_after_a_restart_doubles_the_delay_up_to_the_cap():
    lives = [100.0]
    delays = []
    for _ in range(8):
        lives.append(1.0)
        delays.append(restart_delay(lives, BACKOFF))
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0]


def test_a_replacement_that_lived_a_while_resets_the_backoff():
    crash_loop = [100.0, 1.0, 1.0, 1.0]
    assert restart_delay(crash_loop, BACKOFF) == 4.0
    assert restart_delay([*crash_loop, 30.0], BACKOFF) == 0.5
    assert restart_delay([*crash_loop, 30.0, 2.0], BACKOFF) == 1.0  # counting starts again


def test_hours_of_crash_loop_stay_at_the_cap():
    assert restart_delay([1.0] * 5000, BACKOFF) == 10.0


@pytest.mark.parametrize("first, cap", [(0.1, 0.4), (2.0, 60.0)])
def test_the_policy_is_a_parameter(first, cap):
    backoff = RestartBackoff(first_s=first, max_s=cap, stable_s=5.0)
    assert restart_delay([9.0], backoff) == first
    assert restart_delay([9.0, 1.0], backoff) == min(2 * first, cap)
    assert restart_delay([9.0] + [1.0] * 20, backoff) == cap
