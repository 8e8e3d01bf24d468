"""``hmac`` signing: an HMAC over a message assembled from the request, sent in headers.

The common shape of exchange APIs that do not use JWTs: the message is a template over the
request's parts (``{timestamp_ms}{method}{path_query}{body}``), the key is the account's secret,
and headers carry the key id, the time and the signature, e.g.::

    signing:
      scheme: hmac
      digest: sha256
      encoding: hex
      message: "{timestamp_ms}{method}{path_query}{body}"
      headers: {X-API-KEY: "{access_key}", X-TS: "{timestamp_ms}", X-SIGN: "{signature}"}
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
ENCODINGS = ("hex", "base64")
MESSAGE_VARS = frozenset(
    {"method", "path", "query", "path_query", "body", "timestamp_ms", "uuid", "access_key"}
)
KEYS = ("scheme", "digest", "encoding", "message", "headers", "secret")


@dataclass(frozen=True)
class HmacSigner:
    scheme: str
    digest: str
    encoding: str
    message: Template
    headers: Template
    secret_base64: bool
    needs_keys: bool = True
    needs_session: bool = False

    def sign(self, draft: Draft, creds: Any, session_token: str | None) -> None:
        if creds is None:
            return
        body = draft.body_bytes.decode() if draft.body_bytes else ""
        values = {
            **draft.key_values(creds.access_key),
            "method": draft.method,
            "path": draft.path,
            "query": draft.query_text,
            "path_query": draft.target,
            "body": body,
        }
        secret = str(reveal(creds.secret_key))  # signing is where the keys are revealed
        key = base64.b64decode(secret, validate=True) if self.secret_base64 else secret.encode()
        message = str(reveal(self.message(values))).encode()
        mac = hmac.new(key, message, DIGESTS[self.digest])
        values["signature"] = (
            mac.hexdigest() if self.encoding == "hex" else base64.b64encode(mac.digest()).decode()
        )
        for name, value in self.headers(values).items():
            draft.set_header(name, value)


def parse(f: Field) -> HmacSigner:
    given = f.fields(KEYS, required=("message", "headers"))
    digest = given["digest"].text().lower() if "digest" in given else "sha256"
    if digest not in DIGESTS:
        raise given["digest"].expected("one of " + ", ".join(DIGESTS))
    encoding = given["encoding"].text().lower() if "encoding" in given else "hex"
    if encoding not in ENCODINGS:
        raise given["encoding"].expected("hex or base64")
    secret = given["secret"].text() if "secret" in given else "text"
    if secret not in ("text", "base64"):
        raise given["secret"].expected("text (the secret's bytes as issued) or base64")
    message_f = given["message"]
    if not isinstance(message_f.value, str):
        raise message_f.expected("a text template like '{timestamp_ms}{method}{path_query}'")
    try:
        message = compile_template(message_f.value, MESSAGE_VARS)
    except TemplateError as exc:
        raise message_f.error(str(exc)) from None
    headers_f = given["headers"]
    if not isinstance(headers_f.value, dict) or not headers_f.value:
        raise headers_f.expected("a mapping of header name to template")
    try:
        headers = compile_template(headers_f.value, MESSAGE_VARS | {"signature"})
    except TemplateError as exc:
        raise headers_f.error(str(exc)) from None
    if "signature" not in headers.variables:
        raise headers_f.error("no header carries {signature}")
    return HmacSigner(
        str(f.value["scheme"]), digest, encoding, message, headers, secret == "base64"
    )
