"""Couriers: each call runs in a greenlet of its own, and a greenlet whose call ended carries the
next one instead of ending; a killed courier is never handed a call again."""

from __future__ import annotations

import gevent
import gevent.event

from surgeproof.load.users.couriers import Couriers


def wait_until(cond, within_s: float = 10) -> None:
    with gevent.Timeout(within_s):
        while not cond():
            gevent.sleep(0.005)


def test_a_call_runs_in_another_greenlet_after_the_caller_yields():
    couriers = Couriers()
    ran: list = []
    couriers.run(lambda x: ran.append((x, gevent.getcurrent())), 7)
    assert ran == []  # run() only hands the call over
    wait_until(lambda: ran)
    assert ran[0][0] == 7 and ran[0][1] is not gevent.getcurrent()


def test_one_after_another_calls_reuse_one_greenlet():
    couriers = Couriers()
    seen: list = []
    for i in range(5):
        couriers.run(lambda i: seen.append((i, gevent.getcurrent())), i)
        wait_until(lambda n=i + 1: len(seen) == n and couriers.parked == 1)
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    assert len({id(g) for _, g in seen}) == 1 and couriers.alive == 1


def test_a_burst_gets_a_courier_per_call_and_only_the_spares_stay_parked():
    couriers = Couriers(spare=3)
    release = gevent.event.Event()
    running: list = []

    def call(i: int) -> None:
        running.append(gevent.getcurrent())
        release.wait()

    for i in range(10):
        couriers.run(call, i)
    wait_until(lambda: len(running) == 10)
    assert len({id(g) for g in running}) == 10 and couriers.alive == 10
    release.set()
    wait_until(lambda: couriers.alive == 3)
    assert couriers.parked == 3


def test_a_courier_killed_in_its_call_is_not_reused():
    couriers = Couriers()
    started = gevent.event.Event()
    carriers: list = []

    def hangs() -> None:
        carriers.append(gevent.getcurrent())
        started.set()
        gevent.sleep(60)

    couriers.run(hangs)
    started.wait(10)
    carriers[0].kill()  # as the end of a run cancels calls still in flight
    assert couriers.alive == 0 and couriers.parked == 0
    couriers.run(lambda: carriers.append(gevent.getcurrent()))
    wait_until(lambda: len(carriers) == 2)
    assert carriers[1] is not carriers[0] and not carriers[1].dead


def test_a_courier_killed_while_parked_is_never_handed_a_call():
    couriers = Couriers()
    carriers: list = []
    couriers.run(lambda: carriers.append(gevent.getcurrent()))
    wait_until(lambda: couriers.parked == 1)
    carriers[0].kill()
    assert couriers.parked == 0 and couriers.alive == 0
    couriers.run(lambda: carriers.append(gevent.getcurrent()))
    wait_until(lambda: len(carriers) == 2)
    assert carriers[1] is not carriers[0]


def test_a_failing_call_is_reported_and_its_courier_carries_the_next(capsys):
    couriers = Couriers()
    done: list = []

    def fails() -> None:
        raise ValueError("one call's bug")

    couriers.run(fails)
    wait_until(lambda: couriers.parked == 1)
    couriers.run(lambda: done.append(True))
    wait_until(lambda: done)
    assert couriers.alive == 1
    assert "one call's bug" in capsys.readouterr().err
