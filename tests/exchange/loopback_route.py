"""Route a client library's hard-coded exchange host to the loopback exchange under test.

pyupbit and python-bithumb write ``https://api.upbit.com`` / ``https://api.bithumb.com`` as
literals inside their functions (python-bithumb's private class has a ``BASE_URL`` attribute,
its public functions do not). Their code is left as it is: the requests transport is told that
this host lives on 127.0.0.1 (like a hosts-file entry, in plain HTTP), and any other
non-loopback destination is refused, so a test can never send traffic off the machine.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def route_host(monkeypatch, host: str, base_url: str) -> None:
    """Send requests for ``https://<host>`` to ``base_url`` for the rest of the test."""
    original = requests.adapters.HTTPAdapter.send
    prefix = f"https://{host}"

    def send(self, request, *args, **kwargs):
        if request.url.startswith(prefix):
            request.url = base_url + request.url[len(prefix) :]
        if urlsplit(request.url).hostname not in LOOPBACK:
            raise requests.ConnectionError(f"test traffic stays on loopback: {request.url}")
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
