"""The built-in dialects (``builtin/*.yaml``) and loading a dialect by name or by path."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from surgeproof.confine import UnsafePath, checked_parts, open_confined
from surgeproof.dialect.model import Dialect
from surgeproof.dialect.parse import merge_extends, parse_dialect
from surgeproof.scenario.bounds import MAX_FILE_BYTES
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.fields import Field
from surgeproof.scenario.yamlfile import display_path, parse_yaml, read_text_bounded

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


def load_dialect(ref: str | Path, beside: Path | None = None, named_in: str = "dialect") -> Dialect:
    """A compiled dialect: a built-in name (``coinone``) or a YAML file's path.

    With ``beside`` (the folder of the scenario whose field ``named_in`` names the dialect), a
    path is looked up in that folder only, as an ``extends:`` is: a file handed to us cannot
    make us read elsewhere.
    """
    doc, source, text = _document(str(ref), beside, 0, named_in)
    return parse_dialect(doc, source, text)


def _document(ref: str, base_dir: Path | None, depth: int, where: str) -> tuple[Any, str, str]:
    """(merged document, source, text to keep) of a dialect reference.

    ``base_dir`` None: ``ref`` is a name or a path the user gave on the command line. Otherwise
    it was written in a file in ``base_dir`` (an ``extends:``, a scenario's ``dialect:``) and
    may only name a built-in or a file in that folder or below it.
    """
    if depth > MAX_EXTENDS:
        raise ScenarioError(ref, "extends", f"more than {MAX_EXTENDS} levels (a loop?)")
    if not is_path(ref):
        path = _builtin(ref, where)
        source = f"builtin:{path.stem}"
        text = read_text_bounded(path, source)
    elif base_dir is None:
        path = Path(ref)
        source = display_path(path)
        text = read_text_bounded(path, source)
    else:
        path, source, text = _beside(ref, base_dir, where)
    doc = parse_yaml(text, source)
    builtin = source.startswith("builtin:")

    def lookup(f: Field) -> dict[str, Any]:
        if not isinstance(f.value, str) or not f.value.strip():
            raise f.expected("a built-in dialect name or a dialect file's name")
        name = f.value.strip()
        if builtin and is_path(name):
            raise f.error("a built-in dialect extends only built-in dialects")
        parent, _src, _text = _document(name, path.parent, depth + 1, f"{source}: extends")
        if not isinstance(parent, dict):
            raise f.error(f"{name!r} is not a dialect (expected a mapping at its top)")
        return parent

    merged = merge_extends(doc, source, lookup)
    if merged is not doc:
        # Keep the resolved document: a run directory's copy must stand on its own.
        text = f"# {source}, with what it extends merged in (resolved by surgeproof)\n" + yaml.dump(
            merged, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True
        )
    return merged, source, text


class _NoAliasDumper(yaml.SafeDumper):
    """Writes a value twice rather than as an alias: the copy is read back by our loader, which
    refuses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _builtin(ref: str, where: str) -> Path:
    path = builtin_path(ref)
    if path is None:
        names = builtin_names()
        close = difflib.get_close_matches(ref[:100], names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = f"{hint}built-in: {', '.join(names)} (or a .yaml file)"
        shown = ref if len(ref) <= 40 else ref[:37] + "..."
        if where == "dialect":  # named on the command line
            raise ScenarioError(shown, "", f"no such dialect; {known}")
        raise ScenarioError(where, "", f"no such dialect {shown!r}; {known}")
    return path


def _beside(ref: str, base_dir: Path, where: str) -> tuple[Path, str, str]:
    """The dialect file ``ref`` in ``base_dir`` (or a folder below it), opened without following
    a link; a name that would climb out, be absolute or hide is refused without a look."""
    shown = ref if len(ref) <= 60 else ref[:57] + "..."
    try:
        parts = checked_parts(ref.removeprefix("./"), where)
    except UnsafePath:
        raise ScenarioError(
            where,
            "",
            f"{shown!r} is not a file beside it: expected a built-in dialect "
            f"({', '.join(builtin_names())}) or a dialect file in the same folder (names of "
            "letters, digits, '.', '_', '-'; no '..', no absolute path)",
        ) from None
    path = base_dir.joinpath(*parts)
    source = display_path(path)
    try:
        fd = open_confined(base_dir, parts, os.O_RDONLY | os.O_NONBLOCK, where)
    except UnsafePath:
        raise ScenarioError(where, "", f"{shown!r} is a link; links are not followed") from None
    except FileNotFoundError:
        raise ScenarioError(where, "", f"no such dialect file {shown!r} beside it") from None
    except OSError as exc:
        raise ScenarioError(where, "", f"{shown!r}: cannot read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(where, "", f"{shown!r} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(where, "", f"{shown!r} is larger than {MAX_FILE_BYTES:,} bytes")
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(where, "", f"{shown!r} is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return path, source, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(where, "", f"{shown!r} is not UTF-8 text") from None


def parse_dialect_text(text: str, source: str) -> Dialect:
    """A dialect from YAML text (a run directory's copy); no ``extends`` left to resolve."""
    doc = parse_yaml(text, source)
    return parse_dialect(doc, source, text)
