"""Secrets — passwords, API keys, secret keys, session tokens, the fleet key — as a type that
never prints.

A ``Secret`` holds its value where ``str``, ``repr``, f-strings, ``%`` formatting, JSON and
pickle cannot reach it: the only way out is :meth:`Secret.reveal`, called at the one place that
must send or sign with it. Errors, logs, run directories and reports therefore cannot carry a
secret by accident, whatever they print.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import quote, quote_plus

REDACTED = "***"


class Secret:
    """A value that is redacted wherever it would be shown."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes | int | float) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        # Numbers too: a PIN a dialect sends as a JSON number (``{password|number}``).
        if isinstance(value, bool) or not isinstance(value, str | bytes | int | float):
            raise TypeError("a Secret holds a str, bytes or a number")
        self._value = value

    def reveal(self) -> Any:
        """The value itself: only for the call that sends or signs with it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        if type(self._value) is not type(other._value):
            return False
        return hmac.compare_digest(_bytes(self._value), _bytes(other._value))  # no timing hint

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is not serialised; pass it by reference or reveal it")


def _bytes(value: str | bytes | int | float) -> bytes:
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else repr(value)).encode()


def reveal(value: Any) -> Any:
    """The plain value of a secret, or the value itself when it is not one."""
    return value.reveal() if isinstance(value, Secret) else value


def revealed(value: Any) -> Any:
    """``value`` with every Secret in it (in mappings and lists, at any depth) revealed: for the
    one place that encodes a request to send it, never for anything that is shown or stored.

    On the request path: a structure without a Secret is returned as it is, uncopied."""
    kind = type(value)
    if kind is Secret:
        return value._value
    if kind is dict:
        out = None
        for key, item in value.items():
            if type(item) in _NESTED:
                opened = revealed(item)
                if opened is not item:
                    if out is None:
                        out = dict(value)
                    out[key] = opened
        return value if out is None else out
    if kind is list or kind is tuple:
        items = [revealed(item) if type(item) in _NESTED else item for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


_NESTED = frozenset({Secret, dict, list, tuple})


def has_secret(value: Any) -> bool:
    """Whether a Secret hides anywhere in ``value`` (mappings and lists included)."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(has_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_secret(v) for v in value)
    return False


def redact(text: str, secrets: Iterable[Secret | None]) -> str:
    """``text`` with each secret's value — as is, URL-encoded or base64-encoded — replaced by
    ``***``: a second guard for text that came from elsewhere (an answer the target echoed a
    password into) before it is shown."""
    for secret in secrets:
        if secret is None:
            continue
        for form in _forms(secret.reveal()):
            if len(form) >= 4:  # a shorter value would redact ordinary words
                text = text.replace(form, REDACTED)
    return text


def _forms(value: str | bytes | int | float) -> set[str]:
    raw = _bytes(value)
    plain = raw.decode("utf-8", "replace")
    b64 = base64.b64encode(raw).decode()
    url64 = base64.urlsafe_b64encode(raw).decode()
    url = quote(plain, safe="")
    return {plain, url, quote_plus(plain), b64, b64.rstrip("="), url64.rstrip("=")}
