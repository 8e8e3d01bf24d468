"""A small made-up exchange API for tests: nothing like Upbit's, spoken through a dialect file.

    python madeup_exchange.py --accounts FILE   → prints {"url": ...} once listening on 127.0.0.1

"Hanriver": pairs written ``btc_krw``, a token login, HMAC-SHA256 request signing in its own
headers (``X-HR-KEY``, ``X-HR-TS``, ``X-HR-SIGN`` over ts + method + path?query + body),
errors as HTTP 200 with ``{"ok": false, "err": ...}``, a calls-left header, and a websocket
that acks a subscription before it streams prices. With ``--no-market-orders`` it has no market
orders (``E_KIND``): a limit order priced through the book fills at once instead. ``GET
/stats`` says what it saw, so a test can hold surgeproof's records against the exchange's own
count.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import secrets
import sys
import time
from collections import Counter

from aiohttp import WSMsgType, web

PAIR = "btc_krw"
PRICE = 131_000_000
#: Calls per second per client before the exchange says E_SLOW.
LIMIT_PER_S = 50


def _json(data: object) -> web.Response:
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        headers={"Content-Type": "application/json"},
    )


def _fail(err: str) -> web.Response:
    return _json({"ok": False, "err": err})


class Hanriver:
    def __init__(self, accounts: list[dict], market_orders: bool = True) -> None:
        self.market_orders = market_orders
        self.by_member = {a["member_id"]: a for a in accounts}
        self.by_key = {a["access_key"]: a for a in accounts}
        self.tokens: dict[str, str] = {}
        self.orders: dict[str, dict] = {}
        self.stats: Counter[str] = Counter()
        self.window: dict[str, tuple[int, int]] = {}

    # -- the request guard: count, limit, verify the signature where there is one --------------

    @web.middleware
    async def guard(self, request: web.Request, handler):
        resource = request.match_info.route.resource
        if resource is None or request.path in ("/stats", "/stream"):
            return await handler(request)  # not Hanriver's API (a 404), or not counted
        route = f"{request.method} {resource.canonical}"
        self.stats[route] += 1
        client = request.headers.get("X-Client-Id", "?")
        second = int(time.time())
        start, used = self.window.get(client, (second, 0))
        used = used + 1 if start == second else 1
        self.window[client] = (second, used)
        if used > LIMIT_PER_S:
            self.stats["limited"] += 1
            resp = _fail("E_SLOW")
        else:
            body = await request.read()
            request["raw_body"] = body
            if request.headers.get("X-HR-SIGN") and not self._signed_right(request, body):
                self.stats["bad_signature"] += 1
                return _fail("E_SIGN")
            resp = await handler(request)
        resp.headers["X-HR-Left"] = str(max(LIMIT_PER_S - used, 0))
        return resp

    def _signed_right(self, request: web.Request, body: bytes) -> bool:
        acct = self.by_key.get(request.headers.get("X-HR-KEY", ""))
        if acct is None:
            return False
        ts = request.headers.get("X-HR-TS", "")
        message = f"{ts}{request.method}{request.path_qs}{body.decode()}".encode()
        want = hmac.new(acct["secret_key"].encode(), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, request.headers.get("X-HR-SIGN", ""))

    def _signer(self, request: web.Request) -> dict | None:
        return (
            self.by_key.get(request.headers.get("X-HR-KEY", ""))
            if request.headers.get("X-HR-SIGN")
            else None
        )

    def _session(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        return self.tokens.get(token)

    # -- handlers ---------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        body = json.loads(request["raw_body"] or b"{}")
        acct = self.by_member.get(body.get("username"))
        if acct is None or acct["password"] != body.get("passcode"):
            return _fail("E_LOGIN")
        token = secrets.token_hex(16)
        self.tokens[token] = acct["member_id"]
        self.stats["logins"] += 1
        return _json({"ok": True, "data": {"token": token}})

    async def logout(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.pop(token, None) is None:
            return _fail("E_SESSION")
        return _json({"ok": True})

    async def price(self, request: web.Request) -> web.Response:
        if request.match_info["pair"] != PAIR:
            return _fail("E_PAIR")
        return _json({"ok": True, "data": {"pair": PAIR, "price": str(PRICE)}})

    async def depth(self, request: web.Request) -> web.Response:
        return _json({"ok": True, "data": {"asks": [[PRICE + 1000, 1]], "bids": [[PRICE, 1]]}})

    async def wallet(self, request: web.Request) -> web.Response:
        if self._signer(request) is None:
            return _fail("E_AUTH")
        return _json({"ok": True, "data": {"krw": "100000000", "btc": "1"}})

    async def place(self, request: web.Request) -> web.Response:
        acct = self._signer(request)
        if acct is None:
            return _fail("E_AUTH")
        body = json.loads(request["raw_body"])
        if body.get("pair") != PAIR or body.get("direction") not in ("buy", "sell"):
            return _fail("E_ORDER")
        if body.get("kind") == "market" and not self.market_orders:
            self.stats["market_refused"] += 1
            return _fail("E_KIND")  # this exchange has no market orders
        if body.get("kind") == "limit" and not isinstance(body.get("price"), int | float):
            return _fail("E_PRICE")
        # A limit order through the book (a sell at or below the price, a buy at or above it)
        # fills at once, as a market order would.
        price = body.get("price")
        marketable = body.get("kind") == "limit" and (
            (body["direction"] == "sell" and price <= PRICE)
            or (body["direction"] == "buy" and price >= PRICE)
        )
        self.stats["marketable"] += int(marketable)
        oid = secrets.token_hex(8)
        state = "filled" if marketable else "open"
        self.orders[oid] = {"owner": acct["access_key"], **body, "state": state}
        self.stats["orders_placed"] += 1
        return _json({"ok": True, "data": {"id": oid}})

    async def order(self, request: web.Request) -> web.Response:
        acct = self._signer(request)
        o = self.orders.get(request.match_info["oid"])
        if acct is None or o is None or o["owner"] != acct["access_key"]:
            return _fail("E_NOORDER")
        if request.method == "DELETE":
            if o["state"] != "open":
                return _fail("E_CLOSED")
            o["state"] = "cancelled"
            self.stats["orders_cancelled"] += 1
        return _json({"ok": True, "data": {"id": request.match_info["oid"], "state": o["state"]}})

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.stats["ws_connects"] += 1
        pusher = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data.get("op") == "ping":
                    self.stats["ws_pings"] += 1
                    await ws.send_str('{"ev":"pong"}')
                elif data.get("op") == "sub" and data.get("topic") == f"price:{PAIR}":
                    self.stats["ws_subscriptions"] += 1
                    await ws.send_str('{"ev":"ack","topic":"price:btc_krw"}')
                    pusher = pusher or asyncio.get_running_loop().create_task(self._push(ws))
                else:
                    await ws.send_str('{"ev":"error","err":"E_TOPIC"}')
        finally:
            if pusher is not None:
                pusher.cancel()
        return ws

    @staticmethod
    async def _push(ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            await ws.send_str(json.dumps({"ev": "price", "pair": PAIR, "price": PRICE}))
            await asyncio.sleep(0.5)

    async def get_stats(self, request: web.Request) -> web.Response:
        return _json(dict(self.stats))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        r = app.router
        r.add_post("/api/auth/login", self.login)
        r.add_post("/api/auth/logout", self.logout)
        r.add_get("/api/markets/{pair}/price", self.price)
        r.add_get("/api/markets/{pair}/depth", self.depth)
        r.add_get("/api/me/wallet", self.wallet)
        r.add_post("/api/orders", self.place)
        r.add_get("/api/orders/{oid}", self.order)
        r.add_delete("/api/orders/{oid}", self.order)
        r.add_get("/stream", self.stream)
        r.add_get("/stats", self.get_stats)
        return app


async def _serve(accounts: list[dict], market_orders: bool) -> None:
    runner = web.AppRunner(Hanriver(accounts, market_orders).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--no-market-orders", action="store_true", help="refuse kind: market")
    args = parser.parse_args()
    with open(args.accounts, encoding="utf-8") as f:
        accounts = json.load(f)
    try:
        asyncio.run(_serve(accounts, not args.no_market_orders))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
