"""The step-to-break search: coarse steps to the first failure, bisection to the resolution."""

from surgeproof.load.step_search import JudgedLevel, bracket_of, next_level


def search(ceiling: int, start=10, maximum=1000, factor=1.5, resolution=0.05) -> list[int]:
    """Drive the search against a target that passes every level <= ceiling."""
    levels: list[JudgedLevel] = []
    while (nxt := next_level(levels, start, maximum, factor, resolution)) is not None:
        assert len(levels) < 50
        levels.append(JudgedLevel(nxt, "pass" if nxt <= ceiling else "fail"))
    return [lv.users for lv in levels]


def test_bracket_contains_the_ceiling_and_is_no_wider_than_the_resolution():
    for ceiling in (13, 57, 100, 333):
        levels = [JudgedLevel(u, "pass" if u <= ceiling else "fail") for u in search(ceiling)]
        b = bracket_of(levels)
        assert b.last_pass <= ceiling < b.first_fail
        assert b.first_fail - b.last_pass <= 1 or b.width <= 0.05


def test_never_goes_beyond_one_coarse_step_past_the_ceiling():
    for ceiling in (20, 57, 400):
        assert max(search(ceiling)) <= ceiling * 1.5 + 1


def test_stops_at_the_cap_when_every_level_holds():
    levels = search(10_000, maximum=100)
    assert max(levels) == 100 and len(levels) < 10


def test_inconclusive_level_is_not_climbed_on():
    levels = [JudgedLevel(10, "pass"), JudgedLevel(15, "inconclusive")]
    assert next_level(levels, 10, 1000, 1.5, 0.05) == 12


def test_first_level_failing_steps_down():
    assert next_level([JudgedLevel(30, "fail")], 30, 100, 1.5, 0.05) == 20
    assert next_level([JudgedLevel(1, "fail")], 1, 100, 1.5, 0.05) is None
