"""JUnit XML for CI systems: one test case per gate requirement, the numbers in the message."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from surgeproof.report.checks import GateResult

SUITE = "surgeproof gate"


def junit_xml(result: GateResult, *, elapsed_s: float = 0.0) -> str:
    """The JUnit XML document for ``result`` (one ``testsuite`` in a ``testsuites`` root)."""
    failures = len(result.failures)
    root = ET.Element("testsuites", name=SUITE)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"{SUITE}: {result.run_id}",
        tests=str(len(result.checks)),
        failures=str(failures),
        errors="0",
        skipped=str(len(result.skipped)),
        time=f"{elapsed_s:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="run_dir", value=result.run_dir)
    for i, caveat in enumerate(result.caveats):
        ET.SubElement(props, "property", name=f"caveat.{i}", value=caveat)
    for check in result.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"surgeproof.gate.{check.kind}", name=check.name, time="0"
        )
        if not check.applicable:
            ET.SubElement(case, "skipped", message=check.message)
        elif check.passed:
            ET.SubElement(case, "system-out").text = f"{check.message} (from {check.origin})"
        else:
            failure = ET.SubElement(case, "failure", message=check.message, type=check.kind)
            failure.text = f"{check.name}: {check.message} (requirement from {check.origin})"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(result: GateResult, path: Path, *, elapsed_s: float = 0.0) -> None:
    """Write the JUnit XML for ``result`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(result, elapsed_s=elapsed_s), encoding="utf-8")
