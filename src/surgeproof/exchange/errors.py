"""Errors of the exchange: API errors in Upbit's JSON shape, and bad configuration."""

from __future__ import annotations

import json


class ConfigError(ValueError):
    """A capacity config or command-line value the exchange cannot run with (one line)."""


class ApiError(Exception):
    """An error answered as ``{"error": {"name": ..., "message": ...}}`` with an HTTP status."""

    def __init__(self, status: int, name: str, message: str, headers: dict | None = None):
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers or {}

    def body(self) -> bytes:
        """The JSON body Upbit sends for this error."""
        return json.dumps({"error": {"name": self.name, "message": self.message}}).encode()


def validation(message: str) -> ApiError:
    """Upbit's generic 400 for a missing or malformed parameter."""
    return ApiError(400, "validation_error", message)
