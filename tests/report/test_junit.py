"""JUnit XML: one test case per requirement, measured value and limit in the failure message."""

from junitparser import Failure, JUnitXml

from surgeproof.report.checks import Check, GateResult
from surgeproof.report.junit import write_junit


def _result():
    result = GateResult("reports/r1", "r1", caveats=["scaled run: 1 simulated user = 10,000"])
    result.checks = [
        Check(
            "ceiling",
            "ceiling >= peak * 1.2 (648,000)",
            False,
            "410,000 real concurrent users",
            ">= 648,000 real concurrent users",
            "scenario",
            "failed at 430,000 real users",
        ),
        Check("latency", "login p99 <= 800 ms", True, "612.0 ms", "<= 800.0 ms", "--max-p99"),
        Check(
            "error_ratio",
            "* error_ratio <= 0.01 & <x>",
            False,
            "0.03 (3.00%)",
            "<= 0.01 (1.00%)",
            "--max-error-ratio",
        ),
    ]
    return result


def test_junit_parses_with_one_case_per_requirement(tmp_path):
    path = tmp_path / "gate" / "junit.xml"
    write_junit(_result(), path)

    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    cases = [case for suite in suites for case in suite]

    assert len(suites) == 1
    assert suites[0].tests == 3
    assert suites[0].failures == 2
    assert [c.name for c in cases] == [
        "ceiling >= peak * 1.2 (648,000)",
        "login p99 <= 800 ms",
        "\\* error_ratio <= 0.01 & \\<x>",  # inert Markdown: reporters render names
    ]


def test_failure_messages_carry_measured_value_and_limit(tmp_path):
    path = tmp_path / "junit.xml"
    write_junit(_result(), path)

    cases = [case for suite in JUnitXml.fromfile(str(path)) for case in suite]
    failures = {c.name: [r for r in c.result if isinstance(r, Failure)] for c in cases}

    ceiling = failures["ceiling >= peak * 1.2 (648,000)"][0]
    assert ceiling.message == (
        "measured 410,000 real concurrent users, limit >= 648,000 real concurrent users; "
        "failed at 430,000 real users"
    )
    assert failures["login p99 <= 800 ms"] == []
    assert cases[0].classname == "surgeproof.gate.ceiling"
