"""``jwt`` signing: a bearer JWT (PyJWT) per call, with claims from templates and a query hash.

``upbit-jwt`` is HS256 with ``access_key`` and a fresh UUID ``nonce``, plus ``query_hash``
(SHA-512 hex of the url-encoded parameters) and ``query_hash_alg`` when the call has any;
``bithumb-jwt`` adds ``timestamp`` (Unix ms). Both are presets of the options below.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import jwt
import jwt.warnings

from surgeproof.dialect.draft import Draft
from surgeproof.dialect.template import Template, TemplateError, compile_template
from surgeproof.scenario.fields import Field
from surgeproof.secret import reveal, revealed

# Exchanges issue 32-40 character secrets: shorter than RFC 7518 asks for HS384/HS512, but real.
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

ALGORITHMS = ("HS256", "HS384", "HS512")
HASHES = {"SHA512": hashlib.sha512, "SHA256": hashlib.sha256}
CLAIM_VARS = frozenset({"access_key", "uuid", "timestamp_ms"})
KEYS = ("scheme", "algorithm", "claims", "query_hash", "header", "prefix")

UPBIT: dict[str, Any] = {
    "algorithm": "HS256",
    "claims": {"access_key": "{access_key}", "nonce": "{uuid}"},
    "query_hash": {"claim": "query_hash", "alg_claim": "query_hash_alg", "alg": "SHA512"},
    "header": "Authorization",
    "prefix": "Bearer ",
}
BITHUMB: dict[str, Any] = {
    **UPBIT,
    "claims": {"access_key": "{access_key}", "nonce": "{uuid}", "timestamp": "{timestamp_ms}"},
}


@dataclass(frozen=True)
class JwtSigner:
    scheme: str
    algorithm: str
    claims: Template
    hash_claim: str | None
    hash_alg_claim: str | None
    hash_alg: str
    header: str
    prefix: str
    needs_keys: bool = True
    needs_session: bool = False

    def sign(self, draft: Draft, creds: Any, session_token: str | None) -> None:
        if creds is None:
            return
        values = draft.key_values(creds.access_key)
        payload = self.claims(values)
        if self.hash_claim:
            params = draft.signed_params()
            if params:
                payload[self.hash_claim] = HASHES[self.hash_alg](params.encode()).hexdigest()
                if self.hash_alg_claim:
                    payload[self.hash_alg_claim] = self.hash_alg
        # Signing is where the keys are revealed: the claims' access key and the secret.
        token = jwt.encode(
            revealed(payload), str(reveal(creds.secret_key)), algorithm=self.algorithm
        )
        draft.set_header(self.header, self.prefix + token)


def parse(f: Field, preset: dict[str, Any] | None) -> JwtSigner:
    """A JwtSigner from the ``signing`` mapping (a preset's options may be overridden)."""
    given = f.fields(KEYS)
    scheme = str(f.value["scheme"])
    opts = dict(preset or {})
    if preset is None:
        for key in ("algorithm", "claims"):
            if key not in given:
                raise Field(f.source, f"{f.path}.{key}", None).error("required, missing")
    algorithm = given["algorithm"].value if "algorithm" in given else opts["algorithm"]
    if algorithm not in ALGORITHMS:
        raise given["algorithm"].expected("one of " + ", ".join(ALGORITHMS))
    claims_f = given.get("claims") or Field(f.source, f"{f.path}.claims", opts["claims"])
    if not isinstance(claims_f.value, dict) or not claims_f.value:
        raise claims_f.expected("a mapping of claim name to template")
    try:
        claims = compile_template(claims_f.value, CLAIM_VARS)
    except TemplateError as exc:
        raise claims_f.error(str(exc)) from None
    qh = opts.get("query_hash")
    if "query_hash" in given:
        qf = given["query_hash"]
        if qf.value is None or qf.value is False:
            qh = None
        else:
            q = qf.fields(("claim", "alg_claim", "alg"), required=("claim",))
            alg = q["alg"].text().upper() if "alg" in q else "SHA512"
            if alg not in HASHES:
                raise q["alg"].expected("SHA512 or SHA256")
            qh = {
                "claim": q["claim"].text(),
                "alg_claim": q["alg_claim"].text() if "alg_claim" in q else None,
                "alg": alg,
            }
    return JwtSigner(
        scheme=scheme,
        algorithm=algorithm,
        claims=claims,
        hash_claim=qh["claim"] if qh else None,
        hash_alg_claim=qh.get("alg_claim") if qh else None,
        hash_alg=qh["alg"] if qh else "SHA512",
        header=given["header"].text() if "header" in given else opts.get("header", "Authorization"),
        prefix=_prefix(given, opts),
    )


def _prefix(given: dict[str, Field], opts: dict[str, Any]) -> str:
    if "prefix" not in given:
        return str(opts.get("prefix", "Bearer "))
    value = given["prefix"].value
    if not isinstance(value, str):
        raise given["prefix"].expected("text, e.g. 'Bearer '")
    return value
