"""Secrets through templates, drafts and signers: they stay Secrets until the draft encodes the
request, reach the wire intact, and no error about a template ever shows one — it names the
template and the variable. A request that cannot be built is a RequestError, never a crash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import traceback
from pathlib import Path

import jwt
import pytest

from surgeproof.dialect.catalog import load_dialect
from surgeproof.dialect.draft import RequestError
from surgeproof.dialect.template import RenderError, compile_template
from surgeproof.load.accounts import Account, accounts_from_rows
from surgeproof.secret import Secret

PASSWORD = "pw-s3cr3t-Zq9"
ACCESS = "AK-4c7e1b2a9f0d"
SECRET = "SK-e91f0a77c3b2-7d44a1c09e3b5f28aa61"  # 32+ bytes, as exchanges issue
TOKEN = "tok-8b1d2e3f4a5c"
ACCOUNT = Account("member00001", PASSWORD, ACCESS, SECRET)
ALL = (PASSWORD, ACCESS, SECRET, TOKEN)


def _shown(exc: BaseException) -> str:
    """The messages a traceback of ``exc`` would print: its own and those of every exception
    chained to it that the traceback shows (source lines left out: they are the test's)."""
    out = []
    seen: BaseException | None = exc
    while seen is not None:
        out.append("".join(traceback.format_exception_only(seen)) + repr(seen))
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return "".join(out)


def test_a_secret_stays_a_secret_through_slots_joins_filters_and_structures():
    values = {"password": Secret(PASSWORD), "member_id": "m1"}
    assert compile_template("{password}")(values) == Secret(PASSWORD)
    joined = compile_template("{member_id}:{password|upper}")(values)
    assert isinstance(joined, Secret) and joined.reveal() == f"m1:{PASSWORD.upper()}"
    body = compile_template({"id": "{member_id}", "pw": ["{password}"]})(values)
    assert body["id"] == "m1" and body["pw"] == [Secret(PASSWORD)]
    assert PASSWORD not in str(body) + repr(body)
    pin = compile_template("{password|number}")({"password": Secret("4821")})
    assert isinstance(pin, Secret) and pin.reveal() == 4821


def test_a_filter_that_cannot_take_a_secret_names_template_and_variable_only():
    render = compile_template("/v1/session/{password|number}")
    with pytest.raises(RenderError) as err:
        render({"password": Secret(PASSWORD)})
    assert str(err.value) == (
        "{password|number} in '/v1/session/{password|number}': the value of password cannot go "
        "through |number"
    )
    assert PASSWORD not in _shown(err.value)


def test_a_filter_that_cannot_take_a_plain_value_does_not_show_it_either():
    with pytest.raises(RenderError) as err:
        compile_template("{price|number}")({"price": "12x-not-a-number"})
    assert "12x-not-a-number" not in _shown(err.value)
    with pytest.raises(RenderError, match="not"):
        compile_template("{price|number}")({"price": "nan"})  # not a finite number


def test_a_variable_without_a_value_is_a_render_error():
    with pytest.raises(RenderError, match=r"\{session_token\} in 'x \{session_token\}': "
                       r"session_token has no value in this call"):  # fmt: skip
        compile_template("x {session_token}")({})


def _dialect(tmp_path: Path, actions: str, extra: str = "") -> object:
    path = tmp_path / "d.yaml"
    path.write_text(f"name: d\nextends: upbit\n{extra}actions:\n{actions}")
    return load_dialect(path)


def test_every_secret_reaches_the_wire_intact_and_signing_uses_the_keys(tmp_path):
    d = _dialect(
        tmp_path,
        "  login:\n    method: POST\n    path: /v1/session\n"
        "    query: {pw: '{password}'}\n"
        "    body: {member_id: '{member_id}', password: '{password}', k: '{access_key}'}\n"
        "    extract: {session_token: /session_token}\n"
        "  balances: {method: GET, path: /v1/accounts, signed: true, session: true}\n",
        "session:\n  headers: {X-Session-Token: '{session_token}',"
        " X-T: 'Bearer {session_token}'}\n",
    )
    values = {"member_id": "member00001", "password": ACCOUNT.password}
    draft = d.draft(d.actions["login"], {**d.market_vars("KRW-BTC"), **values}, ACCOUNT)
    assert draft.target == f"/v1/session?pw={PASSWORD}"
    assert json.loads(draft.body_bytes) == {
        "member_id": "member00001", "password": PASSWORD, "k": ACCESS
    }  # fmt: skip
    assert all(v not in repr(draft) for v in ALL)
    signed = d.draft(d.actions["balances"], d.market_vars("KRW-BTC"), ACCOUNT, Secret(TOKEN))
    assert signed.headers["X-Session-Token"] == TOKEN
    assert signed.headers["X-T"] == f"Bearer {TOKEN}"
    claims = jwt.decode(signed.headers["Authorization"][7:], SECRET, algorithms=["HS256"])
    assert claims["access_key"] == ACCESS


def test_hmac_and_payload_signers_reveal_the_keys_only_to_sign(tmp_path):
    d = _dialect(
        tmp_path,
        "  balances: {method: GET, path: /v1/accounts, signed: true}\n",
        "signing: {scheme: hmac, message: '{access_key}{path}', "
        "headers: {X-KEY: '{access_key}', X-SIGN: '{signature}'}}\n",
    )
    draft = d.draft(d.actions["balances"], d.market_vars("KRW-BTC"), ACCOUNT)
    want = hmac.new(SECRET.encode(), f"{ACCESS}/v1/accounts".encode(), hashlib.sha256).hexdigest()
    assert draft.headers == {"X-KEY": ACCESS, "X-SIGN": want}
    coinone = load_dialect("coinone")
    spec = next(a for a in coinone.actions.values() if a.signed and a.body is not None)
    draft = coinone.draft(spec, coinone.market_vars("KRW-BTC") | _order_values(), ACCOUNT)
    payload = draft.headers["X-COINONE-PAYLOAD"]
    assert json.loads(base64.b64decode(payload))["access_token"] == ACCESS
    want = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha512).hexdigest()
    assert draft.headers["X-COINONE-SIGNATURE"] == want


