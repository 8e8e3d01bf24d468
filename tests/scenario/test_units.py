"""Durations, latencies, rates, ratios and scale factors read as people write them."""

import pytest

from surgeproof.scenario.units import (
    format_duration,
    parse_duration,
    parse_latency_ms,
    parse_rate,
    parse_ratio,
    parse_scale,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("1h30m15s", 5415), (90, 90), ("45", 45),
     ("250ms", 0.25), ("2h", 7200), ("1.5m", 90)],
)  # fmt: skip
def test_durations_in_the_usual_forms(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "m5", "30m1h", "5m5m", "five minutes", True])
def test_durations_that_are_not(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_latency_plain_numbers_are_milliseconds():
    assert parse_latency_ms("800ms") == 800
    assert parse_latency_ms("1.5s") == 1500
    assert parse_latency_ms(250) == 250


def test_rates_per_second():
    assert parse_rate("500/s") == 500
    assert parse_rate("30000/min") == 500
    assert parse_rate(12) == 12
    with pytest.raises(ValueError):
        parse_rate("500 per second")


def test_ratios_from_fractions_and_percentages():
    assert parse_ratio("1%") == pytest.approx(0.01)
    assert parse_ratio(0.05) == 0.05


def test_scale_factors_as_fractions():
    assert parse_scale("1/24") == pytest.approx(1 / 24)
    assert parse_scale("0.001") == pytest.approx(0.001)
    for bad in ("0", "-1/2", "1/0", "fast"):
        with pytest.raises(ValueError):
            parse_scale(bad)


@pytest.mark.parametrize("seconds", [5400, 300, 42, 2.5, 3661])
def test_formatted_durations_read_back(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)
