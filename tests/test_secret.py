"""A Secret never shows its value: not in str, repr, formatting, JSON, pickle or an error."""

import json
import pickle

import pytest

from surgeproof.secret import REDACTED, Secret, has_secret, redact, reveal, revealed

VALUE = "hunter2-very-secret"


def test_every_way_of_showing_a_secret_shows_it_redacted():
    s = Secret(VALUE)
    shown = [str(s), repr(s), f"{s}", f"{s!r}", f"{s:>30}", "%s" % s, "{}".format(s)]  # noqa: UP031, UP032
    shown.append(str([s, {"k": s}]))
    shown.append(str(ValueError("bad", s)))
    assert all(VALUE not in text for text in shown)
    assert all(REDACTED in text for text in shown)


def test_a_secret_refuses_json_and_pickle():
    with pytest.raises(TypeError):
        json.dumps({"password": Secret(VALUE)})
    with pytest.raises(TypeError):
        pickle.dumps(Secret(VALUE))


def test_reveal_gives_the_value_back():
    assert Secret(VALUE).reveal() == VALUE
    assert Secret(b"\x00key").reveal() == b"\x00key"
    assert reveal(Secret(VALUE)) == VALUE
    assert reveal("plain") == "plain"
    assert Secret(Secret(VALUE)).reveal() == VALUE


def test_secrets_compare_by_value_and_only_with_secrets():
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret(VALUE + "x")
    assert Secret(VALUE) != VALUE
    assert len({Secret(VALUE), Secret(VALUE)}) == 1
    assert not Secret("")


def test_only_text_bytes_or_numbers_are_secrets():
    assert Secret(12345).reveal() == 12345  # a PIN sent as a JSON number
    assert Secret(12345) != Secret("12345")
    with pytest.raises(TypeError):
        Secret(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Secret(["a"])  # type: ignore[arg-type]


def test_revealed_opens_every_secret_in_a_request_body_and_has_secret_finds_them():
    body = {"id": "m1", "pw": Secret(VALUE), "list": [Secret(7), "x"], "deep": {"k": Secret("k")}}
    assert revealed(body) == {"id": "m1", "pw": VALUE, "list": [7, "x"], "deep": {"k": "k"}}
    assert has_secret(body) and has_secret([{"a": Secret("s")}])
    assert not has_secret(revealed(body))


def test_redact_hides_a_value_plain_url_encoded_and_base64_encoded():
    s = Secret("p@ss w/rd+1")
    echoed = (
        "invalid password 'p@ss w/rd+1' for /login?pw=p%40ss%20w%2Frd%2B1&q=p%40ss+w%2Frd%2B1 "
        "payload cEBzcyB3L3JkKzE="
    )
    shown = redact(echoed, [s, None])
    assert "p@ss" not in shown and "p%40ss" not in shown and "cEBzcyB3L3JkKzE" not in shown
    assert shown.count(REDACTED) == 4
    assert redact("abc abc", [Secret("abc")]) == "abc abc"  # too short to tell from words
