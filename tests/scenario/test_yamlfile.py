"""YAML is read strictly: syntax errors name the line, duplicate keys are refused."""

import pytest

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.yamlfile import read_yaml


def test_syntax_error_names_file_and_line(write_yaml):
    path = write_yaml("name: x\ntimeline:\n  - {phase: a, duration: 5m\nfoo: [\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml: line \d+, column \d+: bad YAML"):
        read_yaml(path)


def test_duplicate_key_is_refused_with_both_lines(write_yaml):
    path = write_yaml("name: x\ndescription: a\nname: y\n")
    with pytest.raises(ScenarioError, match=r"line 3.*'name' given twice \(first on line 1\)"):
        read_yaml(path)


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        read_yaml(tmp_path / "absent.yaml")


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: x\n".encode())
    assert read_yaml(path)[0] == {"name": "x"}
