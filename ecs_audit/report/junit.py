"""report.junit.xml: JUnit XML for CI test dashboards.

One test suite per area (catalogue order), one test case per check and resource:

| result | test case |
|---|---|
| PASS | passed |
| WARN | passed, with the warning in `system-out` (hardening advice does not fail a test run) |
| FAIL | `<failure type="FAIL">` |
| UNKNOWN | `<error type="UNKNOWN">` (the evidence could not be read) |
| WAIVED, NOT_APPLICABLE, MANUAL | `<skipped>` with the reason (waiver, why not applicable, open question) |

Text is escaped as ElementTree escapes it; characters XML 1.0 cannot hold, other control characters and
bidirectional overrides are removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timezone
from typing import TextIO

from ecs_audit.catalogue import Catalogue
from ecs_audit.findings import SEVERITY_VALUES, STATUS_VALUES, Finding, Status
from ecs_audit.report.filters import clean
from ecs_audit.report.model import Report
from ecs_audit.report.text_output import write_joined

# Not allowed in XML 1.0 documents (besides what `clean` removes): C0 controls but tab, LF, CR;
# surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    text = str(value)
    if text.isascii() and text.isprintable():
        return text  # the common case, without the regular expressions: nothing to drop
    return _NOT_XML.sub("", clean(text))


def _case_order(finding: Finding) -> tuple:
    """(check, account, region, resource ARN, container): the finding's sort key after its status
    and severity (kept on the finding, where a new tuple would be made for each)."""
    return finding.sort_key[2:]


def _case_name(f: Finding) -> str:
    name = f.resource.name + (f"/{f.container}" if f.container else "")
    return f"{f.check_id} {name} ({f.account_id} {f.region})"


def _detail_lines(f: Finding) -> list[str]:
    """A failure's, error's or warning's details, line by line."""
    lines = [
        f"{f.check_id}: {f.title}",
        f"status: {STATUS_VALUES[f.status]}, severity: {SEVERITY_VALUES[f.severity]}",
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
    return lines


def _skip_reason(f: Finding) -> str:
    if f.status is Status.WAIVED and f.waiver is not None:
        return f"WAIVED until {f.waiver.expires} by {f.waiver.owner}: {f.waiver.reason}"
    if f.status is Status.MANUAL:
        return f"MANUAL: open question: {f.title}"
    return f"{STATUS_VALUES[f.status]}: {f.message}"


# What ElementTree escapes, in its order: element content, then a double-quoted attribute.
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = (*_TEXT_ESCAPES, ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))


def _escaped(value: object, escapes: tuple[tuple[str, str], ...]) -> str:
    text = xml_text(value)
    for char, entity in escapes:
        if char in text:
            text = text.replace(char, entity)
    return text


def _attr(value: object) -> str:
    """xml_text(value) escaped for a double-quoted attribute, as ElementTree writes it."""
    return _escaped(value, _ATTRIBUTE_ESCAPES)


def _text(value: object) -> str:
    """xml_text(value) escaped as element content."""
    return _escaped(value, _TEXT_ESCAPES)


def _attrs(**attributes: object) -> str:
    return "".join(f' {key}="{_attr(value)}"' for key, value in attributes.items())


