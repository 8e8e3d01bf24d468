"""External marks are sealed with the fleet key for one run: accepted once, refused when the MAC
is wrong (another key, another run), replayed, malformed, too long, or too many too fast."""

from __future__ import annotations

import json

import pytest

from surgeproof.load.marks import (
    BURST,
    MAX_MARKS,
    MAX_TEXT,
    MarkDesk,
    MarkRefused,
    clean_text,
    sealed_mark,
)
from surgeproof.secret import Secret

KEY = Secret("k" * 64)
OTHER = Secret("o" * 64)


def refused(desk: MarkDesk, body: bytes, now_s: float = 0.0) -> str:
    with pytest.raises(MarkRefused) as e:
        desk.check(body, now_s)
    return e.value.reason


def test_a_mark_sealed_with_the_fleet_key_for_this_run_is_accepted_once():
    desk = MarkDesk(KEY, "run-1")
    body = sealed_mark(KEY, "run-1", "  failover started ")
    assert desk.check(body, 0.0) == "failover started"
    assert refused(desk, body, 1.0) == "replay"
    assert desk.check(sealed_mark(KEY, "run-1", "failover started"), 2.0) == "failover started"
    assert desk.accepted == 2


def test_a_wrong_mac_is_refused_another_key_another_run_or_altered_text():
    desk = MarkDesk(KEY, "run-1")
    assert refused(desk, sealed_mark(OTHER, "run-1", "x")) == "bad_mac"
    assert refused(desk, sealed_mark(KEY, "run-2", "x")) == "bad_mac"
    d = json.loads(sealed_mark(KEY, "run-1", "db failover"))
    d["text"] = "db failover done"
    assert refused(desk, json.dumps(d).encode()) == "bad_mac"
    assert desk.accepted == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"v": 1}', b"\xff" * 10, b"{" * 5000,
     json.dumps({"v": 2, "text": "x", "nonce": "00" * 32, "mac": "00" * 32}).encode(),
     json.dumps({"v": 1, "text": "x", "nonce": "zz" * 32, "mac": "00" * 32}).encode(),
     json.dumps({"v": 1, "text": 5, "nonce": "00" * 32, "mac": "00" * 32}).encode()],
)  # fmt: skip
def test_what_is_not_a_mark_is_malformed(body):
    assert refused(MarkDesk(KEY, "run-1"), body) == "malformed"


@pytest.mark.parametrize("text", ["", "   ", "a\nb", "bell\x07", "x" * (MAX_TEXT + 1), "\u202e"])
def test_the_text_is_one_line_of_printable_characters_of_bounded_length(text):
    with pytest.raises(MarkRefused) as e:
        clean_text(text)
    assert e.value.reason == "bad_text" and e.value.status == 400
    assert clean_text("x" * MAX_TEXT) == "x" * MAX_TEXT


def test_marks_are_rate_limited_and_bounded_per_run():
    desk = MarkDesk(KEY, "run-1")
    for _ in range(BURST):
        desk.check(sealed_mark(KEY, "run-1", "burst"), 0.0)
    assert refused(desk, sealed_mark(KEY, "run-1", "one too many"), 0.0) == "rate_limited"
    # Guesses cost tokens too: a wrong MAC is rate-limited like a mark.
    assert refused(desk, sealed_mark(OTHER, "run-1", "guess"), 0.0) == "rate_limited"
    assert desk.check(sealed_mark(KEY, "run-1", "later"), 1.0) == "later"
    desk.accepted = MAX_MARKS
    assert refused(desk, sealed_mark(KEY, "run-1", "full"), 100.0) == "too_many"
