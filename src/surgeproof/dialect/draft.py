"""A request on its way out: rendered from an action's templates, then signed, then sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


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
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(slots=True)
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

    def encode_body(self) -> None:
        """(Re-)encode ``body`` as compact JSON (after a signer added fields to it)."""
        self.body_bytes = json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()
        self.headers["Content-Type"] = "application/json"

    def key_values(self, access_key: str) -> dict[str, Any]:
        """What a signer's templates may use: the key id, this request's nonce and time."""
        return {"access_key": access_key, "uuid": self.nonce, "timestamp_ms": self.timestamp_ms}

    @property
    def target(self) -> str:
        """Path and query, as the request line carries them."""
        return f"{self.path}?{self.query_text}" if self.query_text else self.path

    def signed_params(self) -> str:
        """The url-encoded parameters a query hash covers: the body's, else the query's."""
        if self.body:
            return query_string({k: v for k, v in self.body.items() if not isinstance(v, dict)})
        return self.query_text
