"""YAML's implicit numbers narrowed to plain ASCII decimal, for every file a user hands us.

YAML 1.1 (PyYAML) reads ``1_000``, ``0x10``, ``010`` (octal 8), ``0b11``, ``1:30`` (base 60:
90), ``+5``, ``.inf`` and ``.nan`` as numbers. A loader given these resolvers reads only
``-?digits`` as an integer and ``-?digits.digits[e±digits]`` as a float; the other forms stay
text, which the field that wanted a number refuses on one line naming the field.
"""

from __future__ import annotations

import re

import yaml

INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$", re.ASCII)
_FLOAT = re.compile(r"^-?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?$", re.ASCII)
_FIRST = list("-0123456789")


def plain_decimal_numbers(loader: type[yaml.SafeLoader]) -> None:
    """Make ``loader`` resolve only plain ASCII decimal scalars to int and float."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (INT_TAG, FLOAT_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(INT_TAG, _INT, _FIRST)
    loader.add_implicit_resolver(FLOAT_TAG, _FLOAT, _FIRST)
