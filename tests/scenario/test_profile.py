"""Capacity profiles: the FSS figures with units and sources, validated."""

import pytest

from surgeproof.scenario import ScenarioError, load_profile


@pytest.mark.parametrize(
    ("name", "normal", "peak", "expanded", "unit"),
    [
        ("upbit", 500_000, 540_000, 900_000, "concurrent users"),
        ("bithumb", 100_000, 236_000, 360_000, "concurrent users"),
        ("coinone", 100_000, 370_000, 500_000, "concurrent orders"),
    ],
)
def test_shipped_profiles_hold_the_published_figures(name, normal, peak, expanded, unit):
    profile = load_profile(name)
    assert profile.name == name
    assert [profile.figures[k].value for k in ("normal", "peak", "expanded")] == [
        normal,
        peak,
        expanded,
    ]
    for fig in profile.figures.values():
        assert fig.unit == unit
        assert "FSS" in fig.source and "6 Feb 2025" in fig.source
        assert fig.label


def test_a_figure_without_a_source_is_refused(write_yaml):
    path = write_yaml("name: p\nfigures:\n  normal: {value: 10, unit: concurrent users}\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml: figures\.normal\.source: required"):
        load_profile(path)


def test_an_unknown_unit_is_refused(write_yaml):
    path = write_yaml("name: p\nfigures:\n  normal: {value: 10, unit: people, source: me}\n")
    with pytest.raises(ScenarioError, match=r"figures\.normal\.unit: expected one of"):
        load_profile(path)


def test_unknown_profile_name_suggests_the_close_one():
    with pytest.raises(ScenarioError, match="did you mean 'upbit'"):
        load_profile("upbti")
