"""Orders through the HTTP API: matching at maker prices, partial fills, cancels, conservation."""

import asyncio
import random

import aiohttp
from upbit_client import QUIET, run, token


class Client:
    """A tiny Upbit-style client over one aiohttp session."""

    def __init__(self, session, url, account):
        self.s, self.url, self.acct = session, url, account

    async def order(self, **body):
        body = {k: str(v) for k, v in body.items()}
        async with self.s.post(
            f"{self.url}/v1/orders", json=body, headers={"Authorization": token(self.acct, body)}
        ) as r:
            return r.status, await r.json(content_type=None)

    async def get(self, path, **params):
        headers = {"Authorization": token(self.acct, params or None)}
        async with self.s.get(f"{self.url}{path}", params=params, headers=headers) as r:
            return r.status, await r.json(content_type=None)

    async def cancel(self, uuid):
        headers = {"Authorization": token(self.acct, {"uuid": uuid})}
        async with self.s.delete(
            f"{self.url}/v1/order", params={"uuid": uuid}, headers=headers
        ) as r:
            return r.status, await r.json(content_type=None)

    async def balance(self, currency):
        _, rows = await self.get("/v1/accounts")
        row = next(r for r in rows if r["currency"] == currency)
        return float(row["balance"]), float(row["locked"])


async def _ledger(url):
    async with aiohttp.ClientSession() as s, s.get(f"{url}/admin/ledger") as r:
        return await r.json()


def test_crossing_limit_orders_fill_at_the_maker_price_with_fees(exchange):
    ex = exchange(**QUIET)
    seller_acct, buyer_acct = ex.state.accounts[0], ex.state.accounts[1]

    async def go():
        async with aiohttp.ClientSession() as s:
            seller, buyer = Client(s, ex.url, seller_acct), Client(s, ex.url, buyer_acct)
            krw_before = await buyer.balance("KRW")
            st, ask = await seller.order(
                market="KRW-BTC", side="ask", ord_type="limit", price=130_000_000, volume="0.01"
            )
            assert st == 201 and ask["state"] == "wait"
            assert set(ask) >= {
                "uuid",
                "side",
                "ord_type",
                "price",
                "state",
                "market",
                "created_at",
                "volume",
                "remaining_volume",
                "reserved_fee",
                "remaining_fee",
                "paid_fee",
                "locked",
                "executed_volume",
                "trades_count",
            }
            st, bid = await buyer.order(
                market="KRW-BTC", side="bid", ord_type="limit", price=131_000_000, volume="0.004"
            )
            _, ask_now = await seller.get("/v1/order", uuid=ask["uuid"])
            _, bid_now = await buyer.get("/v1/order", uuid=bid["uuid"])
            krw_after = await buyer.balance("KRW")
            return st, bid, ask_now, bid_now, krw_before, krw_after

    st, bid, ask_now, bid_now, krw_before, krw_after = run(go())
    assert st == 201 and bid["state"] == "done"
    assert bid_now["trades"][0]["price"] == "130000000.0"  # the resting ask's price, not 131M
    assert bid_now["executed_volume"] == "0.004"
    assert bid_now["paid_fee"] == "260.0"  # 0.05% of 520,000 KRW
    assert ask_now["state"] == "wait" and ask_now["remaining_volume"] == "0.006"
    assert ask_now["executed_volume"] == "0.004"
    # Buyer paid exactly funds + fee; the unused lock at 131M was released.
    assert krw_before[0] - krw_after[0] == 520_260.0 and krw_after[1] == 0.0


def test_price_time_priority_and_partial_fill_of_a_market_sell(exchange):
    ex = exchange(**QUIET)
    a, b, c = ex.state.accounts[:3]

    async def go():
        async with aiohttp.ClientSession() as s:
            ca, cb, cc = Client(s, ex.url, a), Client(s, ex.url, b), Client(s, ex.url, c)
            _, first = await ca.order(
                market="KRW-XRP", side="bid", ord_type="limit", price=3000, volume=10
            )
            _, second = await cb.order(
                market="KRW-XRP", side="bid", ord_type="limit", price=3000, volume=10
            )
            _, better = await cb.order(
                market="KRW-XRP", side="bid", ord_type="limit", price=3001, volume=5
            )
            _, sell = await cc.order(market="KRW-XRP", side="ask", ord_type="market", volume=12)
            first = (await ca.get("/v1/order", uuid=first["uuid"]))[1]
            second = (await cb.get("/v1/order", uuid=second["uuid"]))[1]
            better = (await cb.get("/v1/order", uuid=better["uuid"]))[1]
            sell = (await cc.get("/v1/order", uuid=sell["uuid"]))[1]
            return first, second, better, sell

    first, second, better, sell = run(go())
    assert better["state"] == "done"  # best price first
    assert first["executed_volume"] == "7.0" and first["state"] == "wait"  # then oldest
    assert second["executed_volume"] == "0.0"
    assert sell["state"] == "done" and [t["price"] for t in sell["trades"]] == ["3001.0", "3000.0"]


def test_cancel_releases_locked_funds_and_open_orders_list_it(exchange):
    ex = exchange(**QUIET)

    async def go():
        async with aiohttp.ClientSession() as s:
            c = Client(s, ex.url, ex.state.accounts[0])
            _, order = await c.order(
                market="KRW-ETH", side="bid", ord_type="limit", price=5_000_000, volume="0.1"
            )
            locked = (await c.balance("KRW"))[1]
            _, open_orders = await c.get("/v1/orders", market="KRW-ETH", state="wait")
            st, cancelled = await c.cancel(order["uuid"])
            after = await c.balance("KRW")
            st2, again = await c.cancel(order["uuid"])
            return order, locked, open_orders, st, cancelled, after, st2, again

    order, locked, open_orders, st, cancelled, after, st2, again = run(go())
    assert locked == 500_250.0  # 500,000 + reserved 0.05% fee
    assert [o["uuid"] for o in open_orders] == [order["uuid"]]
    assert st == 200 and cancelled["state"] == "cancel"
    assert after == (100_000_000.0, 0.0)
    assert st2 == 400 and again["error"]["name"] == "validation_error"


