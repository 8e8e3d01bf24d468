"""``login-token`` signing: the token the login answered with is the credential.

For an exchange (or a staging API) whose private calls carry the app's session rather than an
API-key signature, e.g. ``headers: {Authorization: "Bearer {session_token}"}``. Signed calls
need a login first, so every behaviour that signs logs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surgeproof.dialect.draft import Draft
from surgeproof.dialect.template import Template, TemplateError, compile_template
from surgeproof.scenario.fields import Field


@dataclass(frozen=True)
class LoginTokenSigner:
    scheme: str
    headers: Template
    needs_keys: bool = False
    needs_session: bool = True

    def sign(self, draft: Draft, creds: Any, session_token: str | None) -> None:
        if session_token is None:
            return
        for name, value in self.headers({"session_token": session_token}).items():
            draft.set_header(name, value)


def parse(f: Field) -> LoginTokenSigner:
    given = f.fields(("scheme", "headers"), required=("headers",))
    headers_f = given["headers"]
    if not isinstance(headers_f.value, dict) or not headers_f.value:
        raise headers_f.expected("a mapping of header name to template")
    try:
        headers = compile_template(headers_f.value, frozenset({"session_token"}))
    except TemplateError as exc:
        raise headers_f.error(str(exc)) from None
    if "session_token" not in headers.variables:
        raise headers_f.error("no header carries {session_token}")
    return LoginTokenSigner(str(f.value["scheme"]), headers)
