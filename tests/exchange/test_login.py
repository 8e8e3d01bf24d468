"""The app login: member-DB pool, session cap, wrong password, logout, idle refresh."""

import asyncio

import aiohttp
from upbit_client import run


async def _login(s, url, member_id, password):
    async with s.post(
        f"{url}/v1/session", json={"member_id": member_id, "password": password}
    ) as r:
        return r.status, await r.json(content_type=None)


def test_login_logout_and_wrong_password(exchange):
    ex = exchange()
    a = ex.state.accounts[0]

    async def go():
        async with aiohttp.ClientSession() as s:
            ok = await _login(s, ex.url, a.member_id, a.password)
            bad = await _login(s, ex.url, a.member_id, "wrong")
            async with s.delete(
                f"{ex.url}/v1/session", headers={"X-Session-Token": ok[1]["session_token"]}
            ) as r:
                out = r.status
            async with s.delete(
                f"{ex.url}/v1/session", headers={"X-Session-Token": ok[1]["session_token"]}
            ) as r:
                again = r.status
            return ok, bad, out, again

    ok, bad, out, again = run(go())
    assert ok[0] == 201 and set(ok[1]) == {"session_token", "access_key", "expires_in"}
    assert ok[1]["access_key"] == a.access_key
    assert bad[0] == 401 and set(bad[1]["error"]) == {"name", "message"}
    assert (out, again) == (200, 404)


def test_session_cap_and_member_db_queue_shed_with_503(exchange):
    # DB: 1 worker x 50 ms, queue 3 -> a burst of 12 logins: some shed by the DB queue;
    # session cap 4 -> never more than 4 sessions.
    ex = exchange(
        member_db_workers=1, member_db_time_ms=50, max_queue=3, max_sessions=4, limits=False
    )
    accts = ex.state.accounts[:12]

    async def go():
        async with aiohttp.ClientSession() as s:
            results = await asyncio.gather(
                *(_login(s, ex.url, a.member_id, a.password) for a in accts)
            )
            later = await _login(s, ex.url, accts[0].member_id, accts[0].password)
            return results, later

    results, later = run(go())
    statuses = [st for st, _ in results]
    assert statuses.count(201) <= 4 and 503 in statuses
    assert all(b["error"]["name"] == "server_busy" for st, b in results if st == 503)
    assert len(ex.state.sessions) <= 4
    assert later[0] == 503 or len(ex.state.sessions) <= 4
