"""The exchange's capacity-config YAML, read with its cost bounded before PyYAML builds anything.

The exchange imports nothing of the rest of the package, so it keeps its own loader under the
same rules as the package's (``scenario/yamlfile.py``): numbers in plain ASCII decimal only, a
regular file of at most
``MAX_FILE_BYTES`` (checked before reading), no anchors or aliases (ten lines of nested aliases
stand for 10⁹ nodes), at most ``MAX_DEPTH`` levels and ``MAX_NODES`` values. Every refusal is a
one-line :class:`ConfigError` naming the file.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from surgeproof.exchange.errors import ConfigError

#: Largest config file read (the shipped ones are under 2 KiB).
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of mappings and lists (a config nests 3 levels).
MAX_DEPTH = 32
#: Most values in one config.
MAX_NODES = 50_000

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader whose numbers are plain ASCII decimal (``20``, ``2.5``, ``-0.1``, ``1.0e-3``).

    YAML 1.1 also reads ``1_000``, ``0x10``, ``010`` (octal), ``1:30`` (base 60), ``+5``,
    ``.inf`` and ``.nan`` as numbers; here they stay text, which the field's check refuses.
    """


_DecimalLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_DecimalLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789")
)
_DecimalLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(r"^-?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?$"),
    list("-0123456789"),
)


class _BoundedLoader(_DecimalLoader):
    """SafeLoader refusing anchors, aliases, deep nesting and too many nodes where they start."""

    _depth = 0
    _nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases (&name, *name) are not accepted; write the value out",
                event.start_mark,
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_NODES:,} values in one file", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml_file(path: str | Path) -> Any:
    """The parsed document of a config file; ConfigError (``<file>: ...``) on any failure."""
    shown = os.fspath(path)
    try:
        info = os.stat(path)  # before open: opening a FIFO would block until someone writes
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{shown}: not a regular file, expected a YAML config")
        if info.st_size > MAX_FILE_BYTES:
            raise ConfigError(
                f"{shown}: {info.st_size:,} bytes, larger than the {MAX_FILE_BYTES:,} "
                "a config may have"
            )
        with open(path, "rb") as fh:
            data = fh.read(info.st_size + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read exchange config {shown}: {exc.strerror or exc}") from None
    if len(data) > info.st_size:
        raise ConfigError(f"{shown}: grew while being read (still being written?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{shown}:{where} bad YAML: {problem}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{shown}: bad YAML: {type(exc).__name__}") from None
    finally:
        loader.dispose()
