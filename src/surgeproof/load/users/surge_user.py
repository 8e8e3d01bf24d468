"""``SurgeUser``: one simulated person, offering calls on its own schedule (open model).

Calls are due at intended times (the role's rate × the phase's intensity, jittered ±50%)
whether or not earlier answers came back. A person holds no greenlet of its own: the process's
call clock (``call_clock``) holds every user's arrival and next due time and hands each due
call to its user, which gives it to a courier greenlet (``couriers``) while it has fewer than
``max_inflight_per_user`` calls in flight; beyond that it is recorded as ``backlogged`` when
those calls are out and unanswered (the target's failure), or ``missed`` when some were still
waiting for the generator to send them (its own). Latency is measured from the intended time.
With the closed model the user's next call is set only a think time after each answer, and its
records carry the closed-model flag.
"""

from __future__ import annotations

import logging
import traceback
import zlib
from typing import Any

import gevent
from gevent.pool import Group
from locust import User

from surgeproof.dialect.answer import read_answer
from surgeproof.dialect.draft import RequestError
from surgeproof.load.context import InFlight, LoadContext
from surgeproof.load.order_journal import JOURNALED
from surgeproof.load.outcome import (
    outcome_of_error,
    outcome_of_kind,
    outcome_of_status,
    unsent_outcome,
)
from surgeproof.load.recorder import now_ns
from surgeproof.load.state import LoadState, role_for
from surgeproof.load.subscription import TickerSubscription
from surgeproof.load.users import act
from surgeproof.load.users.act import MARKET, Act
from surgeproof.load.users.behaviour import Behaviour
from surgeproof.load.users.call_clock import Due
from surgeproof.load.users.connections import (
    TargetHttp,
    ensure_fd_limit,
    shared_http,
    sources_for,
)
from surgeproof.load.users.registry import BEHAVIOUR_CLASSES
from surgeproof.load.users.user_random import UserRandom
from surgeproof.rundir.schema import FLAG_CLOSED_MODEL, FLAG_ORDER_SUBMIT, FLAG_RETRY, Outcome
from surgeproof.secret import Secret

RETRYABLE = frozenset(
    {Outcome.SERVER_ERROR, Outcome.TIMEOUT, Outcome.CONNECTION_ERROR, Outcome.RATE_LIMITED}
)
#: Open orders a person remembers (to cancel later); older ones are forgotten, not leaked.
MAX_OPEN_ORDERS = 32
#: After a call that could not even be prepared (a bug, reported), the person's next try.
ERROR_PAUSE_S = 1.0

logger = logging.getLogger(__name__)


