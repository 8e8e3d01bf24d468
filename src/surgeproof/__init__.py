"""surgeproof: prove whether a crypto exchange survives a traffic surge."""

__version__ = "0.1.0"