def _order_values() -> dict:
    return {"side": "bid", "price": 1000, "volume": 1, "funds": 5000, "order_id": "x"}


@pytest.mark.parametrize(
    ("actions", "extra", "says"),
    [
        (
            "  login: {method: POST, path: '/v1/session/{password|number}',"
            " extract: {session_token: /t}}\n",
            "",
            "POST /v1/session/{password|number}: {password|number} in "
            "'/v1/session/{password|number}': the value of password cannot go through |number",
        ),
        (
            "  login: {method: POST, path: '/v1/s/{password}', extract: {session_token: /t}}\n",
            "",
            "POST /v1/s/{password}: path from {password}: the path holds a space, a control or a "
            "non-ASCII character, which a request line cannot carry",
        ),
        (
            "  logout: {method: DELETE, path: /v1/session, session: true}\n",
            "session:\n  headers: {X-Session-Token: '{session_token}'}\n",
            "DELETE /v1/session: session headers: header X-Session-Token: the value holds a line "
            "break, a control or a non-ASCII character, which a header cannot carry",
        ),
        (
            "  balances: {method: GET, path: /v1/accounts, signed: true}\n",
            "signing: {scheme: hmac, secret: base64, message: '{path}', "
            "headers: {X-SIGN: '{signature}'}}\n",
            "GET /v1/accounts: signing (hmac) failed with the account's keys (Error)",
        ),
    ],
)  # fmt: skip
def test_a_request_that_cannot_be_built_is_a_request_error_without_values(
    tmp_path, actions, extra, says
):
    hostile = Account("m1", "pass word\r\n", ACCESS, "not base64 !")
    d = _dialect(tmp_path, actions, extra)
    name = actions.split(":")[0].strip()
    values = {**d.market_vars("KRW-BTC"), "member_id": "m1", "password": hostile.password}
    with pytest.raises(RequestError) as err:
        d.draft(d.actions[name], values, hostile, Secret("tok\r\nX-Injected: 1"))
    assert str(err.value) == says
    shown = _shown(err.value)
    assert "pass word" not in shown and "X-Injected" not in shown and "not base64" not in shown


def test_accounts_hold_their_keys_as_secrets_from_the_moment_they_are_read():
    [account] = accounts_from_rows(
        [{"member_id": "m1", "password": PASSWORD, "access_key": ACCESS, "secret_key": SECRET}],
        "accounts.json",
    )
    assert isinstance(account.password, Secret) and isinstance(account.secret_key, Secret)
    assert account.access_key.reveal() == ACCESS
    assert all(v not in repr(account) + str(account) for v in ALL)
