"""Refused worker-channel messages become run events that a flood cannot multiply."""

from __future__ import annotations

from surgeproof.load.refusals import (
    EVENT,
    MAX_KEYS,
    MAX_PEERS_COUNTED,
    OTHER_PEERS,
    RefusalLog,
    shown,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def log_with_events(every_s: float = 60.0):
    events: list[dict] = []
    lines: list[str] = []
    clock = Clock()
    log = RefusalLog(
        lambda type_, **f: events.append({"type": type_, **f}), lines.append, every_s, clock
    )
    return log, events, lines, clock


def test_the_first_refusal_is_an_event_at_once_with_who_what_and_why():
    log, events, lines, _ = log_with_events()
    log.refuse("unauthenticated", peer="evil_1", message="surgeproof_batch", claimed_source="local")
    [e] = events
    assert e["type"] == EVENT
    assert (e["peer"], e["message"], e["claimed_source"], e["reason"]) == (
        "evil_1",
        "surgeproof_batch",
        "local",
        "unauthenticated",
    )
    assert e["count"] == e["total"] == 1 and e["first_ns"] == e["last_ns"] > 0
    assert "never proved the fleet key" in e["why"]
    assert lines == [
        "surgeproof run: REFUSED surgeproof_batch from peer 'evil_1' claiming source 'local': "
        + e["why"]
    ]


def test_a_flood_from_one_peer_is_one_event_a_minute_with_its_count():
    log, events, lines, clock = log_with_events()
    for _ in range(10_000):
        log.refuse("bad_mac", peer="p", message="surgeproof_batch")
    assert len(events) == 1 and len(lines) == 1
    log.flush()
    assert len(events) == 1  # not due yet
    clock.t += 60
    log.refuse("bad_mac", peer="p", message="surgeproof_batch")
    assert [e["count"] for e in events] == [1, 10_000]
    assert events[-1]["total"] == 10_001
    log.refuse("bad_mac", peer="p", message="surgeproof_batch")
    log.flush(final=True)
    assert [e["count"] for e in events] == [1, 10_000, 1]
    assert sum(e["count"] for e in events) == log.messages == 10_002
    assert log.summary() == {"messages": 10_002, "peers": 1, "by_reason": {"bad_mac": 10_002}}


def test_rotating_peer_ids_cannot_make_more_than_a_bounded_number_of_keys():
    log, events, lines, _ = log_with_events()
    for i in range(5_000):
        log.refuse("unauthenticated", peer=f"peer-{i}", message="surgeproof_batch")
    log.flush(final=True)
    assert len(events) <= MAX_KEYS + 2 and len(lines) <= MAX_KEYS + 1
    other = [e for e in events if e["peer"] == OTHER_PEERS]
    assert other and sum(e["count"] for e in events) == 5_000
    assert log.summary()["peers"] == MAX_PEERS_COUNTED and log.summary()["peers_capped"]


def test_text_from_the_wire_is_cut_and_shown_as_printable_ascii():
    assert shown("../../etc/passwd") == "../../etc/passwd"
    assert shown("a\x1b[31mred\nline") == "a?[31mred?line"
    assert shown("x" * 1000) == "x" * 64 + "..."
    assert shown(b"\xff\xfebytes") == "??bytes"
    assert shown({"nested": 1}) == "<dict>"
    assert shown(None) is None
    log, events, lines, _ = log_with_events()
    log.refuse("malformed", peer="\x1b]0;pwned\x07", message=b"\x00" * 10_000)
    assert "\x1b" not in lines[0] and "\x07" not in lines[0]
    assert len(events[0]["message"]) == 67
