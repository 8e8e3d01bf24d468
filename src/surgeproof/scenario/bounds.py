"""The bounds a scenario, profile or SLO file must lie within: sizes, nesting, and every number.

Each bound is far beyond any real surge (the FSS's largest figure is 900,000 users; a martial-law
night lasts hours) and far below what overflows a float or an int64 of nanoseconds, so a value
that passes can be scaled, summed and turned into nanoseconds without an overflow downstream.
"""

from __future__ import annotations

#: Largest scenario, profile or SLO file read (the built-in ones are under 10 KiB). The size is
#: checked before reading: ``/dev/zero`` or a 50 MB file is refused at once.
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of mappings and lists in one YAML document (scenarios nest 4 levels).
MAX_DEPTH = 32
#: Most nodes (scalars, lists, mappings) in one scenario, profile, dialect or target-config
#: document: the built-in ones hold under 2,000; a 1 MiB file of one-character items would
#: hold about 250,000 and cost seconds to build for nothing.
MAX_NODES = 50_000

#: Concurrent users a phase, level, figure or requirement may name (real users, before scaling).
MAX_USERS = 1e9
#: Longest phase, hold, ramp, backoff; also the longest whole timeline after time scaling.
MAX_DURATION_S = 7 * 86_400.0
#: Largest latency an SLO may allow (one day, in milliseconds).
MAX_LATENCY_MS = 86_400_000.0
#: Largest rate (arrivals per second, or a phase's whole-run request rate).
MAX_RATE = 1e9
#: Largest multiplier: a figure's factor (``peak * 1.2``), a phase's intensity.
MAX_FACTOR = 1e6
#: A step search's factor between coarse levels.
MAX_STEP_FACTOR = 100.0
#: Attempts of a retrying client (the first try included), and its backoff growth factor.
MAX_ATTEMPTS = 100
MAX_BACKOFF_FACTOR = 100.0
#: Scale factors (``--time-scale``, ``--user-scale``): 1/1e9 .. 1e3.
MIN_SCALE = 1e-9
MAX_SCALE = 1e3
