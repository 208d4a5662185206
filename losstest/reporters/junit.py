"""`--format junit`: JUnit XML for Jenkins, GitLab and GitHub test reporters.

One `<testsuite>` per run, one `<testcase>` per check and per rule; a finding at least as severe
as `--fail-on` is a `<failure>` with its message and evidence, a lesser one goes to the test
case's `<system-out>`. An unreadable file is a test case with an `<error>`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ..report import Report, RunReport
from .json import finding_dict
from .options import DEFAULT, RenderOptions

NAME = "junit"


def _case(run: RunReport, finding) -> str:
    info = run.catalog.get(finding.kind)
    return info.case_of(finding) if info is not None else finding.kind


def _suite(run: RunReport, options: RenderOptions) -> ET.Element:
    suite = ET.Element("testsuite", name=f"losstest: {run.run}", file=run.source)
    failures = 0
    cases = [_case(run, f) for f in run.findings]
    names = list(dict.fromkeys([*run.checks, *cases]))
    for check in names:
        found = [f for f, case in zip(run.findings, cases, strict=True) if case == check]
        case = ET.SubElement(suite, "testcase", name=check, classname=f"losstest.{run.run}")
        failing = [f for f in found if f.severity.rank >= options.fail_on.rank]
        if failing:
            failures += 1
            failure = ET.SubElement(case, "failure", type=check, message=failing[0].message)
            failure.text = "\n".join(
                f"{f.message}\n{json.dumps(finding_dict(f)['evidence'])}" for f in failing
            )
        rest = [f for f in found if f not in failing]
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"[{f.severity.value}] {f.message}" for f in rest
            )
    suite.set("tests", str(len(names)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite


def render(report: Report, options: RenderOptions = DEFAULT) -> str:
    root = ET.Element("testsuites", name="losstest")
    for run in report.runs:
        root.append(_suite(run, options))
    if report.problems:
        suite = ET.SubElement(root, "testsuite", name="losstest: unreadable logs",
                              tests=str(len(report.problems)), failures="0",
                              errors=str(len(report.problems)), skipped="0")  # fmt: skip
        for problem in report.problems:
            case = ET.SubElement(suite, "testcase", name=problem.source, classname="losstest.input")
            ET.SubElement(case, "error", type="InputError", message=problem.message)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, 0)) for s in root)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
