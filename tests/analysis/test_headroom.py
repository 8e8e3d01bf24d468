"""The ceiling against a profile's figures: ratio, requirement, and plain sentences that state
the scale."""

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.headroom import compare_with_profile, parse_requirement
from surgeproof.analysis.run import analyze_run
from surgeproof.analysis.scale import Scale
from surgeproof.errors import UserError
from surgeproof.scenario.model import CapacityProfile, ReferenceFigure, Requirement, Slo

UPBIT = CapacityProfile(
    "upbit",
    "Upbit (Dunamu)",
    {
        "normal": ReferenceFigure("normal", 500_000, "concurrent users", "normal capacity", "FSS"),
        "peak": ReferenceFigure("peak", 540_000, "concurrent users", "3 Dec peak", "FSS"),
        "expanded": ReferenceFigure(
            "expanded", 900_000, "concurrent users", "post-expansion", "FSS"
        ),
    },
)


@pytest.mark.parametrize(
    ("text", "figure", "factor"),
    [
        ("peak*1.2", "peak", 1.2),
        ("ceiling >= peak * 1.2", "peak", 1.2),
        ("1.5*expanded", "expanded", 1.5),
        ("normal", "normal", 1.0),
    ],
)
def test_requirement_expressions(text, figure, factor):
    assert parse_requirement(text) == Requirement(figure, factor)


def test_bad_requirement_is_a_user_error():
    with pytest.raises(UserError, match="--require"):
        parse_requirement("peak +")


def test_sentences_say_headroom_and_shortfall():
    scale = Scale(user_scale=0.001)
    # The requirement on the peak figure, as its kind judged it (met).
    c = compare_with_profile(UPBIT, 707_400, {"peak": (1.2, True)}, scale)
    by = {f["key"]: f for f in c["figures"]}
    assert by["peak"]["sentence"].startswith(
        "holds the 3 Dec peak figure (540,000 concurrent users) with 31% headroom"
    )
    assert by["peak"]["passed"] is True and by["peak"]["requirement"]["required"] == 648_000
    assert by["expanded"]["sentence"].startswith("falls 21% short of the post-expansion figure")
    assert by["expanded"]["passed"] is None
    assert "1 simulated user = 1,000 real users" in c["sentence"]


def test_analysis_scales_the_ceiling_back_and_fails_an_unmet_requirement(tmp_path):
    # Ceiling 80 simulated users; at 1:10,000 the measured 75 stand for 750,000 real users.
    queue_run(tmp_path / "r", QueueModel(), [Level(40), Level(75), Level(90)], user_scale=0.0001)
    a = analyze_run(
        tmp_path / "r",
        profile=UPBIT,
        slos=[Slo("*", "p99", 500.0)],
        requirements=[parse_requirement("expanded")],
    )
    assert a["comparison"]["ceiling_real_users"] == 750_000
    assert a["verdict"]["status"] == "fail"
    assert a["verdict"]["basis"] == "requirements"
    a2 = analyze_run(
        tmp_path / "r",
        profile=UPBIT,
        slos=[Slo("*", "p99", 500.0)],
        requirements=[parse_requirement("peak*1.2")],
    )
    assert a2["verdict"]["status"] == "pass"
