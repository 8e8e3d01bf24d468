"""The client side of exchange APIs: how each action a simulated person takes is asked for.

A dialect (a YAML file; ``builtin/`` holds Upbit's, Bithumb's and Coinone's) turns actions into
requests — path, query, body, signing — and reads the answers back. The format is in
``FORMAT.md``. Imports nothing of surgeproof but ``errors`` and the scenario package's YAML
field helpers, so the load layer, the CLI and tests use it alike.
"""

from surgeproof.dialect.catalog import builtin_names, load_dialect, parse_dialect_text
from surgeproof.dialect.model import Dialect, HttpAction

__all__ = ["Dialect", "HttpAction", "builtin_names", "load_dialect", "parse_dialect_text"]