class SurgeUser(User):
    """A person in the surge; its role follows the current phase's mix."""

    network_timeout = 10.0
    connection_timeout = 5.0

    def __init__(self, environment) -> None:
        super().__init__(environment)
        ensure_fd_limit()
        #: This person's own keep-alive connections, opened at its first call of its own.
        self._http: TargetHttp | None = None
        #: Its next call (or its arrival) on the process's clock; None while a closed-model
        #: call is out.
        self._next: Due | None = None
        self._stopped = False
        self._active = False

    def start(self, group: Group) -> gevent.Greenlet:
        """Join Locust's users without a greenlet of one's own.

        Locust counts and stops users by the greenlets in its group; a person here is only a
        due time on the process's call clock, so its entry is a greenlet that is never started
        (no stack and no frames: about 7 KB less per person than one parked for the whole
        stay). Locust stopping the person kills that entry, whose link runs ``on_stop``.
        """
        entry = gevent.Greenlet(_never_started, self)
        entry.rawlink(self._stopped_by_locust)
        group.add(entry)
        self._greenlet = entry
        self._group = group
        self._begin()
        return entry

    def _begin(self) -> None:
        ctx: LoadContext = self.environment.surgeproof
        self.ctx = ctx
        self.uid = ctx.next_user_id()
        self.rng = UserRandom(self.uid * 7919 + _stable_hash(ctx.source))
        self.client_id = f"{ctx.source}-u{self.uid}"
        self.account = ctx.account_for(self.uid)
        self.logged_in = False
        self._logging_in = False  # a login is out: a person does not log in twice at once
        self.session_token: Secret | None = None
        self.open_orders: list[str] = []
        self.last_price = 100_000_000.0
        self.paused_until_ns = 0
        self.role: Behaviour | None = None
        self._ws: TickerSubscription | None = None
        self._ws_epoch = -1
        self._inflight = 0  # sent (their courier ran), not answered yet
        self._queued = 0  # due and handed to a courier the generator has not run yet
        # Arrivals spread over the second the shape spawned them in, not in one clump.
        arrive = now_ns() + int(self.rng.random() * ctx.arrival_spread_s * 1e9)
        self._next = ctx.calls.at(arrive, self._arrive)

    def _arrive(self, _at: int) -> None:
        """On the clock: the person is here; its websocket opens and its first call is set."""
        self._next = None
        self.ctx.active_users += 1
        self._active = True
        self._follow_state()
        self._schedule(now_ns() + int(self.rng.random() * self._interval() * 1e9))

    def _stopped_by_locust(self, _entry: gevent.Greenlet) -> None:
        self.on_stop()

    def on_stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if getattr(self, "ctx", None) is None:
            return  # stopped before it began
        self.ctx.calls.cancel(self._next)
        self._next = None
        if self._active:
            self.ctx.active_users -= 1
            self._active = False
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if self._inflight or self._queued or self.logged_in or self._logging_in:
            # A person who leaves logs out (the session cap counts concurrent users, not
            # leavers), on its own connection, which closes after that last call.
            self.ctx.leaving += 1
            gevent.spawn(self._leave)
        elif self._http is not None:
            self._http.close()
            self._http = None

    def _leave(self) -> None:
        try:
            # A login still in flight would leave a session nobody ends: wait for the answers
            # first (bounded by the calls' own timeouts), then log out whatever they opened.
            deadline = now_ns() + int((self.network_timeout + self.connection_timeout) * 1e9)
            while (self._inflight or self._queued) and now_ns() < deadline:
                gevent.sleep(0.1)
            if self.logged_in and self.ctx.dialect.has("logout"):
                self._send(act.LOGOUT, now_ns(), 0, 0, False)
        finally:
            self.logged_in = False
            self.ctx.leaving -= 1
            http, self._http = self._http, None
            if http is not None:
                http.close()

    @property
    def state(self) -> LoadState:
        return self.ctx.state

    def login_act(self) -> Act | None:
        """The app login with this person's account (None without one: nothing to log in to)."""
        acct = self.account
        if acct is None or self._logging_in:
            return None
        return act.login(acct.member_id, acct.password)

    def _schedule(self, at_ns: int) -> None:
        if not self._stopped:
            self._next = self.ctx.calls.at(at_ns, self._on_due)

    def _on_due(self, intended: int) -> None:
        """The call due at ``intended``: send it, or record why it cannot go; set the next."""
        self._next = None
        try:
            self._due(intended)
        except Exception as exc:
            # As Locust does with a task that raised: say so, and the person carries on.
            logger.error("%s\n%s", exc, traceback.format_exc())
            self.environment.events.user_error.fire(
                user_instance=self, exception=exc, tb=exc.__traceback__
            )
            # (A closed-model call already handed over sets the next one itself.)
            closed_out = self.state.closed_model and (self._inflight or self._queued)
            if self._next is None and not closed_out:
                self._schedule(intended + int(ERROR_PAUSE_S * 1e9))

    def _due(self, intended: int) -> None:
        role = self._follow_state()
        interval = self._interval()
        next_ns = intended + int(interval * self.rng.uniform(0.5, 1.5) * 1e9)
        if role.honours_remaining_req and intended < self.paused_until_ns:
            self._schedule(max(next_ns, self.paused_until_ns))
            return
        c = role.next_call(self)
        stand_in = self.ctx.dialect.market_orders
        if c is not None and stand_in is not None and c.action in act.MARKET_ACTIONS:
            c = act.marketable_limit(c, self.last_price, stand_in.through)
        if c is None or c.action not in self.ctx.dialect.actions:
            # Nothing to do, or an action this exchange has not (said before the run).
            self._schedule(next_ns)
            return
        if self.state.closed_model:
            # Closed loop: the next call is only due a think time after this answer.
            self._hand_over(c, now_ns(), FLAG_CLOSED_MODEL, role.retries, interval)
            return
        outcome = unsent_outcome(self._inflight, self._queued, self.ctx.max_inflight_per_user)
        if outcome is not None:
            rec = self.ctx.recorder
            spec = self.ctx.dialect.actions[c.action]
            rec.unsent(
                intended,
                rec.name_id(spec.name, spec.group),
                self.uid,
                round(self.state.target_users),
                FLAG_ORDER_SUBMIT if spec.kind.order_submit else 0,
                outcome,
            )
        else:
            self._hand_over(c, intended, 0, role.retries, None)
        self._schedule(next_ns)

    def _hand_over(
        self, c: Act, intended: int, flags: int, retries: bool, think_s: float | None
    ) -> None:
        """Give ``c`` to a courier; it counts as queued until the courier runs it."""
        self._queued += 1
        self._logging_in = self._logging_in or c.action == "login"
        self.ctx.couriers.run(self._send_counted, c, intended, flags, retries, think_s)

    def _interval(self) -> float:
        role = self.role or self._follow_state()
        rate = role.rate_per_s * max(self.state.intensity, 1e-6)
        return 1.0 / rate

    def _follow_state(self) -> Behaviour:
        st = self.state
        name = role_for(self.uid, st.mix)
        if self.role is None or self.role.name != name:
            self.role = BEHAVIOUR_CLASSES[name]()
        spec = self.ctx.dialect.websocket
        wants_ws = self.role.watches_websocket and self.ctx.ws_url is not None and spec is not None
        if wants_ws and (self._ws is None or self._ws_epoch != st.reconnect_epoch):
            if self._ws is not None:
                self._ws.close()
            url = self.ctx.ws_url
            self._ws = TickerSubscription(self, url, sources_for(url).next(), spec)
            self._ws_epoch = st.reconnect_epoch
            self._ws.start()
        elif not wants_ws and self._ws is not None:
            self._ws.close()
            self._ws = None
        return self.role

    def _send_counted(
        self, c: Act, intended: int, flags: int, retries: bool, think_s: float | None
    ) -> None:
        """A courier sends ``c``; a closed-model call (``think_s`` given) then sets the next."""
        self._queued -= 1
        self._inflight += 1
        try:
            if think_s is not None:
                intended = now_ns()  # closed model: a call is intended when it is sent
            self._send(c, intended, 0, flags, retries)
        finally:
            self._inflight -= 1
        if think_s is not None:
            self._schedule(now_ns() + int(think_s * self.rng.uniform(0.5, 1.5) * 1e9))

    def _send(self, c: Act, intended: int, attempt: int, flags: int, retries: bool) -> None:
        """Send ``c`` (and, for retrying roles, its retries); one record per attempt."""
        if c.action != "login":
            self._attempts(c, intended, attempt, flags, retries)
            return
        # A second login while one is out would open a second session the first never ends.
        self._logging_in = True
        try:
            self._attempts(c, intended, attempt, flags, retries)
        finally:
            self._logging_in = False

    def _attempts(self, c: Act, intended: int, attempt: int, flags: int, retries: bool) -> None:
        ctx = self.ctx
        dialect = ctx.dialect
        spec = dialect.actions[c.action]
        rec = ctx.recorder
        nid = rec.name_id(spec.name, spec.group)
        conc = round(self.state.target_users)
        if spec.kind.order_submit:
            flags |= FLAG_ORDER_SUBMIT
        http = self._connection()
        while True:
            try:
                if spec.static:
                    target, body, extra = dialect.static_request(spec, MARKET)
                    headers = {"X-Client-Id": self.client_id, **extra}
                else:
                    values = dialect.market_vars(MARKET)
                    values.update(c.values)
                    draft = dialect.draft(spec, values, self.account, self.session_token)
                    target, body, headers = draft.target, draft.body_bytes, draft.headers
                    headers["X-Client-Id"] = self.client_id
            except RequestError as exc:
                # Recorded like any failed call (never sent), its reason noted once: the run
                # goes on and says what its dialect could not build, naming no value.
                rec.unsent(intended, nid, self.uid, conc, flags, Outcome.INVALID_REQUEST)
                ctx.note_invalid(spec.name, str(exc))
                return
            sent = now_ns()
            token = ctx.begin(
                InFlight(
                    intended,
                    sent,
                    nid,
                    attempt,
                    flags,
                    self.uid,
                    conc,
                    greenlet=gevent.getcurrent(),
                )
            )
            status, header, content, error = http.call(spec.method, target, body, headers)
            end = now_ns()
            if ctx.end(token) is None:
                return  # the run ended while it was in flight: already recorded as cancelled
            if status:
                reading = read_answer(dialect, spec, status, header, content, c.wants)
                kind = reading.kind
                outcome = outcome_of_kind(kind) if kind else outcome_of_status(status)
            else:
                reading = None
                outcome = outcome_of_error(error)
            rec.record(intended, sent, end, nid, status, outcome, 0, attempt, flags, self.uid, conc)
            if c.action in JOURNALED:
                fields = reading.fields if reading is not None else {}
                ctx.orders.note(
                    user=self.uid,
                    account=self.account.member_id if self.account is not None else None,
                    action=c.action,
                    values=c.values,
                    stands_in=c.stands_in,
                    intended_ns=intended,
                    sent_ns=sent,
                    end_ns=end,
                    attempt=attempt,
                    outcome=outcome,
                    status=status,
                    order_id=fields.get("order_id") or c.values.get("order_id"),
                    code=reading.code if reading is not None else None,
                    executed_volume=fields.get("executed_volume"),
                    price_seen=self.last_price,
                )
            if ctx.locust_stats:
                self._tell_locust(spec, sent, end, len(content), status, outcome, error)
            if reading is not None:
                self._after_answer(c, reading, status)
            policy = self.state.retry
            if not retries or outcome not in RETRYABLE or policy is None:
                return
            if attempt + 1 >= policy.max_attempts:
                return
            attempt += 1
            flags |= FLAG_RETRY
            delay = policy.backoff_s * policy.backoff_factor ** (attempt - 1)
            intended = now_ns() + int(delay * 1e9)
            if delay > 0:
                gevent.sleep(delay)

    def _connection(self) -> TargetHttp:
        """The shared pool for rare pollers, else this person's own keep-alive connections."""
        if self.role is not None and self.role.shares_connection:
            return shared_http(self.host, self.network_timeout, self.connection_timeout)
        if self._http is None:
            self._http = TargetHttp(
                self.host,
                max(1, self.ctx.max_inflight_per_user),
                self.network_timeout,
                self.connection_timeout,
            )
        return self._http

    def _tell_locust(self, spec, sent: int, end: int, length: int, status: int, outcome, error):
        """Locust's own statistics, for people who watch a run in Locust's web UI."""
        failed = (
            error
            if error is not None
            else (
                None if outcome == Outcome.OK else RuntimeError(f"{status} {outcome.name.lower()}")
            )
        )
        self.environment.events.request.fire(
            request_type=spec.method,
            name=spec.name,
            response_time=(end - sent) / 1e6,
            response_length=length,
            exception=failed,
            context={},
        )

    def _after_answer(self, c: Act, reading: Any, status: int) -> None:
        kind = reading.kind
        honours = self.role is not None and self.role.honours_remaining_req
        if honours and (kind in ("rate_limited", "blocked") or reading.second_used_up):
            pause = 5.0 if kind == "blocked" else 1.0
            self.paused_until_ns = now_ns() + int(pause * 1e9)
        if kind == "session_expired":
            self.logged_in = False
            self.session_token = None
            return
        if kind is not None:
            return
        fields = reading.fields
        if c.action == "login":
            self.session_token = fields.get("session_token")
            self.logged_in = True
        order_id = fields.get("order_id")
        if order_id is not None:
            self.open_orders.append(str(order_id))
            if len(self.open_orders) > MAX_OPEN_ORDERS:
                del self.open_orders[0]
        price = fields.get("price")
        if price is not None:
            try:
                value = float(price)
            except (TypeError, ValueError):
                return
            if value > 0:
                self.last_price = value


def _never_started(user: SurgeUser) -> None:
    """The run of a user's entry in Locust's group, which is never started (``start``)."""
    raise RuntimeError(f"{user!r}: a person's entry greenlet is never started")


def _stable_hash(text: str) -> int:
    """A seed part that is the same in every process (``hash`` of a str is salted per process)."""
    return zlib.crc32(text.encode())
