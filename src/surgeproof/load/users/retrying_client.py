"""A retrying client: an app user whose failed calls are re-sent per the phase's retry policy.

With ``backoff_s: 0`` it re-sends at once (the amplifying kind that turned Binance's 2020
overload into an outage); with a backoff it waits ``backoff_s * backoff_factor**(n-1)``.
"""

from __future__ import annotations

from surgeproof.load.users.app_user import AppUser


class RetryingClient(AppUser):
    name = "retrying_client"
    rate_per_s = 0.5
    retries = True
