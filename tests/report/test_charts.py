"""Fault windows on the charts: outages and worker-loss shortfalls are drawn over the
concurrency and error charts, and the captions say what the hatching means."""

import copy

import pytest
from faultruns import write_fault_run

from surgeproof.analysis.freshness import current_analysis
from surgeproof.report.charts import concurrency_chart, errors_chart


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    analysis = current_analysis(write_fault_run(tmp_path_factory.mktemp("faults") / "f"))
    clean = copy.deepcopy(analysis)
    clean["incidents"]["target_outages"] = []
    clean["data_quality"]["shortfall_windows"] = []
    return analysis, clean


@pytest.mark.parametrize("draw", [concurrency_chart, errors_chart])
def test_fault_windows_are_drawn_and_explained(analyses, draw):
    faulty, clean = analyses
    with_faults, without = draw(faulty), draw(clean)
    assert with_faults.png != without.png  # the hatching is on the picture
    assert "Dark hatching: the target was down" in with_faults.caption
    assert "Blue hatching: a generator worker was lost" in with_faults.caption
    assert "hatching" not in without.caption


@pytest.mark.parametrize("draw", [concurrency_chart, errors_chart])
def test_the_caption_explains_only_the_hatching_that_was_drawn(analyses, draw):
    faulty, _ = analyses
    outage_only = copy.deepcopy(faulty)
    outage_only["data_quality"]["shortfall_windows"] = []
    worker_only = copy.deepcopy(faulty)
    worker_only["incidents"]["target_outages"] = []
    caption = draw(outage_only).caption
    assert "target was down" in caption and "worker was lost" not in caption
    caption = draw(worker_only).caption
    assert "worker was lost" in caption and "target was down" not in caption


def test_a_target_that_never_came_back_is_hatched_to_the_end(analyses):
    faulty, _ = analyses
    open_ended = copy.deepcopy(faulty)
    open_ended["incidents"]["target_outages"][0]["t_up_s"] = None
    assert concurrency_chart(open_ended).png != concurrency_chart(faulty).png
