"""Property: the command line's value types and flag checks give a value or a one-line error
(argparse's or the house's), never another exception."""

from __future__ import annotations

import argparse
import math
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from surgeproof.errors import UserError
from surgeproof.load.flag_bounds import check_number, check_port
from surgeproof.load.gateway_fault import parse_gateway_crash
from surgeproof.load.options import scale_arg
from surgeproof.load.outage import parse_outage
from surgeproof.load.target import check_target_url

FAST = settings(max_examples=150, deadline=None)
PIECES = st.sampled_from(
    ["nan", "inf", "-1", "0", "1e400", "1/0", "1/24", ":", "[", "]", "::1", "127.0.0.1", "http://",
     "https://", "@", "%", "?", "#", ":abc", ":99999", ":8080", "/", " ", "\x00", "é", "1e-9"]
)  # fmt: skip
TEXT = st.one_of(st.text(max_size=40), st.lists(PIECES, max_size=8).map("".join))


@FAST
@given(TEXT)
def test_scale_arg(text):
    try:
        value = scale_arg(text)
    except argparse.ArgumentTypeError as exc:
        assert "\n" not in str(exc)
        return
    assert math.isfinite(value) and value > 0


def _no_dns(*_args, **_kw):
    raise OSError("no name lookups in this test")


@FAST
@given(TEXT)
def test_target_urls_are_checked_without_sending_anything(text):
    with mock.patch("socket.getaddrinfo", _no_dns):
        try:
            url = check_target_url("http://" + text.lstrip("/"), allow_remote=True)
        except UserError as exc:
            assert "\n" not in str(exc)
            return
    assert url.startswith("http://")


@FAST
@given(TEXT)
def test_injection_values_parse_or_refuse(text):
    for parse in (parse_outage, parse_gateway_crash):
        try:
            parse(text)
        except UserError as exc:
            assert "\n" not in str(exc)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**20), 10**20))
def test_numeric_checks_pass_only_finite_values_within_bounds(value, port):
    try:
        check_number("--x", value, 0, 600, low_open=True)
        assert math.isfinite(value) and 0 < value <= 600
    except UserError as exc:
        assert "--x" in str(exc)
    try:
        check_port("--p", port, zero_picks=True)
        assert 0 <= port <= 65535
    except UserError:
        assert not 0 <= port <= 65535
