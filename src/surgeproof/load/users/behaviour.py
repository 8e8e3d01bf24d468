"""What every behaviour provides: its call rate and the next call a person of its kind makes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from surgeproof.load.users.call import Call
    from surgeproof.load.users.surge_user import SurgeUser


class Behaviour:
    """Base of the behaviours; one instance per user while it plays that role."""

    name: ClassVar[str] = ""
    #: The person's own call rate (calls/s) at intensity 1.
    rate_per_s: ClassVar[float] = 1.0
    #: Holds a websocket ticker subscription while playing this role.
    watches_websocket: ClassVar[bool] = False
    #: Polls rarely: its HTTP calls share the process's connection pool instead of holding an
    #: idle keep-alive connection (and a descriptor on both sides) per person.
    shares_connection: ClassVar[bool] = False
    #: Re-sends failed calls per the phase's retry policy (retry amplification).
    retries: ClassVar[bool] = False
    #: Pauses its schedule when ``Remaining-Req`` says the group's second is used up or on 429.
    honours_remaining_req: ClassVar[bool] = False

    def next_call(self, user: SurgeUser) -> Call | None:
        """The call due now; None to skip this slot (nothing sensible to do)."""
        raise NotImplementedError
