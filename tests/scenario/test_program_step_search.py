"""The step-to-break search: coarse steps to the first failure, bisection to the resolution; a
level cut short by a lost worker is held again (a bounded number of times), not counted as a
failure."""

from surgeproof.scenario import load_scenario, resolve
from surgeproof.scenario.programs import Judgement
from surgeproof.scenario.programs.step_search import (
    Bracket,
    JudgedLevel,
    SearchProgram,
    bracket_of,
    counted,
    holds_in_a_row,
    next_level,
    rehold_due,
)


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


# -- a level cut short by a lost worker ----------------------------------------------------------


def cut(users: int) -> JudgedLevel:
    """A level during which a worker was lost: inconclusive, and cut short."""
    return JudgedLevel(users, "inconclusive", cut_short=True)


def test_a_level_cut_short_is_held_again_instead_of_ending_the_climb():
    levels = [JudgedLevel(10, "pass"), cut(15)]
    assert next_level(levels, 10, 1000, 1.5, 0.05) == 15
    # Held again, it passes: the search climbs on as if the cut hold had never happened.
    levels.append(JudgedLevel(15, "pass"))
    assert bracket_of(levels) == Bracket(15, None)
    assert next_level(levels, 10, 1000, 1.5, 0.05) == 22


def test_a_level_cut_short_then_failing_brackets_on_the_failing_hold():
    levels = [JudgedLevel(10, "pass"), JudgedLevel(15, "pass"), cut(22), JudgedLevel(22, "fail")]
    assert bracket_of(levels) == Bracket(15, 22)
    assert next_level(levels, 10, 1000, 1.5, 0.05) == 18


def test_a_level_is_held_again_at_most_max_reholds_times_then_the_search_stops_climbing():
    levels = [JudgedLevel(10, "pass"), cut(15), cut(15)]
    assert next_level(levels, 10, 1000, 1.5, 0.05, max_reholds=2) == 15
    levels.append(cut(15))  # the third hold of 15, cut short again: give up on it
    assert holds_in_a_row(levels) == 3 and not rehold_due(levels, 2)
    # It stays inconclusive and counts as not passing: the bracket's top, never climbed past.
    assert bracket_of(levels) == Bracket(10, 15)
    assert next_level(levels, 10, 1000, 1.5, 0.05, max_reholds=2) == 12


def test_no_reholds_allowed_keeps_todays_rule():
    levels = [JudgedLevel(10, "pass"), cut(15)]
    assert next_level(levels, 10, 1000, 1.5, 0.05, max_reholds=0) == 12


def test_an_inconclusive_level_not_cut_short_is_never_held_again():
    # Generator-bound, say: the safe rule, not a re-hold.
    levels = [JudgedLevel(10, "pass"), JudgedLevel(15, "inconclusive")]
    assert not rehold_due(levels)
    assert next_level(levels, 10, 1000, 1.5, 0.05) == 12


def test_a_search_losing_a_worker_once_brackets_as_an_undisturbed_one():
    ceiling = 57

    def drive(cut_at: int | None) -> list[JudgedLevel]:
        levels: list[JudgedLevel] = []
        while (nxt := next_level(levels, 10, 1000, 1.5, 0.05)) is not None:
            assert len(levels) < 50
            if nxt == cut_at and not any(lv.users == cut_at for lv in levels):
                levels.append(cut(nxt))
            else:
                levels.append(JudgedLevel(nxt, "pass" if nxt <= ceiling else "fail"))
        return levels

    clean = drive(None)
    lossy = drive(33)  # a coarse step below the ceiling
    assert any(lv.cut_short for lv in lossy)
    assert bracket_of(lossy) == bracket_of(clean)
    assert [lv.users for lv in counted(lossy)] == [lv.users for lv in clean]


# -- the search program: labels, events and metadata of a re-hold --------------------------------

SEARCH = """\
name: search
description: A step search for the program's own bookkeeping.
model: open
search:
  start: 10
  max: 40
  step_factor: 2
  settle: 1s
  hold: 4s
  resolution: 5%
  mix: {app_user: 1.0}
"""


class ScriptedJudge:
    """Judges level N by ``script[N]`` (verdict, short_of); users run again when ``restored``."""

    def __init__(self, script: list[tuple[str, tuple[str, ...]]]) -> None:
        self.script = script
        self.calls: list[tuple[int, int, int, str]] = []
        self.restored = True

    def __call__(self, start_ns: int, end_ns: int, users: int, label: str) -> Judgement:
        verdict, short_of = self.script[len(self.calls)]
        self.calls.append((start_ns, end_ns, users, label))
        reasons = [f"offered load fell short: worker {s} was lost" for s in short_of]
        return Judgement(verdict, reasons or [f"{verdict} at {users}"], short_of)

    def load_restored(self) -> bool:
        return self.restored


