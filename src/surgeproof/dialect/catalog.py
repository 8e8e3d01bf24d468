"""The built-in dialects (``builtin/*.yaml``) and loading a dialect by name or by path."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from surgeproof.dialect.model import Dialect
from surgeproof.dialect.parse import merge_extends, parse_dialect
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.fields import Field
from surgeproof.scenario.yamlfile import display_path, parse_yaml, read_yaml

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
DEFAULT = "upbit"
#: ``extends`` chains longer than this are refused (and a loop is one).
MAX_EXTENDS = 4


def builtin_names() -> list[str]:
    """Names of the built-in dialects, sorted."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    path = BUILTIN_DIR / f"{name}.yaml"
    return path if path.is_file() else None


def is_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref


def load_dialect(ref: str | Path) -> Dialect:
    """A compiled dialect: a built-in name (``coinone``) or a YAML file's path."""
    doc, source, text = _document(str(ref), None, 0)
    return parse_dialect(doc, source, text)


def _document(ref: str, base_dir: Path | None, depth: int) -> tuple[Any, str, str]:
    """(merged document, source, text to keep) of a dialect reference."""
    if depth > MAX_EXTENDS:
        raise ScenarioError(ref, "extends", f"more than {MAX_EXTENDS} levels (a loop?)")
    path = _find(ref, base_dir)
    builtin = path.parent == BUILTIN_DIR
    doc, source = read_yaml(path)
    if builtin:
        source = f"builtin:{path.stem}"
    text = path.read_text(encoding="utf-8-sig")

    def lookup(f: Field) -> dict[str, Any]:
        if not isinstance(f.value, str) or not f.value.strip():
            raise f.expected("a built-in dialect name or a dialect file's path")
        parent, _src, _text = _document(f.value.strip(), path.parent, depth + 1)
        if not isinstance(parent, dict):
            raise f.error(f"{f.value} is not a dialect mapping")
        return parent

    merged = merge_extends(doc, source, lookup)
    if merged is not doc:
        # Keep the resolved document: a run directory's copy must stand on its own.
        text = (
            f"# {source}, with what it extends merged in (resolved by surgeproof)\n"
            + yaml.safe_dump(merged, sort_keys=False, allow_unicode=True)
        )
    return merged, source, text


def _find(ref: str, base_dir: Path | None) -> Path:
    if not is_path(ref):
        path = builtin_path(ref)
        if path is None:
            names = builtin_names()
            close = difflib.get_close_matches(ref, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(
                ref, "", f"no such dialect; {hint}built-in: {', '.join(names)} (or a .yaml path)"
            )
        return path
    path = Path(ref)
    if base_dir is not None and not path.is_absolute() and not path.exists():
        path = base_dir / path
    if not path.is_file():
        raise ScenarioError(display_path(path), "", "no such dialect file")
    return path


def parse_dialect_text(text: str, source: str) -> Dialect:
    """A dialect from YAML text (a run directory's copy); no ``extends`` left to resolve."""
    doc = parse_yaml(text, source)
    return parse_dialect(doc, source, text)
