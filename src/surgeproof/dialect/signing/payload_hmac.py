"""``payload-hmac`` signing: the JSON body (with key and nonce fields) travels base64-encoded in
one header and its HMAC in another.

``coinone-payload`` is Coinone's private API v2.1: ``access_token`` and a UUID ``nonce`` join the
body, ``X-COINONE-PAYLOAD`` is base64 of that JSON, ``X-COINONE-SIGNATURE`` the hex
HMAC-SHA512 of the base64 text keyed with the secret key, and the HTTP body carries the same
base64 text (``body: payload``, as Coinone's examples and ccxt send it; ``body: json`` sends
the JSON itself).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from surgeproof.dialect.draft import Draft
from surgeproof.dialect.template import Template, TemplateError, compile_template
from surgeproof.scenario.fields import Field
from surgeproof.secret import reveal

DIGESTS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
FIELD_VARS = frozenset({"access_key", "uuid", "timestamp_ms"})
KEYS = ("scheme", "fields", "payload_header", "signature_header", "digest", "secret", "body")

COINONE: dict[str, Any] = {
    "fields": {"access_token": "{access_key}", "nonce": "{uuid}"},
    "payload_header": "X-COINONE-PAYLOAD",
    "signature_header": "X-COINONE-SIGNATURE",
    "digest": "sha512",
    "secret": "as-issued",
    "body": "payload",
}


@dataclass(frozen=True)
class PayloadSigner:
    scheme: str
    fields: Template
    payload_header: str
    signature_header: str
    digest: str
    upper_secret: bool
    body_is_payload: bool
    needs_keys: bool = True
    needs_session: bool = False

    def sign(self, draft: Draft, creds: Any, session_token: str | None) -> None:
        if creds is None:
            return
        values = draft.key_values(creds.access_key)
        draft.body = {**self.fields(values), **(draft.body or {})}
        draft.encode_body()
        assert draft.body_bytes is not None
        payload = base64.b64encode(draft.body_bytes)
        secret = str(reveal(creds.secret_key))  # signing is where the secret is revealed
        if self.upper_secret:
            secret = secret.upper()
        mac = hmac.new(secret.encode(), payload, DIGESTS[self.digest]).hexdigest()
        draft.set_header(self.payload_header, payload.decode())
        draft.set_header(self.signature_header, mac)
        if self.body_is_payload:
            draft.body_bytes = payload


def parse(f: Field, preset: dict[str, Any] | None) -> PayloadSigner:
    given = f.fields(KEYS)
    opts = dict(preset or {})
    if preset is None:
        for key in ("fields", "payload_header", "signature_header"):
            if key not in given:
                raise Field(f.source, f"{f.path}.{key}", None).error("required, missing")
    fields_f = given.get("fields") or Field(f.source, f"{f.path}.fields", opts["fields"])
    if not isinstance(fields_f.value, dict) or not fields_f.value:
        raise fields_f.expected("a mapping of body field to template")
    try:
        fields = compile_template(fields_f.value, FIELD_VARS)
    except TemplateError as exc:
        raise fields_f.error(str(exc)) from None
    digest = given["digest"].text().lower() if "digest" in given else opts.get("digest", "sha512")
    if digest not in DIGESTS:
        raise given["digest"].expected("one of " + ", ".join(DIGESTS))
    secret = given["secret"].text() if "secret" in given else opts.get("secret", "as-issued")
    if secret not in ("as-issued", "upper-case"):
        raise given["secret"].expected("as-issued or upper-case")
    body = given["body"].text() if "body" in given else opts.get("body", "json")
    if body not in ("payload", "json"):
        raise given["body"].expected("payload (the base64 text) or json")
    return PayloadSigner(
        scheme=str(f.value["scheme"]),
        fields=fields,
        payload_header=_text(given, "payload_header", opts),
        signature_header=_text(given, "signature_header", opts),
        digest=digest,
        upper_secret=secret == "upper-case",
        body_is_payload=body == "payload",
    )


def _text(given: dict[str, Field], key: str, opts: dict[str, Any]) -> str:
    return given[key].text() if key in given else str(opts[key])
