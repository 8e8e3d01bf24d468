"""Secrets — passwords, API keys, secret keys, session tokens, the fleet key — as a type that
never prints.

A ``Secret`` holds its value where ``str``, ``repr``, f-strings, ``%`` formatting, JSON and
pickle cannot reach it: the only way out is :meth:`Secret.reveal`, called at the one place that
must send or sign with it. Errors, logs, run directories and reports therefore cannot carry a
secret by accident, whatever they print.
"""

from __future__ import annotations

import hmac
from typing import NoReturn

REDACTED = "***"


class Secret:
    """A value that is redacted wherever it would be shown."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str | bytes):
            raise TypeError("a Secret holds a str or bytes")
        self._value = value

    def reveal(self) -> str | bytes:
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
        a, b = self._value, other._value
        if isinstance(a, str):
            a = a.encode()
        if isinstance(b, str):
            b = b.encode()
        return hmac.compare_digest(a, b)  # no timing hint of how much matched

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is not serialised; pass it by reference or reveal it")


def reveal(value: Secret | str | bytes) -> str | bytes:
    """The plain value of a secret, or the value itself when it is not one."""
    return value.reveal() if isinstance(value, Secret) else value
