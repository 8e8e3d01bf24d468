"""Typed records of ``analysis.json``: each section a dataclass, read and written by its fields.

A record's fields are its JSON keys, in the order the analysis writes them. Their type hints are
the contract: ``str``, ``bool``, ``int``, ``float`` (a JSON number: an integer is kept as it was
written, so a document read and written again is the same bytes), ``X | None``, ``list[X]``,
``dict[str, X]``, ``Literal[...]``, a nested record, or :data:`Json` (a section this contract
leaves to its own module, kept as it is). A field whose default is :data:`ABSENT` is documented
as optional or additive: it may be missing (it is then not written either).

Reading is strict on types and tolerant of keys it does not know (a newer analysis may add
some); writing is strict on both, so a field the analysis writes but the contract does not name
fails the write (and its test) instead of being read as missing.
"""

from __future__ import annotations

import math
import sys
import types
import typing
from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from surgeproof.errors import UserError

#: A JSON value this contract does not type (a section with its own reader), kept as it is.
Json = Any

#: Longest field path an error message names; deeper paths are cut (a crafted file may nest).
_MAX_PATH = 200


class _Absent:
    """The value of a documented optional/additive field that the document does not hold."""

    _instance: ClassVar[_Absent | None] = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "ABSENT"


#: A documented optional/additive field the document does not hold (falsy; never written).
ABSENT: Any = _Absent()


class ContractError(UserError):
    """analysis.json does not hold what its contract says: one line naming the field."""


R = TypeVar("R", bound="Record")


@dataclass
class Record:
    """A section (or part of one) of analysis.json; subclasses are dataclasses of its fields."""

    @classmethod
    def from_json(cls: type[R], value: Any, source: str = "", *, strict: bool = False) -> R:
        """The record ``value`` (parsed JSON from ``source``) holds; ``strict`` also refuses
        keys the record does not name. Errors are one line: ``source: field.path: why``."""
        try:
            return _read(cls, value, "", strict)
        except ContractError as exc:
            raise ContractError(f"{source or cls.__name__}: {exc}") from None
        except RecursionError:  # nested past the stack: a crafted file
            raise ContractError(f"{source or cls.__name__}: nested too deeply") from None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this record, keys in field order, absent fields left out."""
        return _write_record(self)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _where(path: str) -> str:
    path = path or "the document"
    return path if len(path) <= _MAX_PATH else path[:_MAX_PATH] + "..."


def _join(path: str, key: str) -> str:
    # A key from a crafted file is shown, never obeyed: no line breaks or escapes, short.
    if not (key.isprintable() and len(key) <= 60):
        key = repr(key[:60])
    return f"{path}.{key}" if path else key


def _fail(path: str, expected: str, value: Any) -> typing.NoReturn:
    where = _where(path)
    got = _type_name(value)
    if isinstance(value, str) and len(value) <= 40 and value.isprintable():
        got = repr(value)
    raise ContractError(f"{where}: expected {expected}, got {got}")


@cache
def _hints(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(field, type, may be absent) of a record class, resolved once."""
    module = sys.modules[cls.__module__]
    hints = typing.get_type_hints(cls, vars(module))
    out = []
    for f in fields(cls):
        out.append((f.name, hints[f.name], f.default is ABSENT))
    return tuple(out)


def _key(name: str) -> str:
    """A field's JSON key: Python names cannot hold the dots some keys have (``p99.9``)."""
    return name.replace("__", ".")


def _read(tp: Any, value: Any, path: str, strict: bool) -> Any:
    if tp is Any:
        return value
    if isinstance(tp, type) and is_dataclass(tp):
        return _read_record(tp, value, path, strict)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None:
            if type(None) in options:
                return None
            _fail(path, _describe(tp), value)
        rest = [t for t in options if t is not type(None)]
        if len(rest) == 1:
            return _read(rest[0], value, path, strict)
        for t in rest:  # unions of plain kinds: the first that takes the value
            try:
                return _read(t, value, path, strict)
            except ContractError:
                continue
        _fail(path, _describe(tp), value)
    if origin is Literal:
        if value not in get_args(tp) or isinstance(value, bool):
            _fail(path, _describe(tp), value)
        return value
    if origin is list:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        [item] = get_args(tp)
        plain = _plain_types(item)
        if plain is not None:
            # A column of plain values (a series of a week of windows): its types checked at
            # C speed, kept as it is; NaN and Infinity never get this far (the JSON reader and
            # writer refuse them). A value of another type is named by the slow path.
            if not set(map(type, value)) <= plain:
                for i, v in enumerate(value):
                    _read(item, v, f"{path}[{i}]", strict)
            return value
        return [_read(item, v, f"{path}[{i}]", strict) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        _, item = get_args(tp)
        return {k: _read(item, v, _join(path, k), strict) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            _fail(path, "true or false", value)
        return value
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(path, "an integer", value)
        return value
    if tp is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            _fail(path, "a number", value)
        if isinstance(value, float) and not math.isfinite(value):
            _fail(path, "a finite number", value)
        return value
    if tp is str:
        if not isinstance(value, str):
            _fail(path, "a string", value)
        return value
    raise TypeError(f"{path}: the contract cannot read type {tp!r}")


#: The Python types JSON values of a plain field type come as.
_PLAIN: dict[Any, frozenset[type]] = {
    bool: frozenset({bool}),
    int: frozenset({int}),
    float: frozenset({float, int}),
    str: frozenset({str}),
}


@cache
def _plain_types(tp: Any) -> frozenset[type] | None:
    """The types list items of a plain field type (or it or null) may have, else None."""
    if tp in _PLAIN:
        return _PLAIN[tp]
    if get_origin(tp) in (Union, types.UnionType):
        options = get_args(tp)
        rest = [t for t in options if t is not type(None)]
        if len(rest) == 1 and rest[0] in _PLAIN and len(options) == 2:
            return _PLAIN[rest[0]] | {type(None)}
    return None


def _read_record(cls: type, value: Any, path: str, strict: bool) -> Any:
    if not isinstance(value, dict):
        _fail(path, "an object", value)
    kwargs = {}
    names = set()
    for name, tp, optional in _hints(cls):
        key = _key(name)
        names.add(key)
        if key not in value:
            if optional:
                kwargs[name] = ABSENT
                continue
            raise ContractError(f"{_where(_join(path, key))}: missing")
        kwargs[name] = _read(tp, value[key], _join(path, key), strict)
    if strict:
        for key in value:
            if key not in names:
                where = _where(_join(path, str(key)))
                raise ContractError(f"{where}: not a field of the contract ({cls.__name__})")
    return cls(**kwargs)


def _write(value: Any) -> Any:
    if isinstance(value, Record):
        return _write_record(value)
    if isinstance(value, list):
        if value and not isinstance(value[0], Record | list | dict):
            return value  # a column of plain values: written as it is
        return [_write(v) for v in value]
    if isinstance(value, dict):
        return {k: _write(v) for k, v in value.items()}
    return value


def _write_record(record: Record) -> dict[str, Any]:
    out = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if value is ABSENT:
            continue
        out[_key(f.name)] = _write(value)
    return out


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(t) for t in get_args(tp))
    if tp is type(None):
        return "null"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if tp in names:
        return names[tp]
    if origin is list:
        return "a list"
    if origin is dict or (isinstance(tp, type) and is_dataclass(tp)):
        return "an object"
    return str(tp)


def documented_keys(cls: type) -> dict[str, Any]:
    """Each JSON key of a record class with its type (for the test against FORMAT.md)."""
    return {_key(name): tp for name, tp, _ in _hints(cls)}
