"""Every assert in the tests can fail: none tests a constant, a string or a literal container.

``assert "text"  # ... in out`` (the ``in`` slipped into the comment) always passes; ruff's
PLW0129 catches string literals, this catches every value that is true or false by itself.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).parent

#: Expressions whose truth does not depend on anything the test ran.
ALWAYS_THE_SAME = (ast.Constant, ast.JoinedStr, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.Lambda)


def constant_asserts(source: str, filename: str) -> list[int]:
    """Lines of ``source`` holding an assert on a value that is true or false by itself."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source, filename))
        if isinstance(node, ast.Assert) and isinstance(node.test, ALWAYS_THE_SAME)
    ]


def test_no_assert_in_the_tests_tests_a_constant():
    found = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in constant_asserts(path.read_text(encoding="utf-8"), str(path))
    ]
    assert found == []


def test_the_check_finds_each_kind_of_constant_assert():
    source = "\n".join(
        [
            'assert "measured 5%"  # in out',
            'assert f"{x}"',
            "assert 1",
            "assert (a, 'why')",
            "assert []",
            "assert x in out",
            "assert x, 'why'",
        ]
    )
    assert constant_asserts(source, "example.py") == [1, 2, 3, 4, 5]
