"""report.junit.xml: well-formed JUnit XML, one test case per check and resource, the status mapping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from ecs_audit.findings import Status
from ecs_audit.report.junit import render_junit, xml_text
from tests.support import golden_estate
from tests.support.sample_report import HOSTILE_HTML, PAYMENTS, sample_report

SKIPPED = {Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL}


@pytest.fixture(scope="module")
def sample():
    return sample_report()


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    outcome = golden_estate.run(tmp_path_factory.mktemp("junit"), formats=("junit",))
    path = next(p for p in outcome.written if p.name == "report.junit.xml")
    return outcome.report, path.read_text(encoding="utf-8")


def _outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


def _check_structure(root: ET.Element) -> None:
    """The shape CI tools read (the common JUnit XML schema): counts agree with the cases."""
    assert root.tag == "testsuites"
    totals = Counter()
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        outcomes = Counter(_outcome(c) for c in cases)
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == outcomes["failure"]
        assert int(suite.get("errors")) == outcomes["error"]
        assert int(suite.get("skipped")) == outcomes["skipped"]
        assert suite.get("name") and suite.get("timestamp") and suite.get("time") == "0"
        for case in cases:
            assert case.get("name") and case.get("classname") and case.get("time") == "0"
            children = [child.tag for child in case]
            assert len([t for t in children if t in ("failure", "error", "skipped")]) <= 1
            assert set(children) <= {"failure", "error", "skipped", "system-out"}
        totals.update(tests=len(cases), **outcomes)
    for key, attribute in (("tests", "tests"), ("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        assert int(root.get(attribute)) == totals[key]


@pytest.mark.parametrize("which", ["sample", "golden"])
def test_junit_parses_and_maps_every_status(which, sample, golden) -> None:
    if which == "sample":
        report, text = sample[0], render_junit(*sample)
    else:
        report, text = golden
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    _check_structure(root)
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(report.findings)
    expected = Counter()
    for f in report.findings:
        if f.status is Status.FAIL:
            expected["failure"] += 1
        elif f.status is Status.UNKNOWN:
            expected["error"] += 1
        elif f.status in SKIPPED:
            expected["skipped"] += 1
        else:
            expected["passed"] += 1
    assert Counter(_outcome(c) for c in cases) == expected


def test_one_case_per_check_and_resource(sample) -> None:
    report, catalogue = sample
    root = ET.fromstring(render_junit(report, catalogue))
    names = [c.get("name") for c in root.iter("testcase")]
    assert len(names) == len(set(names))
    suites = [s.get("name") for s in root.findall("testsuite")]
    assert suites == [f"ecs-audit.{a}" for a in catalogue.area_names if any(f.area == a for f in report.findings)]
    for case in root.iter("testcase"):
        check_id = case.get("classname").rsplit(".", 1)[1]
        assert case.get("name").startswith(check_id + " ")


def test_failure_error_and_skip_details(sample) -> None:
    report, catalogue = sample
    root = ET.fromstring(render_junit(report, catalogue))
    by_name = {c.get("name"): c for c in root.iter("testcase")}
    waived = next(f for f in report.findings if f.status is Status.WAIVED)
    case = next(c for n, c in by_name.items() if n.startswith(waived.check_id) and waived.resource.name in n and c.find("skipped") is not None)
    assert waived.waiver.reason in case.find("skipped").get("message")
    failing = next(c for c in root.iter("testcase") if c.find("failure") is not None)
    assert failing.find("failure").get("type") == "FAIL"
    assert "fix:" in failing.find("failure").text
    unknown = next(c for c in root.iter("testcase") if c.find("error") is not None)
    assert unknown.find("error").get("type") == "UNKNOWN"
    warned = [c for c in root.iter("testcase") if c.find("system-out") is not None]
    assert warned and all(c.find("system-out").text.startswith("WARN") for c in warned)


def test_hostile_names_are_text(sample) -> None:
    report, catalogue = sample
    text = render_junit(report, catalogue)
    assert "<script>" not in text
    assert "\x1b" not in text
    root = ET.fromstring(text)
    names = " ".join(c.get("name") for c in root.iter("testcase"))
    assert xml_text(PAYMENTS) in names
    assert HOSTILE_HTML in names  # parsed back: it was escaped text, not markup


def test_xml_text_drops_what_xml_cannot_hold() -> None:
    assert xml_text("a\x00b\x1b[31mc\ufffed\u202ee\ud800f") == "ab[31mcdef"
    assert xml_text("tab\tand\nnewline") == "tab\tand\nnewline"
    assert not re.search("[\x00-\x08]", xml_text("".join(chr(i) for i in range(32))))


def test_rendering_is_deterministic(sample) -> None:
    assert render_junit(*sample) == render_junit(*sample_report())


@pytest.mark.parametrize("which", ["sample", "golden"])
def test_text_is_what_elementtree_writes(which, sample, golden) -> None:
    """The document is written as text: parsed and written again by ElementTree (indented the same
    way) it is unchanged, escaping included (the sample's hostile names and messages)."""
    text = render_junit(*sample) if which == "sample" else golden[1]
    header = '<?xml version="1.0" encoding="UTF-8"?>\n'
    assert text.startswith(header)
    root = ET.fromstring(text[len(header):])
    ET.indent(root)
    assert header + ET.tostring(root, encoding="unicode") + "\n" == text
    if which == "sample":
        assert HOSTILE_PAYMENTS_ESCAPED in text


HOSTILE_PAYMENTS_ESCAPED = "payments&lt;script&gt;alert(1)&lt;/script&gt;"
