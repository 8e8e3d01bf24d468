"""App sessions (the login the app does before it trades), capped and idle-expiring."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass


@dataclass
class Session:
    token: str
    member_id: str
    access_key: str
    last_seen: float


class SessionTable:
    """Active sessions; ``max_sessions`` (0 = unlimited) is the concurrent-user capacity."""

    def __init__(self, max_sessions: int, ttl_s: float) -> None:
        self.max_sessions = max_sessions
        self.ttl_s = ttl_s
        self.by_token: dict[str, Session] = {}
        self.by_access_key: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self.by_token)

    def full(self) -> bool:
        return bool(self.max_sessions) and len(self.by_token) >= self.max_sessions

    def open(self, member_id: str, access_key: str) -> Session:
        """A new session (the caller checked ``full()``)."""
        token = secrets.token_urlsafe(24)
        session = Session(token, member_id, access_key, time.time())
        self.by_token[token] = session
        self.by_access_key.setdefault(access_key, set()).add(token)
        return session

    def close(self, token: str) -> bool:
        """End a session; False if it did not exist (or expired)."""
        session = self.by_token.pop(token, None)
        if session is None:
            return False
        tokens = self.by_access_key.get(session.access_key)
        if tokens is not None:
            tokens.discard(token)
            if not tokens:
                del self.by_access_key[session.access_key]
        return True

    def touch(self, access_key: str, now: float) -> None:
        """A private call refreshes the idle timer of the account's sessions."""
        for token in self.by_access_key.get(access_key, ()):
            self.by_token[token].last_seen = now

    def expire(self, now: float) -> int:
        """Close sessions idle longer than the TTL; returns how many."""
        stale = [t for t, s in self.by_token.items() if now - s.last_seen > self.ttl_s]
        for token in stale:
            self.close(token)
        return len(stale)
