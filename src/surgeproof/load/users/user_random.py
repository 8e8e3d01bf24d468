"""A per-user random stream in one integer of state (``random.Random`` costs ~2.9 KB a user).

SplitMix64 (Steele, Lea & Flood 2014): fast, statistically sound for jitter and choices, and
reproducible per user id; not for anything secret.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class UserRandom:
    """``random()`` and ``uniform(a, b)`` for one simulated user."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def _next64(self) -> int:
        self._state = s = (self._state + _GOLDEN) & _MASK
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """Uniform in [0, 1)."""
        return (self._next64() >> 11) * (1.0 / (1 << 53))

    def uniform(self, a: float, b: float) -> float:
        """Uniform in [a, b)."""
        return a + (b - a) * self.random()
