"""A request on its way out: rendered from an action's templates, then signed, then sent.

A draft is the one place where secrets (passwords, API keys, session tokens) are revealed: its
query text, body bytes and header values are what goes on the wire, built from rendered values
that may still be :class:`~surgeproof.secret.Secret`. A draft never shows them — its ``repr``
names the method only — and a value that cannot go on the wire (a line break in a header, a
space in a path) is a :class:`RequestError` naming where, never what.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from surgeproof.secret import Secret, reveal, revealed

#: What a request line's target and a header value cannot carry (HTTP/1.1: no controls, and
#: no space in the target); a tab is allowed in a header value.
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BAD_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class RequestError(ValueError):
    """A request that cannot be built from this call's values; names the action, the template
    and the variables involved, never their values."""


def query_string(params: dict[str, Any] | None) -> str:
    """The url-encoded query (lists as ``key[]=a&key[]=b``, as Upbit-style servers hash it)."""
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((f"{key}[]", _text(v)) for v in value)
        else:
            pairs.append((key, _text(value)))
    return urlencode(pairs)


def _text(value: Any) -> str:
    if type(value) is Secret:
        value = value.reveal()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(slots=True, repr=False)
class Draft:
    """Method, path, query, body and headers of one request; signers add to it."""

    method: str
    path: str
    query: dict[str, Any] | None
    body: dict[str, Any] | None
    #: The request's fresh UUID and Unix-ms time: the same values its templates rendered.
    nonce: str = ""
    timestamp_ms: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    query_text: str = ""
    body_bytes: bytes | None = None

    def __post_init__(self) -> None:
        self.query_text = query_string(self.query)
        if self.body is not None and self.body_bytes is None:
            self.encode_body()

    def __repr__(self) -> str:
        return f"Draft({self.method}, {len(self.headers)} headers)"  # values may be secrets

    def encode_body(self) -> None:
        """(Re-)encode ``body`` as compact JSON (after a signer added fields to it)."""
        self.body_bytes = json.dumps(
            revealed(self.body), separators=(",", ":"), ensure_ascii=False
        ).encode()
        self.headers["Content-Type"] = "application/json"

    def set_header(self, name: str, value: Any) -> None:
        """Put ``value`` (a Secret is revealed here) on the wire as header ``name``."""
        text = str(reveal(value))
        # Printable ASCII is the rule (one C pass); only then look for what else is allowed (tab).
        if not (text.isascii() and text.isprintable()) and (
            not text.isascii() or _BAD_HEADER.search(text)
        ):
            raise RequestError(
                f"header {name}: the value holds a line break, a control or a non-ASCII "
                "character, which a header cannot carry"
            )
        self.headers[name] = text

    def key_values(self, access_key: Any) -> dict[str, Any]:
        """What a signer's templates may use: the key id, this request's nonce and time."""
        return {"access_key": access_key, "uuid": self.nonce, "timestamp_ms": self.timestamp_ms}

    @property
    def target(self) -> str:
        """Path and query, as the request line carries them."""
        return f"{self.path}?{self.query_text}" if self.query_text else self.path

    def check_target(self) -> None:
        """A RequestError when the path cannot stand in a request line (a space, a control)."""
        if not self.path.isascii() or _BAD_TARGET.search(self.path):
            raise RequestError(
                "the path holds a space, a control or a non-ASCII character, which a request "
                "line cannot carry"
            )

    def signed_params(self) -> str:
        """The url-encoded parameters a query hash covers: the body's, else the query's."""
        if self.body:
            return query_string({k: v for k, v in self.body.items() if not isinstance(v, dict)})
        return self.query_text
