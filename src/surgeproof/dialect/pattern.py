"""Regular expressions from dialect files, compiled with RE2: matching time is linear in the
text whatever the pattern says, so no dialect can make reading an answer take forever.

Python's ``re`` backtracks: ``(\\d+)+x`` against 40 digits takes longer than the universe has
existed, holding the GIL, so not even a signal handler runs. Deciding which patterns backtrack
badly is an open research problem (nested and overlapping quantifiers are the known shapes,
not the only ones), so instead of a rule that guesses we use an engine that cannot backtrack:
Google's RE2 (``google-re2``, its official bindings). A pattern RE2 does not take
(backreferences, look-around: the features that need backtracking) is refused when the dialect
is validated, naming the field.

Only the first ``MAX_SUBJECT_CHARS`` of a header are searched, and results are remembered per
header text: a rate-limit header repeats a handful of values (Upbit's ``sec=`` counts down from
10), so the hot path is one dictionary lookup.
"""

from __future__ import annotations

import re2

#: Longest pattern accepted (the built-in dialects' are under 20 characters).
MAX_PATTERN_CHARS = 500
#: How much of a header value is searched.
MAX_SUBJECT_CHARS = 1024
#: Distinct header values remembered before the memory is cleared.
MEMO_ENTRIES = 512

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the refusal is ours, one line; RE2 would also print to stderr
_OPTIONS.max_mem = 1 << 20  # a pattern whose program needs more is refused, not compiled


class PatternError(ValueError):
    """A pattern RE2 does not take; the message says why, without the subject of any match."""


class Pattern:
    """A compiled dialect pattern: ``first_group(text)`` is group 1 of its first match."""

    __slots__ = ("_memo", "_rx", "groups", "text")

    def __init__(self, text: str) -> None:
        if len(text) > MAX_PATTERN_CHARS:
            raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
        try:
            self._rx = re2.compile(text, _OPTIONS)
        except re2.error as exc:
            raise PatternError(_reason(exc)) from None
        self.text = text
        self.groups: int = self._rx.groups
        self._memo: dict[str, str | None] = {}

    def first_group(self, subject: str) -> str | None:
        """Group 1 of the first match in ``subject`` (None: no match, or the group took no part)."""
        memo = self._memo
        try:
            return memo[subject]
        except KeyError:
            pass
        m = self._rx.search(subject[:MAX_SUBJECT_CHARS])
        found = m.group(1) if m is not None else None
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        memo[subject] = found
        return found

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"


def _reason(exc: re2.error) -> str:
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:120] or "not accepted"
