"""How a dialect signs private calls: one module per scheme, chosen by ``signing.scheme``.

A scheme is parsed from the dialect file (its own options, validated with one-line errors) and
then signs drafts: it adds headers, and may add fields to the body. ``needs_keys`` says whether
it signs with the account's API keys, ``needs_session`` whether signed calls need a login first
(a token taken from the login answer is the credential).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from surgeproof.dialect.draft import Draft
from surgeproof.dialect.signing import hmac_message, jwt_bearer, login_token, payload_hmac
from surgeproof.scenario.fields import Field


class Credentials(Protocol):
    """An account's API keys, as :class:`~surgeproof.secret.Secret` (plain text also works)."""

    access_key: Any
    secret_key: Any


class Signer(Protocol):
    scheme: str
    needs_keys: bool
    needs_session: bool

    def sign(self, draft: Draft, creds: Credentials | None, session_token: Any) -> None:
        """Add what the exchange checks (headers, body fields) to ``draft``; secrets are revealed
        here and nowhere else."""


class Unsigned:
    """``scheme: none``: the exchange has no private calls, or the dialect sends none."""

    scheme = "none"
    needs_keys = False
    needs_session = False

    def sign(self, draft: Draft, creds: Credentials | None, session_token: Any) -> None:
        return None


#: scheme name -> parser of its options (the Field of the whole ``signing`` mapping).
SCHEMES: dict[str, Callable[[Field], Any]] = {
    "none": lambda f: Unsigned(),
    "upbit-jwt": lambda f: jwt_bearer.parse(f, jwt_bearer.UPBIT),
    "bithumb-jwt": lambda f: jwt_bearer.parse(f, jwt_bearer.BITHUMB),
    "jwt": lambda f: jwt_bearer.parse(f, None),
    "coinone-payload": lambda f: payload_hmac.parse(f, payload_hmac.COINONE),
    "payload-hmac": lambda f: payload_hmac.parse(f, None),
    "hmac": hmac_message.parse,
    "login-token": login_token.parse,
}


def parse_signing(f: Field) -> Signer:
    """The signer a dialect's ``signing:`` mapping describes."""
    if not isinstance(f.value, dict):
        raise f.expected("a mapping with a 'scheme' (" + ", ".join(SCHEMES) + ")")
    if "scheme" not in f.value:
        where = Field(f.source, f"{f.path}.scheme", None)
        raise where.error("required, missing (one of " + ", ".join(SCHEMES) + ")")
    scheme_f = f.child("scheme")
    scheme = scheme_f.value
    if scheme not in SCHEMES:
        raise scheme_f.expected("one of " + ", ".join(SCHEMES))
    return SCHEMES[scheme](f)
