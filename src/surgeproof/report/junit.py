"""JUnit XML for CI systems: one test case per gate requirement, the numbers in the message.

CI test reporters show names and messages as Markdown (job summaries, check annotations), and
XML 1.0 cannot hold most control characters: every value from the run goes in through
``md_text`` (inert Markdown, printable characters only)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from surgeproof.report.checks import GateResult
from surgeproof.report.markdown import md_text

SUITE = "surgeproof gate"


def junit_xml(result: GateResult, *, elapsed_s: float = 0.0) -> str:
    """The JUnit XML document for ``result`` (one ``testsuite`` in a ``testsuites`` root)."""
    failures = len(result.failures)
    root = ET.Element("testsuites", name=SUITE)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"{SUITE}: {md_text(result.run_id)}",
        tests=str(len(result.checks)),
        failures=str(failures),
        errors="0",
        skipped=str(len(result.skipped)),
        time=f"{elapsed_s:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="run_dir", value=md_text(result.run_dir))
    for i, caveat in enumerate(result.caveats):
        ET.SubElement(props, "property", name=f"caveat.{i}", value=md_text(caveat))
    for check in result.checks:
        kind, name, message = md_text(check.kind), md_text(check.name), md_text(check.message)
        origin = md_text(check.origin)
        case = ET.SubElement(
            suite, "testcase", classname=f"surgeproof.gate.{kind}", name=name, time="0"
        )
        if not check.applicable:
            ET.SubElement(case, "skipped", message=message)
        elif check.passed:
            ET.SubElement(case, "system-out").text = f"{message} (from {origin})"
        else:
            failure = ET.SubElement(case, "failure", message=message, type=kind)
            failure.text = f"{name}: {message} (requirement from {origin})"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(result: GateResult, path: Path, *, elapsed_s: float = 0.0) -> None:
    """Write the JUnit XML for ``result`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(result, elapsed_s=elapsed_s), encoding="utf-8")
