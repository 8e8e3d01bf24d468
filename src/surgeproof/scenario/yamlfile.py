"""Reading a YAML file strictly: syntax errors with line numbers, duplicate keys refused, and
the file's size, nesting and node count bounded before they can cost memory or the stack.

Anchors and aliases (``&name`` / ``*name``) are refused outright: an alias costs one line of
text and copies a whole subtree, so ten lines of nested aliases ("billion laughs") stand for
10⁹ nodes. None of our formats needs them; write the value out instead.

This is the one YAML loader of the package: scenario, profile, dialect, target-config and
accounts files all come through it (the exchange, which imports nothing of the package, has its
own in ``exchange/safe_yaml.py`` under the same rules).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from surgeproof.scenario.bounds import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.yaml_numbers import plain_decimal_numbers

#: What an anchor or alias is told (the refusal names its line and column).
ALIASES_REFUSED = "anchors and aliases (&name, *name) are not accepted; write the value out"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last silently),
    a key that is a list or a mapping, an integer too long to be one, anchors and aliases,
    nesting deeper than ``MAX_DEPTH`` (PyYAML's composer recurses once per level: 10,000 ``[``
    overflow the stack) and more than ``max_nodes`` nodes.
    """

    _depth = 0
    _nodes = 0
    max_nodes: int | None = MAX_NODES

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        # Refused where they are written, before PyYAML resolves a single copy.
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(None, None, ALIASES_REFUSED, event.start_mark)
        self._nodes += 1
        if self.max_nodes is not None and self._nodes > self.max_nodes:
            raise yaml.composer.ComposerError(
                None, None, f"more than {self.max_nodes:,} values in one file", event.start_mark
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


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key that is a list or a mapping (keys are text)", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, str | int | float) and key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} given twice (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:  # Python refuses to parse integers of more than 4,300 digits
        raise yaml.constructor.ConstructorError(
            None, None, "an integer too long to be a number", node.start_mark
        ) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
plain_decimal_numbers(_StrictLoader)  # no 1_000, 0x10, 1:30, .inf: see yaml_numbers


def display_path(path: str | Path) -> str:
    """The path as a user would write it: relative to the working directory when inside it."""
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return rel if not rel.startswith("..") else os.path.abspath(text)


def read_yaml(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[Any, str]:
    """The parsed document and the display name of ``path``; ScenarioError on any failure."""
    source = display_path(path)
    return parse_yaml(read_text_bounded(path, source, max_bytes), source), source


def read_text_bounded(path: str | Path, source: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``; ScenarioError otherwise.

    The size is known before the text is: a device (``/dev/zero``), a pipe or a file larger than
    the bound is refused after reading at most ``max_bytes + 1`` bytes.
    """
    try:
        # stat before open: opening a FIFO would block until something writes to it.
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(source, "", "is a directory, expected a YAML file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(source, "", "not a regular file (a device or a pipe?)")
        if info.st_size > max_bytes:
            raise ScenarioError(source, "", _too_large(info.st_size, max_bytes))
        with open(path, "rb") as fh:
            # Ask for the size stat gave (+1 to see growth): read(n) allocates n bytes first.
            data = fh.read(info.st_size + 1)
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(source, "", "is a directory, expected a YAML file") from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > info.st_size:
        raise ScenarioError(source, "", "grew while being read (still being written?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, "", f"not UTF-8 text (byte {exc.start})") from None


def _too_large(size: int, limit: int) -> str:
    return f"{size:,} bytes, larger than the {limit:,} a file of this kind may have"


def parse_yaml(text: str, source: str, max_nodes: int | None = MAX_NODES) -> Any:
    """Parse YAML text; a syntax error becomes ``<source>: line N, column M: bad YAML: ...``.

    ``max_nodes`` None leaves the count bounded by the text's size alone (accounts files, which
    hold a million accounts).
    """
    loader = _StrictLoader(text)
    loader.max_nodes = max_nodes
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = exc.problem or exc.context or "syntax error"
        raise ScenarioError(source, where, f"bad YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "", f"bad YAML: {exc}") from None
    finally:
        loader.dispose()
