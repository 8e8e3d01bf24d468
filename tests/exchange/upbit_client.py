"""Test helpers for the exchange: run a coroutine, sign an Upbit JWT (imported by the tests)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from urllib.parse import unquote, urlencode

import jwt

from surgeproof.exchange.accounts import Account

#: A quiet book: no market maker and no tape trader, so tests control every order.
QUIET = {"market_maker": {"levels": 0, "tape_krw": 0}, "price": {"volatility_per_s": 0.0}}


def run(coro):
    """Run one coroutine of a test on a fresh event loop."""
    return asyncio.run(coro)


def token(
    account: Account,
    params: dict | list | None = None,
    alg: str = "HS256",
    nonce: str | None = None,
    secret: str | None = None,
    query_hash: str | None = None,
    timestamp_ms: int | None = None,
) -> str:
    """A bearer token signed the way Upbit's docs show (query_hash over the unquoted params);
    with ``timestamp_ms``, Bithumb's millisecond ``timestamp`` claim too."""
    payload: dict = {"access_key": account.access_key, "nonce": nonce or str(uuid.uuid4())}
    if timestamp_ms is not None:
        payload["timestamp"] = timestamp_ms
    if params:
        encoded = unquote(urlencode(params, doseq=True))
        payload["query_hash"] = query_hash or hashlib.sha512(encoded.encode()).hexdigest()
        payload["query_hash_alg"] = "SHA512"
    return "Bearer " + jwt.encode(payload, secret or account.secret_key, algorithm=alg)
