"""The ceiling bracket contains the true ceiling of a queueing model with a known capacity;
generator-bound levels never move it; closed-model data are judged by the throughput plateau."""

import pytest
from synthetic import Level, QueueModel, queue_run, usl_run

from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]


@pytest.mark.parametrize(
    ("model", "users", "sources"),
    [
        (QueueModel(workers=4, service_s=0.025, rate_per_user=2.0), [30, 50, 70, 78, 84, 100], 1),
        (QueueModel(workers=8, service_s=0.040, rate_per_user=1.0), [100, 150, 190, 210, 260], 2),
        (QueueModel(workers=2, service_s=0.010, rate_per_user=5.0), [10, 25, 35, 45, 60], 1),
    ],
)
def test_bracket_contains_the_true_ceiling(tmp_path, model, users, sources):
    queue_run(tmp_path / "r", model, [Level(u) for u in users], sources=sources)
    c = analyze_run(tmp_path / "r", slos=SLOS)["ceiling"]
    assert c["status"] == "bracketed"
    assert c["last_pass"]["users"] <= model.capacity_users < c["first_fail"]["users"]
    assert c["failed_first"]["metric"] in {"p99", "achieved_rps"}


def test_generator_bound_levels_are_listed_inconclusive_and_do_not_move_the_bracket(tmp_path):
    model = QueueModel()  # ceiling 80 users
    levels = [
        Level(40),
        Level(60, generator_bound=True),
        Level(75),
        Level(120),
        Level(70, generator_bound=True),
    ]
    queue_run(tmp_path / "r", model, levels)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    c = a["ceiling"]
    assert (c["last_pass"]["users"], c["first_fail"]["users"]) == (75, 120)
    assert [i["users"] for i in c["inconclusive"]] == [60, 70]
    assert c["generator_bound"] and a["generator"]["bottleneck"]
    assert "generator was the bottleneck" in a["generator"]["statement"]
    assert [lv["verdict"] for lv in a["levels"]] == [
        "pass",
        "inconclusive",
        "pass",
        "fail",
        "inconclusive",
    ]


def test_only_passing_levels_give_a_lower_bound(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(10), Level(20), Level(40)])
    c = analyze_run(tmp_path / "r", slos=SLOS)["ceiling"]
    assert c["status"] == "lower_bound"
    assert c["last_pass"]["users"] == 40 and c["first_fail"] is None


def test_closed_model_past_the_plateau_fails_and_the_caveat_is_stated(tmp_path):
    # Throughput rises to ~100 req/s by 40 users, then stays flat: latency alone would pass.
    usl_run(tmp_path / "r", [5, 10, 20, 40, 60, 80], sigma=0.3, kappa=0.0, lam=10.0)
    a = analyze_run(tmp_path / "r", slos=[Slo("*", "p99", 10_000.0)])
    assert a["input"]["load_model"] == "closed"
    assert a["ceiling"]["plateau"]["detected"]
    assert a["ceiling"]["first_fail"] is not None
    assert any("closed-model data understate overload" in c for c in a["data_quality"]["caveats"])
