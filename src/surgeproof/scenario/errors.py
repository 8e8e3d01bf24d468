"""The one error scenario and profile files raise: file, field path, what was wrong."""

from __future__ import annotations

from typing import Any

from surgeproof.errors import UserError


class ScenarioError(UserError):
    """A scenario, profile or trace file that cannot be used; ``str(e)`` is one line.

    The line reads ``<file>: <field.path>: expected <what>, got <what>`` for a value of the wrong
    kind, or ``<file>: <field.path>: <reason>`` otherwise.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")

    @classmethod
    def expected(cls, source: str, field: str, what: str, got: Any) -> ScenarioError:
        """The ``expected <what>, got <what>`` kind."""
        return cls(source, field, f"expected {what}, got {describe(got)}")


def describe(value: Any) -> str:
    """A short, human rendering of a YAML value for error messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, int) and value.bit_length() > 50:  # beyond 10**15: its size is the news
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
