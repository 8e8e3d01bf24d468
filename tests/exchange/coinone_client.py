"""Test helper: sign Coinone private calls the way its docs show (imported by the tests)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from surgeproof.exchange.accounts import Account


def signed(
    account: Account,
    fields: dict | None = None,
    nonce: object = None,
    secret: str | None = None,
) -> tuple[dict, bytes]:
    """(headers, body) of a v2.1 private call: the JSON body, its base64 in the payload header."""
    payload = {
        "access_token": account.access_key,
        "nonce": str(uuid.uuid4()) if nonce is None else nonce,
        **(fields or {}),
    }
    body = json.dumps(payload).encode()
    encoded = base64.b64encode(body)
    key = (secret if secret is not None else account.secret_key).encode()
    headers = {
        "Content-Type": "application/json",
        "X-COINONE-PAYLOAD": encoded.decode(),
        "X-COINONE-SIGNATURE": hmac.new(key, encoded, hashlib.sha512).hexdigest(),
    }
    return headers, body
