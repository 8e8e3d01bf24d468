"""Property-based: the exchange's request parsers give a value or a clean refusal (an ApiError
with a 4xx, a RequestError), never another exception, whatever a client sends."""

from __future__ import annotations

import base64
import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from surgeproof.exchange import operations as ops
from surgeproof.exchange.accounts import seed_accounts
from surgeproof.exchange.dialects.coinone.auth import CoinoneVerifier
from surgeproof.exchange.dialects.coinone.websocket import CoinoneWebSocket
from surgeproof.exchange.dialects.jwt_verifier import JwtVerifier
from surgeproof.exchange.dialects.upbit.websocket import UpbitWebSocket
from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.money import MAX_AMOUNT, parse_amount
from surgeproof.exchange.wsprotocol import RequestError

ACCOUNTS = seed_accounts(3, 1)
MARKETS = {"KRW-BTC", "KRW-ETH"}
SETTINGS = settings(max_examples=150, deadline=None)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.from_regex(r"-?[0-9]{0,6}(\.[0-9]{0,12})?([eE][+-]?[0-9]{1,7})?", fullmatch=True)
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(SCALARS | st.lists(SCALARS, max_size=2))
@SETTINGS
def test_amounts_are_units_or_none(raw):
    units = parse_amount(raw)
    assert units is None or isinstance(units, int)
    try:
        checked = ops.amount(raw, "volume")
    except ApiError as exc:
        assert exc.status == 400
    else:
        assert checked is None or 0 < checked <= MAX_AMOUNT


@given(SCALARS)
@SETTINGS
def test_counts_are_in_bounds_or_refused(raw):
    try:
        value = ops.count(raw, "count", 1, 1, 200)
    except ApiError as exc:
        assert exc.status == 400
    else:
        assert 1 <= value <= 200


def _claims():
    return st.dictionaries(
        st.sampled_from(["access_key", "nonce", "query_hash", "query_hash_alg", "timestamp"]),
        JSONISH,
    )


@given(
    claims=_claims(),
    header=st.text(alphabet=string.printable + "한é\x00", max_size=60),
    pairs=st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
    real_key=st.booleans(),
)
@SETTINGS
def test_bearer_tokens_verify_or_are_refused_with_401(claims, header, pairs, real_key):
    import jwt

    account = ACCOUNTS[0]
    if real_key:
        claims = {**claims, "access_key": account.access_key}
    token = jwt.encode(claims, account.secret_key, algorithm="HS256")
    verifier = JwtVerifier(ACCOUNTS, timestamp_skew_s=60.0)
    for authorization in ("Bearer " + token, header, "Bearer " + header):
        try:
            assert verifier.verify(authorization, pairs, None) is account
        except ApiError as exc:
            assert exc.status == 401


@given(fields=st.dictionaries(st.text(max_size=12), JSONISH, max_size=4), raw=st.text(max_size=80))
@SETTINGS
def test_coinone_payloads_decode_or_are_refused(fields, raw):
    encoded = base64.b64encode(json.dumps(fields).encode()).decode()
    for payload in (encoded, raw):
        try:
            decoded = CoinoneVerifier._decode(payload)
        except ApiError as exc:
            assert exc.status == 401 and exc.code == "132"
        else:
            assert isinstance(decoded, dict)


@given(JSONISH | st.text(max_size=200))
@SETTINGS
def test_websocket_requests_of_every_dialect_parse_or_get_an_error_message(message):
    text = message if isinstance(message, str) else json.dumps(message)
    for protocol in (UpbitWebSocket(), CoinoneWebSocket(1800.0)):
        try:
            command = protocol.parse(text, MARKETS)
        except RequestError as exc:
            assert json.loads(protocol.error(exc))  # the error message is itself valid JSON
        else:
            assert command.types is None or set(command.types) <= {"ticker", "trade", "orderbook"}
