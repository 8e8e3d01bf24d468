"""Upbit JWT authentication: HS256/HS512, fresh nonce, SHA-512 ``query_hash`` of the params."""

from __future__ import annotations

import hashlib
import time
import warnings
from collections import deque
from urllib.parse import unquote, urlencode

import jwt
import jwt.warnings

from surgeproof.exchange.accounts import Account
from surgeproof.exchange.errors import ApiError

# Upbit's secret keys are 40 characters: shorter than RFC 7518 recommends for HS512, but real.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

_ALGORITHMS = ("HS256", "HS512")
NONCE_TTL_S = 600.0


def query_hashes(params: list[tuple[str, str]], raw_query: str | None = None) -> set[str]:
    """Accepted SHA-512 hex digests of the url-encoded params (Upbit hashes the unquoted form)."""
    encoded = raw_query if raw_query is not None else urlencode(params, doseq=True)
    forms = {unquote(encoded), encoded, urlencode(params, doseq=True)}
    forms.add(unquote(urlencode(params, doseq=True)))
    return {hashlib.sha512(f.encode()).hexdigest() for f in forms}


def _unauthorized(name: str, message: str) -> ApiError:
    return ApiError(401, name, message)


class Authenticator:
    """Verifies bearer JWTs against the seeded API keys; refuses reused nonces."""

    def __init__(self, accounts: list[Account]) -> None:
        self.by_access_key = {a.access_key: a for a in accounts}
        self._nonces: set[tuple[str, str]] = set()
        self._nonce_order: deque[tuple[float, tuple[str, str]]] = deque()

    def verify(
        self, authorization: str | None, params: list[tuple[str, str]], raw_query: str | None
    ) -> Account:
        """The account a request is signed by, or a 401 ApiError with Upbit's error name."""
        if not authorization:
            raise _unauthorized("no_authorization_token", "Authorization header is missing")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("jwt_verification", "Authorization must be 'Bearer <JWT>'")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _unauthorized("jwt_verification", "JWT is malformed") from None
        if header.get("alg") not in _ALGORITHMS:
            raise _unauthorized("jwt_verification", "JWT must be signed with HS256 or HS512")
        account = self.by_access_key.get(str(claims.get("access_key", "")))
        if account is None:
            raise _unauthorized("invalid_access_key", "잘못된 엑세스 키입니다.")
        try:
            jwt.decode(token, account.secret_key, algorithms=[header["alg"]])
        except jwt.PyJWTError:
            raise _unauthorized("jwt_verification", "JWT signature verification failed") from None
        nonce = claims.get("nonce")
        if nonce is None or str(nonce) == "":
            raise _unauthorized("jwt_verification", "JWT payload has no nonce")
        if params:
            given = claims.get("query_hash")
            alg = str(claims.get("query_hash_alg", "SHA512")).upper()
            if not given or alg != "SHA512" or given not in query_hashes(params, raw_query):
                raise _unauthorized("invalid_query_payload", "query_hash does not match the query")
        self._use_nonce(account.access_key, str(nonce))
        return account

    def _use_nonce(self, access_key: str, nonce: str) -> None:
        now = time.time()
        order = self._nonce_order
        while order and now - order[0][0] > NONCE_TTL_S:
            self._nonces.discard(order.popleft()[1])
        key = (access_key, nonce)
        if key in self._nonces:
            raise _unauthorized("nonce_used", "이미 요청한 nonce값이 다시 사용되었습니다.")
        self._nonces.add(key)
        order.append((now, key))
