"""What may reach a terminal (or a rendered document): text without control characters.

Phase labels, scenario and endpoint names, run ids and error messages come from files and
targets anyone can craft. Printed as they are, an ESC sequence in one can clear the screen,
rewrite earlier lines, set the window title, plant a hyperlink (OSC 8) or write the clipboard
(OSC 52), and a bidi override can make a line read differently from what it says. ``printable``
removes all of that; ``sanitized_output`` applies it to everything the command line prints, at
the one edge every print goes through, so no call site can forget it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

#: Whole escape sequences, so their parameters go too: CSI (``ESC [ ... final``); OSC, DCS,
#: SOS, PM and APC strings up to BEL or ST; other two- and three-byte ESC sequences; and the
#: 8-bit C1 forms of the same introducers.
_SEQUENCES = re.compile(
    "(?:\x1b\\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)?"
    "|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
#: C0 controls but tab and line feed, DEL, C1 controls, the bidi marks, embeddings, overrides
#: and isolates, and the Unicode line and paragraph separators.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def printable(text: str) -> str:
    """``text`` without escape sequences, control characters (but tab and newline) or bidi
    controls: what it says, and nothing a terminal would act on."""
    if text.isprintable():  # the common case: nothing to remove (tab and newline aside)
        return text
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def one_line(text: object) -> str:
    """``printable`` text on one line: a name or label from outside cannot start a line of its
    own (``"ok\\nPASS  every requirement"``); line breaks and tabs become spaces."""
    return printable(str(text)).replace("\n", " ").replace("\t", " ")


class PrintableStream:
    """A text stream that writes only ``printable`` text to the one it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def sanitized_output() -> Iterator[None]:
    """Standard output and standard error, for the duration, pass through ``printable``."""
    saved = sys.stdout, sys.stderr
    sys.stdout = PrintableStream(sys.stdout)  # type: ignore[assignment]
    sys.stderr = PrintableStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
