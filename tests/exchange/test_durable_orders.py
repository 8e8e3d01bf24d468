"""Acknowledged orders that survive a restart, and the knob that loses the last N of them."""

from __future__ import annotations

import aiohttp
import pytest
from upbit_client import QUIET, run, token

from surgeproof.exchange import build_config, exchange_in_thread
from surgeproof.exchange.errors import ConfigError
from surgeproof.exchange.state import ExchangeState


async def _place(url, acct, n, price=120_000_000):
    """``n`` resting bids (below the market: nothing fills them in a quiet book)."""
    ids = []
    async with aiohttp.ClientSession() as s:
        for _ in range(n):
            body = {"market": "KRW-BTC", "side": "bid", "ord_type": "limit",
                    "price": str(price), "volume": "0.001"}  # fmt: skip
            headers = {"Authorization": token(acct, body)}
            async with s.post(f"{url}/v1/orders", json=body, headers=headers) as r:
                assert r.status == 201
                ids.append((await r.json())["uuid"])
    return ids


async def _status(url, acct, uuid):
    async with aiohttp.ClientSession() as s:
        headers = {"Authorization": token(acct, {"uuid": uuid})}
        async with s.get(f"{url}/v1/order", params={"uuid": uuid}, headers=headers) as r:
            return r.status, await r.json(content_type=None)


async def _cancel(url, acct, uuid):
    async with aiohttp.ClientSession() as s:
        headers = {"Authorization": token(acct, {"uuid": uuid})}
        async with s.delete(f"{url}/v1/order", params={"uuid": uuid}, headers=headers) as r:
            return r.status


async def _ledger(url):
    async with aiohttp.ClientSession() as s, s.get(f"{url}/admin/ledger") as r:
        return await r.json()


def _config(tmp_path, lose=0, **extra):
    return build_config(
        {**QUIET, "durability": {"orders": True, "lose_last_on_restart": lose}, **extra},
        state_dir=str(tmp_path / "state"),
    )


def test_a_restarted_exchange_knows_every_order_it_acknowledged_before(tmp_path):
    cfg = _config(tmp_path)
    with exchange_in_thread(cfg) as ex:
        acct = ex.state.accounts[0]
        ids = run(_place(ex.url, acct, 4))
        assert run(_cancel(ex.url, acct, ids[0])) == 200
    with exchange_in_thread(cfg) as ex:
        ledger = run(_ledger(ex.url))
        assert ledger["acknowledged_orders"]["count"] == 4
        assert ledger["lost_orders"] == []
        assert ledger["durability"]["recovered_orders"] == 4
        # The cancelled one as cancelled; those still resting were closed by the recovery.
        assert ledger["durability"]["closed_by_recovery"] == 3
        states = [run(_status(ex.url, acct, u)) for u in ids]
        assert all(st == 200 for st, _ in states)
        assert {body["state"] for _, body in states} == {"cancel"}
        # New orders get new ids: the recovered ones are not handed out again.
        new = run(_place(ex.url, acct, 2))
        assert not set(new) & set(ids)


def test_the_knob_loses_exactly_the_last_n_orders_the_dead_process_acknowledged(tmp_path):
    cfg = _config(tmp_path, lose=3)
    with exchange_in_thread(cfg) as ex:
        acct = ex.state.accounts[1]
        first = run(_place(ex.url, acct, 5))
    with exchange_in_thread(cfg) as ex:
        ledger = run(_ledger(ex.url))
        assert ledger["lost_orders"] == first[-3:]
        assert ledger["durability"]["lost_at_restart"] == first[-3:]
        found = {u: run(_status(ex.url, acct, u))[0] for u in first}
        assert found == {u: (404 if u in first[-3:] else 200) for u in first}
        second = run(_place(ex.url, acct, 4))
    # The next restart loses the last 3 of the second life; the first loss stays lost.
    with exchange_in_thread(cfg) as ex:
        ledger = run(_ledger(ex.url))
        assert ledger["lost_orders"] == first[-3:] + second[-3:]
        assert ledger["acknowledged_orders"]["count"] == 9


def test_without_the_journal_a_restart_forgets_every_order(tmp_path):
    cfg = build_config(QUIET)
    with exchange_in_thread(cfg) as ex:
        run(_place(ex.url, ex.state.accounts[0], 2))
    with exchange_in_thread(cfg) as ex:
        ledger = run(_ledger(ex.url))
        assert ledger["acknowledged_orders"]["count"] == 0 and ledger["durability"] is None


def test_the_knob_is_refused_without_the_journal_and_the_journal_without_a_folder():
    with pytest.raises(ConfigError, match=r"durability\.lose_last_on_restart' needs"):
        build_config({"durability": {"lose_last_on_restart": 2}})
    with pytest.raises(ConfigError, match="needs a state directory"):
        ExchangeState(build_config({"durability": {"orders": True}}))
    with pytest.raises(ConfigError, match=r"unknown key 'durability\.lose'"):
        build_config({"durability": {"lose": 2}})
