"""The exchange's config: keys from YAML and flags, validated with one-line errors."""

import pytest

from surgeproof.exchange import build_config, load_config
from surgeproof.exchange.errors import ConfigError


def test_dead_gateways_are_restarted_unless_the_target_says_otherwise(tmp_path):
    assert build_config({}).gateway_restart is True
    target = tmp_path / "target.yaml"
    target.write_text("ws_gateways: 2\ngateway_restart: false\n")
    config = load_config(target)
    assert config.gateway_restart is False and config.to_dict()["gateway_restart"] is False


@pytest.mark.parametrize("value", ["no", 0, None])
def test_gateway_restart_must_be_true_or_false(value):
    with pytest.raises(ConfigError, match="'gateway_restart' must be true or false") as err:
        build_config({"gateway_restart": value})
    assert "\n" not in str(err.value)


def test_the_dialect_picks_its_rate_limit_groups():
    assert build_config({}).dialect == "upbit"
    coinone = build_config({"dialect": "coinone", "rate_limits": {"public": 60}})
    assert coinone.rate_limits["public"] == 60 and "ticker" not in coinone.rate_limits
    assert build_config({"dialect": "bithumb"}).rate_limits["private"] == 140
    with pytest.raises(ConfigError, match="unknown rate-limit group 'ticker' of the coinone"):
        build_config({"dialect": "coinone", "rate_limits": {"ticker": 5}})
    with pytest.raises(ConfigError, match="'dialect' must be one of upbit, bithumb, coinone"):
        build_config({"dialect": "kraken"})
