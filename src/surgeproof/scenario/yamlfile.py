"""Reading a YAML file strictly: syntax errors with line numbers, duplicate keys refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from surgeproof.scenario.errors import ScenarioError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
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


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def display_path(path: str | Path) -> str:
    """The path as a user would write it: relative to the working directory when inside it."""
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return rel if not rel.startswith("..") else os.path.abspath(text)


def read_yaml(path: str | Path) -> tuple[Any, str]:
    """The parsed document and the display name of ``path``; ScenarioError on any failure."""
    source = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(source, "", "is a directory, expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read: {exc.strerror}") from None
    return parse_yaml(text, source), source


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error becomes ``<source>: line N, column M: bad YAML: ...``."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = exc.problem or exc.context or "syntax error"
        raise ScenarioError(source, where, f"bad YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "", f"bad YAML: {exc}") from None
