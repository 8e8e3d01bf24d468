"""Per-group limits: Remaining-Req counts down, then 429, then 418 for a client that persists."""

import aiohttp
from upbit_client import run


def test_429_after_the_group_quota_then_418_block_for_a_persistent_client(exchange):
    ex = exchange(client_identity="header", block_after_429s=5, block_s=30)

    async def go():
        async with aiohttp.ClientSession() as s:
            seen = []
            for _ in range(20):
                async with s.get(
                    f"{ex.url}/v1/ticker?markets=KRW-BTC", headers={"X-Client-Id": "greedy"}
                ) as r:
                    seen.append(
                        (
                            r.status,
                            r.headers.get("Remaining-Req"),
                            r.headers.get("Retry-After"),
                            await r.json(content_type=None),
                        )
                    )
            async with s.get(
                f"{ex.url}/v1/ticker?markets=KRW-BTC", headers={"X-Client-Id": "polite"}
            ) as r:
                polite = r.status
            return seen, polite

    seen, polite = run(go())
    statuses = [s for s, *_ in seen]
    first_429 = statuses.index(429)
    assert first_429 <= 10 and all(s == 200 for s in statuses[:first_429])
    assert seen[0][1] == "group=ticker; min=1800; sec=9"
    assert seen[first_429][3]["error"]["name"] == "too_many_requests"
    assert 418 in statuses
    first_418 = statuses.index(418)
    assert first_418 > first_429
    assert all(s == 418 for s in statuses[first_418:])
    assert int(seen[first_418][2]) >= 1  # Retry-After: the block time
    assert polite == 200  # limits are per identity (X-Client-Id)


def test_limits_off_never_refuses(exchange):
    ex = exchange(limits=False)

    async def go():
        async with aiohttp.ClientSession() as s:
            out = []
            for _ in range(40):
                async with s.get(f"{ex.url}/v1/ticker?markets=KRW-BTC") as r:
                    out.append((r.status, r.headers["Remaining-Req"]))
            return out

    out = run(go())
    assert {s for s, _ in out} == {200}
    assert all(h.startswith("group=ticker;") for _, h in out)
