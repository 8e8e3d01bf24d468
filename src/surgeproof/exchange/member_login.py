"""The app login every dialect offers (none of the public APIs has one): sessions backed by the
member database and capped by ``max_sessions``.

Each login holds one slot of the small member-DB pool for ``member_db_time_ms``: the resource
that ran out at Upbit on 3 Dec 2024. Dialects only parse and render; the capacity model is here.
"""

from __future__ import annotations

import hmac
import time

from surgeproof.exchange.accounts import Account
from surgeproof.exchange.capacity import Shed
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.sessions import Session
from surgeproof.exchange.state import ExchangeState


def busy(message: str) -> ApiError:
    return ApiError(503, "server_busy", message)


async def log_in(
    state: ExchangeState, deadline: float, member_id: object, password: object
) -> tuple[Session, Account]:
    """Check the member's password in the member DB and open a session (401 / 503 otherwise)."""
    if not isinstance(member_id, str) or not isinstance(password, str):
        raise validation("member_id and password are required strings")
    if state.sessions.full():
        raise busy("too many concurrent sessions")
    try:
        await state.db_pool.hold(deadline, state.db_time_s)
    except Shed as exc:
        raise busy(f"member database unavailable ({exc.reason})") from None
    try:
        account = state.by_member.get(member_id)
        ok = account is not None and hmac.compare_digest(
            account.password.encode(), password.encode("utf-8", "surrogatepass")
        )
    finally:
        state.db_pool.release()
    if not ok or account is None:
        raise ApiError(401, "invalid_credentials", "member id or password is wrong")
    if state.sessions.full():  # others got in while this login was in the database
        raise busy("too many concurrent sessions")
    session = state.sessions.open(member_id, account.access_key)
    state.metrics.at(int(time.time())).logins += 1
    return session, account


def log_out(state: ExchangeState, token: object) -> None:
    """End a session (400 without a token, 404 when it is unknown or expired)."""
    if not isinstance(token, str) or not token:
        raise validation("X-Session-Token header is required")
    if not state.sessions.close(token):
        raise ApiError(404, "session_not_found", "no such session (logged out or expired)")