def test_order_chance_shows_fees_and_both_accounts(exchange):
    ex = exchange()

    async def go():
        async with aiohttp.ClientSession() as s:
            return await Client(s, ex.url, ex.state.accounts[0]).get(
                "/v1/orders/chance", market="KRW-BTC"
            )

    st, body = run(go())
    assert st == 200
    assert body["bid_fee"] == "0.0005" and body["market"]["id"] == "KRW-BTC"
    assert body["bid_account"]["currency"] == "KRW" and body["ask_account"]["currency"] == "BTC"


def test_bad_orders_get_4xx_error_json_never_500(exchange):
    ex = exchange(**QUIET)
    acct = ex.state.accounts[0]

    async def raw(data, content_type="application/json"):
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                f"{ex.url}/v1/orders",
                data=data,
                headers={"Authorization": token(acct), "Content-Type": content_type},
            ) as r,
        ):
            return r.status, await r.json(content_type=None)

    async def go():
        async with aiohttp.ClientSession() as s:
            c = Client(s, ex.url, acct)
            cases = {
                "unknown_market": await c.order(
                    market="KRW-NOPE", side="bid", ord_type="limit", price=1000, volume=10
                ),
                "negative_volume": await c.order(
                    market="KRW-BTC", side="ask", ord_type="limit", price=130_000_000, volume="-1"
                ),
                "absurd_price": await c.order(
                    market="KRW-BTC", side="bid", ord_type="limit", price=10**12, volume="1"
                ),
                "huge_number": await c.order(
                    market="KRW-BTC", side="bid", ord_type="limit", price="1e30", volume="1"
                ),
                "off_tick": await c.order(
                    market="KRW-BTC",
                    side="bid",
                    ord_type="limit",
                    price=130_000_001,
                    volume="0.001",
                ),
                "too_small": await c.order(
                    market="KRW-XRP", side="bid", ord_type="limit", price=3000, volume=1
                ),
                "insufficient": await c.order(
                    market="KRW-BTC", side="bid", ord_type="limit", price=130_000_000, volume="5"
                ),
                "bad_side": await c.order(
                    market="KRW-BTC",
                    side="buy",
                    ord_type="limit",
                    price=130_000_000,
                    volume="0.001",
                ),
                "nan": await c.order(
                    market="KRW-BTC", side="bid", ord_type="limit", price="NaN", volume="0.001"
                ),
            }
        cases["malformed_json"] = await raw(b"{not json")
        cases["oversized_body"] = await raw(b'{"market": "' + b"x" * 200_000 + b'"}')
        return cases

    cases = run(go())
    for name, (status, body) in cases.items():
        assert 400 <= status < 500, (name, status, body)
        assert set(body["error"]) == {"name", "message"}, name
    assert cases["insufficient"][1]["error"]["name"] == "insufficient_funds_bid"
    assert cases["too_small"][1]["error"]["name"] == "under_min_total_bid"
    assert cases["absurd_price"][1]["error"]["name"] == "create_bid_error"
    assert cases["oversized_body"][0] == 413


def test_conservation_holds_after_a_burst_of_concurrent_random_orders(exchange):
    ex = exchange(limits=False, price={"update_s": 0.1, "volatility_per_s": 0.01})
    rng = random.Random(7)
    markets = {"KRW-BTC": 131_000_000, "KRW-ETH": 5_400_000, "KRW-XRP": 3_400}
    ticks = {"KRW-BTC": 1000, "KRW-ETH": 1000, "KRW-XRP": 1}

    async def trader(s, acct, n):
        c = Client(s, ex.url, acct)
        mine = []
        for _ in range(n):
            m = rng.choice(list(markets))
            side = rng.choice(["bid", "ask"])
            price = (markets[m] * rng.uniform(0.99, 1.01)) // ticks[m] * ticks[m]
            kind = rng.random()
            if kind < 0.6:
                st, o = await c.order(
                    market=m,
                    side=side,
                    ord_type="limit",
                    price=int(price),
                    volume=round(20_000 / price, 8),
                )
            elif side == "bid":
                st, o = await c.order(market=m, side="bid", ord_type="price", price=20_000)
            else:
                st, o = await c.order(
                    market=m, side="ask", ord_type="market", volume=round(20_000 / price, 8)
                )
            if st == 201:
                mine.append(o["uuid"])
                if rng.random() < 0.3:
                    await c.cancel(o["uuid"])
        return mine

    async def go():
        async with aiohttp.ClientSession() as s:
            acked = await asyncio.gather(*(trader(s, a, 25) for a in ex.state.accounts[:16]))
        return [u for batch in acked for u in batch], await _ledger(ex.url)

    acked, ledger = run(go())
    assert len(acked) > 300
    assert ledger["conserved"] is True
    assert all(a["conserved"] for a in ledger["assets"].values())
    assert float(ledger["assets"]["KRW"]["fees"]) > 0
    assert ledger["lost_orders"] == []
    assert set(acked) <= set(ledger["acknowledged_orders"]["uuids"])
    assert ledger["acknowledged_orders"]["count"] == len(acked)
