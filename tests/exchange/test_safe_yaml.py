"""The exchange's own config loader (it imports nothing of the package) refuses what the
package's loader refuses: anchors and aliases, too many values, deep nesting, a file too large
or not a regular file — one line naming the file, exit 2 from ``surgeproof exchange``."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.oneline import cli
from surgeproof.exchange.config import load_config
from surgeproof.exchange.errors import ConfigError
from surgeproof.exchange.safe_yaml import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, load_yaml_file

ALIASES = "anchors and aliases (&name, *name) are not accepted; write the value out"


def test_billion_laughs_config_is_refused_by_the_exchange_command(work, sentinel, capsys):
    (work / "t.yaml").write_text(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    )
    line = cli(capsys, "exchange", "--config", "t.yaml", "--port", "0").one_line_error()
    assert line == f"surgeproof exchange: error: t.yaml: line 1, column 4: bad YAML: {ALIASES}"


def test_an_alias_in_a_real_config_is_refused(work):
    (work / "t.yaml").write_text("api_workers: &w 4\nmember_db_workers: *w\n")
    with pytest.raises(ConfigError) as e:
        load_config("t.yaml")
    assert str(e.value) == f"t.yaml: line 1, column 14: bad YAML: {ALIASES}"


def test_too_many_values_too_deep_too_large_and_not_a_file_are_refused(work):
    (work / "many.yaml").write_text("x: [" + ",".join(["0"] * MAX_NODES) + "]\n")
    with pytest.raises(ConfigError, match=r"^many\.yaml: line 1, column \d+: bad YAML: more than"):
        load_yaml_file("many.yaml")
    (work / "deep.yaml").write_text("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))
    with pytest.raises(ConfigError, match=rf"nested deeper than {MAX_DEPTH} levels"):
        load_yaml_file("deep.yaml")
    (work / "big.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ConfigError, match=r"^big\.yaml: 1,048,577 bytes, larger than"):
        load_yaml_file("big.yaml")
    with pytest.raises(ConfigError, match=r"^/dev/zero: not a regular file"):
        load_yaml_file("/dev/zero")


def test_the_shipped_configs_still_load():
    shipped = sorted(Path(__file__).resolve().parents[2].glob("scenarios/targets/*.yaml"))
    assert len(shipped) >= 4
    assert all(load_config(path).accounts > 0 for path in shipped)
