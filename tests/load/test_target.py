"""Load goes only to loopback unless the operator explicitly allows a remote target."""

import pytest

from surgeproof.errors import UserError
from surgeproof.load.target import check_target_url, is_loopback_url


def test_loopback_addresses_are_recognised():
    assert is_loopback_url("http://127.0.0.1:8080")
    assert is_loopback_url("http://127.0.0.5:1")
    assert is_loopback_url("http://[::1]:8080")
    assert not is_loopback_url("http://10.1.2.3")


def test_remote_target_is_refused_without_the_flag():
    with pytest.raises(UserError, match="not a loopback address"):
        check_target_url("http://10.1.2.3:8080", allow_remote=False)
    assert check_target_url("http://10.1.2.3:8080/", allow_remote=True) == "http://10.1.2.3:8080"


def test_a_target_that_is_not_a_url_is_a_user_error():
    with pytest.raises(UserError, match="expected an http"):
        check_target_url("127.0.0.1:8080", allow_remote=False)
