"""How a run that reached its end is marked (``meta.end_status``): the one rule."""

from surgeproof.load.meta import end_status


def test_a_run_that_sent_calls_is_complete_or_partial_when_cut_short():
    assert end_status(None, records=120, sent=90) == ("complete", None)
    assert end_status("interrupted (SIGTERM)", records=120, sent=1) == (
        "partial",
        "interrupted (SIGTERM)",
    )


def test_a_run_in_which_no_call_could_be_sent_failed():
    status, why = end_status(None, records=5, sent=0)
    assert status == "failed"
    assert why == (
        "none of its 5 calls was sent: each failed before it could go "
        "(see the invalid_request, missed and backlogged counts)"
    )
    status, why = end_status("interrupted (SIGINT)", records=2_000, sent=0)
    assert status == "failed" and why.startswith("interrupted (SIGINT); none of its 2,000 calls")


def test_a_run_that_made_no_call_at_all_failed():
    assert end_status(None, records=0, sent=0) == ("failed", "no call was made")
    assert end_status("stopped at the duration cap (1s)", 0, 0) == (
        "failed",
        "stopped at the duration cap (1s); no call was made",
    )
