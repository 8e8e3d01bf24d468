"""Schemathesis hooks for the exchange's fuzz test (loaded with SCHEMATHESIS_HOOKS).

A check that every request is answered and nothing but the capacity model's 503 is a 5xx; and a
signer, so that the private endpoints' handlers (not only their signature checks) see the
generated inputs: each case is signed like a real client of the dialect would sign it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from urllib.parse import unquote, urlencode

import jwt
import schemathesis

from surgeproof.exchange.params import signed_pairs


@schemathesis.check
def no_server_error_but_overload(ctx, response, case):
    """Every request gets an answer, and none is a 5xx other than the capacity model's 503."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{case.method} {case.path} answered {response.status_code}")


def _query_pairs(query) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(key), str(item)))
    return pairs


@schemathesis.auth()
class DialectSigner:
    """Signs every case with the first seeded account's keys (SURGEPROOF_FUZZ_SIGNER)."""

    def get(self, case, ctx):
        return json.loads(os.environ["SURGEPROOF_FUZZ_SIGNER"])

    def set(self, case, data, ctx):
        body = case.body if isinstance(case.body, dict) else {}
        headers = dict(case.headers or {})
        if data["dialect"] == "coinone":
            payload = {"access_token": data["access_key"], "nonce": str(uuid.uuid4()), **body}
            encoded = base64.b64encode(json.dumps(payload).encode())
            headers["X-COINONE-PAYLOAD"] = encoded.decode()
            headers["X-COINONE-SIGNATURE"] = hmac.new(
                data["secret_key"].encode(), encoded, hashlib.sha512
            ).hexdigest()
        else:
            claims = {"access_key": data["access_key"], "nonce": str(uuid.uuid4())}
            if data["dialect"] == "bithumb":
                claims["timestamp"] = int(time.time() * 1000)
            pairs = _query_pairs(case.query) + signed_pairs(body)
            if pairs:
                text = unquote(urlencode(pairs))
                claims["query_hash"] = hashlib.sha512(text.encode()).hexdigest()
                claims["query_hash_alg"] = "SHA512"
            headers["Authorization"] = "Bearer " + jwt.encode(claims, data["secret_key"])
        case.headers = headers
