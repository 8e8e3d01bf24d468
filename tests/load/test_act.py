"""Actions as behaviours ask for them: what a login carries never shows in a repr."""

from __future__ import annotations

from surgeproof.load.users import act


def test_a_logins_password_is_never_in_its_repr_or_str():
    a = act.login("member00001", "hunter2-secret")
    assert "hunter2-secret" not in repr(a) and "hunter2-secret" not in str(a)
    assert a.values["password"] == "hunter2-secret" and a.wants == ("session_token",)


def test_a_limit_order_sits_on_a_price_tick_away_from_the_last_price():
    bid = act.limit_order("bid", 131_000_000.0, away=0.01)
    ask = act.limit_order("ask", 131_000_000.0, away=0.01)
    assert bid.values["price"] == "129690000" and ask.values["price"] == "132310000"
    assert int(bid.values["price"]) % act.TICK_KRW == 0 and bid.wants == ("order_id",)
