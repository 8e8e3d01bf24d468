"""The process's call clock: every user's next call in one heap, handed over in due order, never
before its time, with the intended time it was set for; nothing handed over while held."""

from __future__ import annotations

import gevent
import gevent.event

from surgeproof.load.recorder import now_ns
from surgeproof.load.users.call_clock import CallClock, DueCalls

MS = 1_000_000


def note(into: list, name: str):
    """A call that notes its name, the intended time it was handed and when it was handed."""
    return lambda intended: into.append((name, intended, now_ns()))


def test_due_calls_come_out_earliest_first_and_ties_in_the_order_they_were_set():
    calls = DueCalls()
    got: list = []
    for name, at in (("c", 30), ("a", 10), ("b1", 20), ("b2", 20), ("d", 40)):
        calls.add(at, note(got, name))
    assert len(calls) == 5
    while (item := calls.take(now=35)) is not None:
        at, call = item
        call(at)
    assert [(n, at) for n, at, _ in got] == [("a", 10), ("b1", 20), ("b2", 20), ("c", 30)]
    assert len(calls) == 1 and calls.next_at() == 40


def test_nothing_comes_out_before_its_time():
    calls = DueCalls()
    calls.add(100, note([], "x"))
    assert calls.take(now=99) is None
    assert calls.take(now=100) is not None and calls.take(now=10**12) is None


def test_a_cancelled_call_never_comes_out_and_no_longer_counts():
    calls = DueCalls()
    first = calls.add(10, note([], "first"))
    calls.add(20, note([], "second"))
    calls.cancel(first)
    calls.cancel(first)  # twice is once
    calls.cancel(None)  # a user with nothing set
    assert len(calls) == 1 and calls.next_at() == 20
    at, _call = calls.take(now=30)
    assert at == 20 and calls.take(now=30) is None and len(calls) == 0
    assert not first.pending


def test_the_clock_hands_each_call_its_intended_time_in_due_order_and_never_early():
    clock = CallClock()
    got: list = []
    t0 = now_ns()
    # Set out of order, the later one first: the clock, asleep until it, must wake for the earlier.
    clock.at(t0 + 120 * MS, note(got, "late"))
    clock.at(t0 + 20 * MS, note(got, "early"))
    clock.at(t0 + 60 * MS, note(got, "middle"))
    with gevent.Timeout(10):
        while len(got) < 3:
            gevent.sleep(0.01)
    assert [n for n, _, _ in got] == ["early", "middle", "late"]
    assert [intended - t0 for _, intended, _ in got] == [20 * MS, 60 * MS, 120 * MS]
    assert all(handed >= intended for _, intended, handed in got)
    assert len(clock) == 0


def test_a_user_setting_its_next_call_from_its_hand_over_keeps_its_schedule():
    clock = CallClock()
    intended: list[int] = []
    t0 = now_ns()

    def on_due(at: int) -> None:
        intended.append(at)
        if len(intended) < 5:
            clock.at(at + 10 * MS, on_due)  # from the intended time, not from when it ran

    clock.at(t0, on_due)
    with gevent.Timeout(10):
        while len(intended) < 5:
            gevent.sleep(0.01)
    assert [at - t0 for at in intended] == [0, 10 * MS, 20 * MS, 30 * MS, 40 * MS]


def test_while_held_nothing_is_handed_over_and_then_it_comes_with_its_first_time():
    hold = gevent.event.Event()
    hold.set()
    clock = CallClock(held=hold.is_set)
    got: list = []
    t0 = now_ns()
    clock.at(t0, note(got, "due at once"))
    gevent.sleep(0.3)
    assert got == [] and len(clock) == 1
    hold.clear()
    with gevent.Timeout(10):
        while not got:
            gevent.sleep(0.01)
    assert got[0][:2] == ("due at once", t0)


def test_one_calls_fault_does_not_stop_the_others(capsys):
    clock = CallClock()
    got: list = []

    def broken(at: int) -> None:
        raise RuntimeError("a bug in one user")

    t0 = now_ns()
    clock.at(t0, broken)
    clock.at(t0 + 1, note(got, "next user"))
    with gevent.Timeout(10):
        while not got:
            gevent.sleep(0.01)
    assert got[0][0] == "next user"
    assert "a bug in one user" in capsys.readouterr().err


def test_a_call_cancelled_before_its_time_is_never_handed_over():
    clock = CallClock()
    got: list = []
    t0 = now_ns()
    gone = clock.at(t0 + 30 * MS, note(got, "left the run"))
    clock.at(t0 + 60 * MS, note(got, "stayed"))
    clock.cancel(gone)
    with gevent.Timeout(10):
        while not got:
            gevent.sleep(0.01)
    gevent.sleep(0.05)
    assert [n for n, _, _ in got] == ["stayed"]