def play(program: SearchProgram, until_s: float, from_s: float = 0.2) -> list[dict]:
    """Tick the program like the conductor does (every 0.2 s) and collect its events."""
    events = []
    t = from_s
    while t < until_s and program.users_for_tick(t) is not None:
        program.advance(t, 0)
        events += program.events_until(t, 0)
        t = round(t + 0.2, 6)
    return events


def _program(tmp_path, judge: ScriptedJudge, max_reholds: int = 2) -> SearchProgram:
    path = tmp_path / "search.yaml"
    path.write_text(SEARCH)
    plan = resolve(load_scenario(path))
    return SearchProgram(plan.program, judge, judge_delay_s=1.0, max_reholds=max_reholds)


def test_the_program_holds_a_cut_level_again_under_its_own_label(tmp_path):
    lost = ("worker-b7",)
    judge = ScriptedJudge([("pass", ()), ("inconclusive", lost), ("pass", ()), ("pass", ())])
    program = _program(tmp_path, judge)
    events = play(program, 200)
    assert [c[3] for c in judge.calls] == ["level-1", "level-2", "level-2 (again)", "level-3"]
    assert [c[2] for c in judge.calls] == [10, 20, 20, 40]
    levels = [e for e in events if e["type"] == "level"]
    assert [e["label"] for e in levels] == [c[3] for c in judge.calls]
    assert levels[1]["short_of"] == ["worker-b7"] and "short_of" not in levels[2]
    again = next(e for e in events if e["type"] == "phase" and e["name"] == "level-2 (again)")
    assert again["again_of"] == "level-2" and "worker-b7" in again["reason"]
    summary = program.summary()
    assert summary["complete"] and summary["gave_up"] == []
    assert summary["bracket"] == {"last_pass": 40, "first_fail": None, "width": None}
    assert [lv["short_of"] for lv in summary["levels"]] == [[], ["worker-b7"], [], []]


def test_the_program_waits_for_the_lost_users_before_the_held_again_window(tmp_path):
    judge = ScriptedJudge([("pass", ()), ("inconclusive", ("worker-b7",)), ("pass", ())] * 2)
    program = _program(tmp_path, judge)
    judge.restored = False  # the lost worker's users are not running yet
    play(program, 15.0)  # level-2 is judged at 12.2 s (1 s settle, 4 s hold, 1 s delay, twice)
    assert len(judge.calls) == 2
    judge.restored = True
    play(program, 22.0, from_s=15.0)
    # The re-hold's window starts one settle after its users ran again (15 s), not one settle
    # after the cut level was judged (12.2 s).
    assert judge.calls[2][3] == "level-2 (again)"
    assert judge.calls[2][0] == 16_000_000_000


def test_the_program_gives_up_after_the_last_rehold_and_says_why(tmp_path):
    lost = ("worker-b7",)
    script = [("pass", ()), ("inconclusive", lost), ("inconclusive", lost), ("inconclusive", lost)]
    judge = ScriptedJudge(script + [("pass", ())] * 5)
    program = _program(tmp_path, judge)
    events = play(program, 300)
    labels = [c[3] for c in judge.calls]
    assert labels[:4] == ["level-1", "level-2", "level-2 (again)", "level-2 (again, hold 3)"]
    assert all(users < 20 for _, _, users, _ in judge.calls[4:])  # never climbed past it
    [limit] = [e for e in events if e["type"] == "rehold_limit"]
    assert limit["label"] == "level-2 (again, hold 3)" and limit["holds"] == 3
    assert "worker-b7" in limit["reason"] and "climbs no higher" in limit["reason"]
    summary = program.summary()
    assert summary["gave_up"] == [{k: limit[k] for k in ("label", "users", "holds", "reason")}]
    assert summary["bracket"]["first_fail"] == 20


def test_every_judged_window_is_exactly_the_hold_long_in_nanoseconds(tmp_path):
    # The window's two ends were once truncated from float seconds separately, which made some
    # 4-s holds 3.999999999 s long (and the analysis called them too short to judge).
    lengths = set()
    for start_s in (0.2, 3.2, 11.4):
        judge = ScriptedJudge([("pass", ())] * 8)
        play(_program(tmp_path, judge), 60, from_s=start_s)
        lengths |= {end - start for start, end, _, _ in judge.calls}
    assert lengths == {4_000_000_000}