class _Cases:
    """Test cases as text, exactly as ElementTree (indented with ET.indent) would write the same tree:
    tens of thousands of test cases as Element objects cost several times as much.

    Escaping drops or replaces one character at a time, so a text's lines escaped one by one and
    joined are the whole text escaped: the lines that repeat from case to case (a check's title and
    fix, a resource, a status) are escaped once."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def _text_of(self, line: str) -> str:
        text = self._texts.get(line)
        if text is None:
            text = self._texts[line] = _text(line)
        return text

    def _details(self, f: Finding) -> str:
        """_text of the detail lines joined by line breaks."""
        return "\n".join(map(self._text_of, _detail_lines(f)))

    def testcase(self, f: Finding, classname: str) -> str:
        head = f'    <testcase name="{_attr(_case_name(f))}" classname="{classname}" time="0"'
        status = f.status
        if status is Status.FAIL:
            return f'{head}>\n      <failure message="{_attr(f.message)}" type="FAIL">{self._details(f)}</failure>\n    </testcase>'
        if status is Status.UNKNOWN:
            return f'{head}>\n      <error message="{_attr(f.message)}" type="UNKNOWN">{self._details(f)}</error>\n    </testcase>'
        if status in (Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL):
            return f'{head}>\n      <skipped message="{_attr(_skip_reason(f))}" />\n    </testcase>'
        if status is Status.WARN:
            # _text(f"WARN ({severity}): {message}\n\n{details}"), line by line.
            text = _text(f"WARN ({SEVERITY_VALUES[f.severity]}): {f.message}") + "\n\n" + self._details(f)
            return f"{head}>\n      <system-out>{text}</system-out>\n    </testcase>"
        return head + " />"


def _counts_of(by_status: Counter[Status]) -> dict[str, str]:
    return {
        "tests": str(by_status.total()),
        "failures": str(by_status.get(Status.FAIL, 0)),
        "errors": str(by_status.get(Status.UNKNOWN, 0)),
        "skipped": str(sum(by_status.get(s, 0) for s in (Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL))),
        "time": "0",
    }


def render_junit(report: Report, catalogue: Catalogue) -> str:
    return "\n".join(_lines(report, catalogue))


def write_junit(report: Report, catalogue: Catalogue, out: TextIO) -> None:
    """render_junit's text, written a batch of lines at a time."""
    write_joined(out, _lines(report, catalogue))


def _lines(report: Report, catalogue: Catalogue) -> Iterator[str]:
    """The document's lines (the last one ends with a line break)."""
    generated = report.generated_at
    if generated.tzinfo is not None:
        generated = generated.astimezone(timezone.utc).replace(tzinfo=None)
    timestamp = generated.isoformat(timespec="seconds")
    # One pass: the findings by area, and how many of each status each area has.
    by_area: dict[str, list[Finding]] = {}
    statuses: dict[str, Counter[Status]] = {}
    for finding in report.findings:
        area = finding.area
        mine = by_area.get(area)
        if mine is None:
            mine = by_area[area] = []
            statuses[area] = Counter()
        mine.append(finding)
        statuses[area][finding.status] += 1
    root = "<testsuites" + _attrs(name=f"{report.tool.name} {report.tool.version}", **_counts_of(sum(statuses.values(), Counter())), timestamp=timestamp)
    if not by_area:
        yield f'<?xml version="1.0" encoding="UTF-8"?>\n{root} />\n'
        return
    order = [a for a in catalogue.area_names if a in by_area] + sorted(set(by_area) - set(catalogue.area_names))
    titles = {a.area: a.title for a in catalogue.areas}
    yield '<?xml version="1.0" encoding="UTF-8"?>\n' + root + ">"
    cases = _Cases()
    for area in order:
        findings = sorted(by_area[area], key=_case_order)
        yield "  <testsuite" + _attrs(name=f"ecs-audit.{area}", **_counts_of(statuses[area]), timestamp=timestamp) + ">"
        yield "    <properties>"
        for name, value in (
            ("area", titles.get(area, area)),
            ("accounts", ", ".join(report.scope.accounts)),
            ("regions", ", ".join(report.scope.regions)),
        ):
            yield f'      <property name="{name}" value="{_attr(value)}" />'
        yield "    </properties>"
        classnames: dict[str, str] = {}
        for f in findings:
            classname = classnames.get(f.check_id)
            if classname is None:
                classname = classnames[f.check_id] = _attr(f"ecs-audit.{f.area}.{f.check_id}")
            yield cases.testcase(f, classname)
        yield "  </testsuite>"
    yield "</testsuites>\n"
