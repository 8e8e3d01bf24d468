"""What every behaviour provides: its call rate, the actions it uses, and its next action."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from surgeproof.load.users.act import Act
    from surgeproof.load.users.surge_user import SurgeUser


class Behaviour:
    """Base of the behaviours; one instance per user while it plays that role."""

    name: ClassVar[str] = ""
    #: The person's own call rate (calls/s) at intensity 1.
    rate_per_s: ClassVar[float] = 1.0
    #: Actions this behaviour cannot do without: a dialect lacking one cannot run it.
    needs: ClassVar[frozenset[str]] = frozenset()
    #: Actions it uses when the dialect has them (the slot is skipped otherwise).
    uses: ClassVar[frozenset[str]] = frozenset()
    #: Logs in (the app login) before anything else.
    logs_in: ClassVar[bool] = False
    #: Holds a websocket ticker subscription while playing this role.
    watches_websocket: ClassVar[bool] = False
    #: Polls rarely: its HTTP calls share the process's connection pool instead of holding an
    #: idle keep-alive connection (and a descriptor on both sides) per person.
    shares_connection: ClassVar[bool] = False
    #: Re-sends failed calls per the phase's retry policy (retry amplification).
    retries: ClassVar[bool] = False
    #: Pauses its schedule when the rate-limit header says the second is used up or on 429.
    honours_remaining_req: ClassVar[bool] = False

    def next_call(self, user: SurgeUser) -> Act | None:
        """The action due now; None to skip this slot (nothing sensible to do)."""
        raise NotImplementedError
