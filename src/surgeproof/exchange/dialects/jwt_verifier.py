"""``Authorization: Bearer <JWT>`` API-key signing, as Upbit and Bithumb use it.

The payload carries ``access_key`` and a fresh ``nonce`` (reuse refused), and, when the request
has parameters, ``query_hash`` (SHA-512 hex of the url-encoded parameters) with
``query_hash_alg: SHA512``. Bithumb adds a millisecond ``timestamp``, required here.
Every claim is type-checked before it is used: a malformed token is a 401, never a 500.
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections import deque
from urllib.parse import quote, unquote, urlencode

import jwt
import jwt.warnings

from surgeproof.exchange.accounts import Account
from surgeproof.exchange.decimal_text import whole_value
from surgeproof.exchange.errors import ApiError

# Upbit's secret keys are 40 characters: shorter than RFC 7518 recommends for HS512, but real.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

NONCE_TTL_S = 600.0
#: Longest bearer token accepted (a real one is a few hundred bytes).
MAX_TOKEN_CHARS = 4096
#: ccxt's encodeURIComponent keeps these characters unescaped.
_URI_SAFE = "~()*!.'"


def query_hashes(params: list[tuple[str, str]], raw_query: str | None = None) -> set[str]:
    """Accepted SHA-512 hex digests of the url-encoded params.

    Upbit hashes the unquoted form; clients differ in how they escape (Python's urlencode,
    encodeURIComponent, or the raw query string they sent), so every one of those verifies.
    """
    forms = {urlencode(params, doseq=True), urlencode(params, quote_via=quote, safe=_URI_SAFE)}
    forms.add(unquote(urlencode(params, doseq=True)))
    if raw_query is not None:
        forms |= {raw_query, unquote(raw_query)}
    return {hashlib.sha512(f.encode("utf-8", "surrogatepass")).hexdigest() for f in forms}


def _unauthorized(name: str, message: str) -> ApiError:
    return ApiError(401, name, message)


class JwtVerifier:
    """Verifies bearer JWTs against the seeded API keys; refuses reused nonces."""

    def __init__(
        self,
        accounts: list[Account],
        algorithms: tuple[str, ...] = ("HS256", "HS512"),
        timestamp_skew_s: float | None = None,
    ) -> None:
        self.by_access_key = {a.access_key: a for a in accounts}
        self.algorithms = algorithms
        self.timestamp_skew_s = timestamp_skew_s
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
        if len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise _unauthorized("jwt_verification", "JWT is malformed")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _unauthorized("jwt_verification", "JWT is malformed") from None
        if not isinstance(claims, dict) or header.get("alg") not in self.algorithms:
            names = " or ".join(self.algorithms)
            raise _unauthorized("jwt_verification", f"JWT must be signed with {names}")
        access_key = claims.get("access_key")
        account = self.by_access_key.get(access_key) if isinstance(access_key, str) else None
        if account is None:
            raise _unauthorized("invalid_access_key", "잘못된 엑세스 키입니다.")
        try:
            jwt.decode(token, account.secret_key, algorithms=[header["alg"]])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _unauthorized("jwt_verification", "JWT signature verification failed") from None
        nonce = claims.get("nonce")
        if isinstance(nonce, bool) or not isinstance(nonce, str | int) or str(nonce) == "":
            raise _unauthorized("jwt_verification", "JWT payload has no nonce")
        if self.timestamp_skew_s is not None:
            self._check_timestamp(claims.get("timestamp"))
        if params or raw_query:
            given = claims.get("query_hash")
            alg = claims.get("query_hash_alg", "SHA512")
            if (
                not isinstance(given, str)
                or not isinstance(alg, str)
                or alg.upper() != "SHA512"
                or given.lower() not in query_hashes(params, raw_query)
            ):
                raise _unauthorized("invalid_query_payload", "query_hash does not match the query")
        self._use_nonce(account.access_key, str(nonce))
        return account

    def _check_timestamp(self, raw: object) -> None:
        # Milliseconds as a JSON integer or its ASCII digits (a finite JSON float is read too);
        # 10^400, "١٢٣", "1_000" and NaN are not a time.
        millis: float | None = whole_value(raw)
        if millis is None and isinstance(raw, float) and math.isfinite(raw):
            millis = raw
        if millis is None:
            raise _unauthorized("jwt_verification", "JWT payload needs a millisecond timestamp")
        skew = abs(time.time() * 1000.0 - millis) / 1000.0
        if skew > self.timestamp_skew_s:  # type: ignore[operator]
            raise _unauthorized(
                "expired_jwt",
                f"JWT timestamp is {skew:.0f} s away from the server clock "
                f"(at most {self.timestamp_skew_s:.0f} s accepted)",
            )

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
