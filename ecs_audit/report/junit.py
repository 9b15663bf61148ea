"""report.junit.xml: JUnit XML for CI test dashboards.

One test suite per area (catalogue order), one test case per check and resource:

| result | test case |
|---|---|
| PASS | passed |
| WARN | passed, with the warning in `system-out` (hardening advice does not fail a test run) |
| FAIL | `<failure type="FAIL">` |
| UNKNOWN | `<error type="UNKNOWN">` (the evidence could not be read) |
| WAIVED, NOT_APPLICABLE, MANUAL | `<skipped>` with the reason (waiver, why not applicable, open question) |

Text is escaped by the XML writer; characters XML 1.0 cannot hold, other control characters and
bidirectional overrides are removed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timezone

from ecs_audit.catalogue import Catalogue
from ecs_audit.findings import Finding, Status
from ecs_audit.report.filters import clean
from ecs_audit.report.model import Report

# Not allowed in XML 1.0 documents (besides what `clean` removes): C0 controls but tab, LF, CR;
# surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    text = str(value)
    if text.isascii() and text.isprintable():
        return text  # the common case, without the regular expressions: nothing to drop
    return _NOT_XML.sub("", clean(text))


def _case_order(finding: Finding) -> tuple:
    return (finding.check_id, finding.account_id, finding.region, finding.resource.arn, finding.container or "")


def _case_name(f: Finding) -> str:
    name = f.resource.name + (f"/{f.container}" if f.container else "")
    return f"{f.check_id} {name} ({f.account_id} {f.region})"


def _details(f: Finding) -> str:
    lines = [
        f"{f.check_id}: {f.title}",
        f"status: {f.status.value}, severity: {f.severity.value}",
        f"resource: {f.resource.type} {f.resource.arn}" + (f" container {f.container}" if f.container else ""),
    ]
    if f.cluster is not None:
        lines.append(f"cluster: {f.cluster}")
    lines.append(f"message: {f.message}")
    if f.change:
        lines.append(f"since baseline: {f.change}")
    if f.answer is not None:
        lines.append(f"answered {f.answer.answer} by {f.answer.who} on {f.answer.when}: {f.answer.note}")
    lines.append(f"fix: {f.remediation}")
    return "\n".join(lines)


def _skip_reason(f: Finding) -> str:
    if f.status is Status.WAIVED and f.waiver is not None:
        return f"WAIVED until {f.waiver.expires} by {f.waiver.owner}: {f.waiver.reason}"
    if f.status is Status.MANUAL:
        return f"MANUAL: open question: {f.title}"
    return f"{f.status.value}: {f.message}"


def _set(element: ET.Element, **attributes: object) -> None:
    for key, value in attributes.items():
        element.set(key, xml_text(value))


def _testcase(parent: ET.Element, f: Finding) -> None:
    case = ET.SubElement(parent, "testcase")
    _set(case, name=_case_name(f), classname=f"ecs-audit.{f.area}.{f.check_id}", time="0")
    if f.status is Status.FAIL:
        failure = ET.SubElement(case, "failure")
        _set(failure, message=f.message, type="FAIL")
        failure.text = xml_text(_details(f))
    elif f.status is Status.UNKNOWN:
        error = ET.SubElement(case, "error")
        _set(error, message=f.message, type="UNKNOWN")
        error.text = xml_text(_details(f))
    elif f.status in (Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL):
        skipped = ET.SubElement(case, "skipped")
        _set(skipped, message=_skip_reason(f))
    elif f.status is Status.WARN:
        out = ET.SubElement(case, "system-out")
        out.text = xml_text(f"WARN ({f.severity.value}): {f.message}\n\n{_details(f)}")


def _counts(findings: list[Finding]) -> dict[str, str]:
    return {
        "tests": str(len(findings)),
        "failures": str(sum(1 for f in findings if f.status is Status.FAIL)),
        "errors": str(sum(1 for f in findings if f.status is Status.UNKNOWN)),
        "skipped": str(sum(1 for f in findings if f.status in (Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL))),
        "time": "0",
    }


def render_junit(report: Report, catalogue: Catalogue) -> str:
    generated = report.generated_at
    if generated.tzinfo is not None:
        generated = generated.astimezone(timezone.utc).replace(tzinfo=None)
    timestamp = generated.isoformat(timespec="seconds")
    root = ET.Element("testsuites")
    _set(root, name=f"{report.tool.name} {report.tool.version}", **_counts(report.findings), timestamp=timestamp)
    by_area: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_area.setdefault(finding.area, []).append(finding)
    order = [a for a in catalogue.area_names if a in by_area] + sorted(set(by_area) - set(catalogue.area_names))
    titles = {a.area: a.title for a in catalogue.areas}
    for area in order:
        findings = sorted(by_area[area], key=_case_order)
        suite = ET.SubElement(root, "testsuite")
        _set(suite, name=f"ecs-audit.{area}", **_counts(findings), timestamp=timestamp)
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("area", titles.get(area, area)),
            ("accounts", ", ".join(report.scope.accounts)),
            ("regions", ", ".join(report.scope.regions)),
        ):
            prop = ET.SubElement(properties, "property")
            _set(prop, name=name, value=value)
        for finding in findings:
            _testcase(suite, finding)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
