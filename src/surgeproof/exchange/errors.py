"""Errors of the exchange: API errors (rendered by each dialect), and bad configuration."""

from __future__ import annotations

import json


class ConfigError(ValueError):
    """A capacity config or command-line value the exchange cannot run with (one line)."""


class ApiError(Exception):
    """An error answer: its status (what the metrics book), a name, a message.

    ``name`` is the exchange's own vocabulary (Upbit's error names, which the engine raises);
    each dialect renders it in its own envelope, and may send another HTTP status on the wire
    (Coinone answers application errors with 200). ``code`` is set where a dialect raised an
    error of its own with its own code (Coinone's numeric ``error_code``).
    """

    def __init__(
        self,
        status: int,
        name: str,
        message: str,
        headers: dict | None = None,
        code: str | None = None,
    ):
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers or {}
        self.code = code

    def body(self) -> bytes:
        """The error in Upbit's JSON shape ``{"error": {"name", "message"}}``."""
        return json.dumps({"error": {"name": self.name, "message": self.message}}).encode()


def validation(message: str) -> ApiError:
    """Upbit's generic 400 for a missing or malformed parameter."""
    return ApiError(400, "validation_error", message)
