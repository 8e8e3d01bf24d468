"""The run directory: the documented, versioned contract between the load and analysis halves.

A run directory (``reports/<run-id>/``) is append-only while a run is going and analysable
when a run was cut short. See ``FORMAT.md`` beside this file for the layout.
"""

from surgeproof.rundir.schema import (
    KIND_NAMES,
    OUTCOME_NAMES,
    RECORD_DTYPE,
    SCHEMA_VERSION,
    Kind,
    Outcome,
    RunDirError,
)

__all__ = [
    "KIND_NAMES",
    "OUTCOME_NAMES",
    "RECORD_DTYPE",
    "SCHEMA_VERSION",
    "Kind",
    "Outcome",
    "RunDirError",
]
