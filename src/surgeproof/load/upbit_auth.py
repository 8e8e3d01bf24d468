"""Upbit-style request signing: a JWT with access_key, a fresh nonce and the query hash."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import urlencode

import jwt


def query_string(params: dict | None) -> str:
    """The url-encoded query the server hashes (lists as ``key[]=a&key[]=b``)."""
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((f"{key}[]", str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return urlencode(pairs)


def bearer(access_key: str, secret_key: str, params: dict | None = None) -> str:
    """The ``Authorization`` header value for a private call with ``params`` (query or body)."""
    payload: dict[str, str] = {"access_key": access_key, "nonce": str(uuid.uuid4())}
    qs = query_string(params)
    if qs:
        payload["query_hash"] = hashlib.sha512(qs.encode()).hexdigest()
        payload["query_hash_alg"] = "SHA512"
    return "Bearer " + jwt.encode(payload, secret_key, algorithm="HS256")
