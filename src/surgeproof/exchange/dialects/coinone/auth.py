"""Coinone's private-call signing: the JSON parameters, with ``access_token`` and ``nonce``,
base64-encoded in ``X-COINONE-PAYLOAD``; ``X-COINONE-SIGNATURE`` = hex HMAC-SHA512 of that
payload (the base64 text) keyed with the secret key.

Secret keys: Coinone's v2.1 examples key the HMAC with the secret as issued, its older examples
(and ccxt) with the secret upper-cased. Both verify: the signature is checked against the secret
and against its upper-case form.

Nonces: ``/v2.1/...`` calls carry a UUID, never accepted twice (within 10 minutes);
the older ``/v2/...`` calls carry a positive integer that must not be smaller than the last one
accepted for the key (equal is accepted: ccxt sends whole seconds). The body is read (so the
size limit applies) but not used: the signed payload is what counts (ccxt sends the base64 text
as the body, Coinone's examples the JSON).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections import deque

from aiohttp import web

from surgeproof.exchange.accounts import Account
from surgeproof.exchange.decimal_text import whole_value
from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.routes import BODY, PARAMS
from surgeproof.exchange.safe_json import loads_bounded
from surgeproof.exchange.state import ExchangeState

NONCE_TTL_S = 600.0
MAX_PAYLOAD_CHARS = 64 * 1024


def _refused(code: str, message: str) -> ApiError:
    return ApiError(401, "coinone_auth", message, code=code)


def signature(payload: str, secret: str) -> str:
    """The hex HMAC-SHA512 of a payload header value, as Coinone's clients compute it."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


class CoinoneVerifier:
    """Verifies ``X-COINONE-PAYLOAD`` / ``X-COINONE-SIGNATURE`` against the seeded keys."""

    def __init__(self, accounts: list[Account]) -> None:
        self.by_access_key = {a.access_key: a for a in accounts}
        self._uuids: set[tuple[str, str]] = set()
        self._uuid_order: deque[tuple[float, tuple[str, str]]] = deque()
        self._last_number: dict[str, int] = {}

    async def authenticate(self, request: web.Request) -> Account:
        await request.read()
        payload = request.headers.get("X-COINONE-PAYLOAD")
        signed = request.headers.get("X-COINONE-SIGNATURE")
        if not payload:
            raise _refused("120", "V2 API payload is missing")
        if not signed:
            raise _refused("121", "V2 API signature is missing")
        fields = self._decode(payload)
        token = fields.get("access_token")
        if not isinstance(token, str) or not token:
            raise _refused("11", "Access token is missing")
        account = self.by_access_key.get(token)
        if account is None:
            raise _refused("12", "Invalid access token")
        given = signed.strip().lower()
        secret = account.secret_key
        if not any(
            hmac.compare_digest(given, signature(payload, key)) for key in {secret, secret.upper()}
        ):
            raise _refused("123", "V2 API signature is not correct")
        if "nonce" not in fields or fields["nonce"] in (None, ""):
            raise _refused("122", "V2 API nonce is missing")
        if request.path.startswith("/v2.1/"):
            self._use_uuid(token, fields["nonce"])
        else:
            self._use_number(token, fields["nonce"])
        params = {k: v for k, v in fields.items() if k not in ("access_token", "nonce")}
        request[PARAMS] = params
        request[BODY] = fields
        return account

    @staticmethod
    def _decode(payload: str) -> dict:
        if len(payload) > MAX_PAYLOAD_CHARS or not payload.isascii():
            raise _refused("132", "V2 API body is corrupted")
        try:
            raw = base64.b64decode(payload.encode(), validate=True)
            fields = loads_bounded(raw)
        except (binascii.Error, ValueError):
            raise _refused("132", "V2 API body is corrupted") from None
        if not isinstance(fields, dict):
            raise _refused("132", "V2 API body is corrupted")
        return fields

    def _use_uuid(self, token: str, nonce: object) -> None:
        try:
            if not isinstance(nonce, str) or len(nonce) > 64:
                raise ValueError(nonce)
            text = str(uuid.UUID(nonce))
        except ValueError:
            raise _refused("130", "Nonce must be in the form of a UUID") from None
        now = time.time()
        order = self._uuid_order
        while order and now - order[0][0] > NONCE_TTL_S:
            self._uuids.discard(order.popleft()[1])
        key = (token, text)
        if key in self._uuids:
            raise _refused("131", "Nonce already used")
        self._uuids.add(key)
        order.append((now, key))

    def _use_number(self, token: str, nonce: object) -> None:
        number = whole_value(nonce)
        if number is None or number <= 0:
            raise _refused("130", "V2 API Nonce value must be a positive integer")
        if number < self._last_number.get(token, 0):
            raise _refused("131", "V2 API Nonce is must be bigger then last nonce")
        self._last_number[token] = number


def coinone_verifier(state: ExchangeState) -> CoinoneVerifier:
    return CoinoneVerifier(state.accounts)


async def read_request_params(request: web.Request) -> None:
    """Public calls: a JSON body (the app login) becomes the handler's parameters."""
    from surgeproof.exchange.params import read_params

    params, _, body = await read_params(request)
    request[PARAMS] = params
    request[BODY] = body
