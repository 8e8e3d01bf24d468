"""A Secret never shows its value: not in str, repr, formatting, JSON, pickle or an error."""

import json
import pickle

import pytest

from surgeproof.secret import REDACTED, Secret, reveal

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


def test_only_text_or_bytes_are_secrets():
    with pytest.raises(TypeError):
        Secret(12345)  # type: ignore[arg-type]
