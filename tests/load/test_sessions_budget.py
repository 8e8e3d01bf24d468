"""What stands in the way of many sessions per process: open files and loopback ports."""

from __future__ import annotations

import resource
import socket

from surgeproof.load.fd_budget import (
    RESERVE_FDS,
    fd_budget_warning,
    fds_per_user,
    raise_fd_limit,
    users_per_process_allowed,
)
from surgeproof.load.source_address import SourceCycle, bind_source, source_addresses


def test_the_soft_open_file_limit_is_raised_to_the_hard_one():
    soft, hard = raise_fd_limit()
    assert (soft, hard) == resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == hard or hard == resource.RLIM_INFINITY


def test_a_market_watcher_holds_one_descriptor_an_app_user_one_more_per_websocket():
    assert fds_per_user({"market_watcher": 1.0}) == 1.0  # websocket; HTTP shares the pool
    assert fds_per_user({"app_user": 1.0}) == 1.0  # its own keep-alive connection
    assert fds_per_user({"market_watcher": 0.5, "app_user": 0.5}) == 1.0
    assert users_per_process_allowed(20_000, 1.0) == 20_000 - RESERVE_FDS


def test_fifty_thousand_watchers_in_one_process_are_refused_with_the_workers_to_use():
    line = fd_budget_warning([({"market_watcher": 1.0}, 50_000)], processes=1, limit=20_000)
    assert line is not None and "\n" not in line
    assert "50,000 users" in line and "limit of 20,000" in line and "--workers 3" in line


def test_users_that_fit_their_processes_get_no_warning():
    assert fd_budget_warning([({"market_watcher": 1.0}, 50_000)], 3, limit=20_000) is None
    assert fd_budget_warning([({"market_watcher": 1.0}, 2_000)], 1, limit=20_000) is None


def test_loopback_targets_get_sixteen_source_addresses_remote_ones_none():
    addrs = source_addresses("ws://127.0.0.1:8080/websocket/v1")
    assert len(addrs) == 16 and len(set(addrs)) == 16
    assert all(a.startswith("127.0.0.") and a != "127.0.0.1" for a in addrs)
    assert source_addresses("https://api.example.com") == ()
    assert source_addresses("http://10.0.0.5:80") == ()
    cycle = SourceCycle(addrs)
    assert [cycle.next() for _ in range(17)] == [*addrs, addrs[0]]
    assert SourceCycle(()).next() is None


def test_connections_arrive_from_the_bound_source_addresses():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    cycle = SourceCycle(source_addresses(f"http://127.0.0.1:{port}"))
    clients, peers = [], []
    try:
        for _ in range(20):
            c = socket.socket()
            bind_source(c, cycle.next())
            c.connect(("127.0.0.1", port))
            clients.append(c)
            conn, peer = server.accept()
            peers.append(peer[0])
            conn.close()
    finally:
        for c in clients:
            c.close()
        server.close()
    assert len(set(peers)) == 16 and "127.0.0.1" not in peers
