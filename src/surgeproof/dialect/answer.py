"""Reading an answer the way its dialect writes it: did it fail, why, and what it gave back.

Most of the load is market-data polling whose answers nobody reads, so an answer is parsed as
JSON only when the caller wants a value from it, or when the dialect flags errors inside 2xx
bodies and the body contains the flag's bytes at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from surgeproof.dialect.model import Dialect, HttpAction
from surgeproof.scenario.numbers import parse_number
from surgeproof.secret import Secret

_UNSET = object()
#: Extracted fields that are numbers: kept only when the answer wrote a plain, finite one.
NUMBER_EXTRACTS = frozenset({"price"})
#: Answer fields that are credentials: handed back as :class:`Secret`.
SECRET_FIELDS = frozenset({"session_token"})


@dataclass(slots=True)
class Reading:
    """What one answer means: ``kind`` None when it worked, else one of ``ERROR_KINDS``."""

    kind: str | None
    code: str | None
    fields: dict[str, Any]
    #: The rate-limit header says this second's calls are used up (the next call would be 429).
    second_used_up: bool = False


def read_answer(
    dialect: Dialect,
    action: HttpAction,
    status: int,
    header: Callable[[str], str | None],
    content: bytes | None,
    wants: tuple[str, ...] = (),
) -> Reading:
    """Classify an HTTP answer (``status`` > 0) and pull out the ``wants`` fields."""
    rules = dialect.errors
    data: Any = _UNSET
    kind = _status_kind(status, action, rules.statuses)
    code = None
    if (
        rules.body_pointer is not None
        and content
        and (kind is not None or _flagged(rules, content))
    ):
        data = _json(content)
        if kind is None and rules.body_pointer.find(data) == rules.body_equals:
            kind = "client_error"
        if kind is not None and rules.code_pointer is not None:
            raw = rules.code_pointer.find(data)
            code = None if raw is None else str(raw)
            if code is not None and code in rules.codes:
                kind = rules.codes[code]
    fields: dict[str, Any] = {}
    if wants and kind is None:
        if data is _UNSET:
            data = _json(content)
        for name in wants:
            pointer = action.extract.get(name)
            if pointer is not None:
                value = pointer.find(data)
                if name in NUMBER_EXTRACTS:
                    value = answer_number(value)
                if value is not None:
                    # A token is a credential from the moment it is read.
                    fields[name] = Secret(_token_text(value)) if name in SECRET_FIELDS else value
    used_up = False
    rule = dialect.rate_limit
    if rule is not None:
        value = header(rule.header)
        if value:
            used_up = rule.remaining.first_group(value) == "0"
    return Reading(kind, code, fields, used_up)


def _token_text(value: Any) -> str | int | float:
    return (
        value
        if isinstance(value, str | int | float) and not isinstance(value, bool)
        else (json.dumps(value))
    )


def _status_kind(status: int, action: HttpAction, statuses: dict[int, str]) -> str | None:
    mapped = statuses.get(status)
    if mapped is not None:
        return mapped
    if status < 400:
        return None
    if status == 429:
        return "rate_limited"
    if status == 418:
        return "blocked"
    if status >= 500:
        return "server_error"
    if status == 401 and action.session:
        return "session_expired"
    return "client_error"


def _flagged(rules, content: bytes) -> bool:
    return rules.marker is None or rules.marker in content


def answer_number(value: Any) -> float | None:
    """A number as an answer gave it: a finite JSON number, or plain ASCII decimal text
    (``"131000000.0"``); None for anything else (``"١٢٣"``, ``"1_000"``, ``"inf"``, ``true``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            return None
        return number if math.isfinite(number) else None
    try:
        return parse_number(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _json(content: bytes | None) -> Any:
    if not content:
        return None
    try:
        return json.loads(content, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not an answer
        return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
