"""Rendering the report: escaping, self-containment, the Markdown size cut, JSON, determinism."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from ecs_audit.findings import ResourceRef, Status
from ecs_audit.report import filters
from ecs_audit.report.model import Report
from ecs_audit.report.model import report_from_data, report_from_json  # noqa: F401
from ecs_audit.report.render import render_html, render_json, render_markdown
from tests.support.sample_report import ACCOUNT, HOSTILE_MD, build, make_finding, sample_report

MD_LIMIT = 65_536


@pytest.fixture(scope="module")
def sample():
    return sample_report()


@pytest.fixture(scope="module")
def html(sample) -> str:
    return render_html(*sample)


@pytest.fixture(scope="module")
def markdown(sample) -> str:
    return render_markdown(*sample)


# --- HTML ------------------------------------------------------------------------------------


def test_html_escapes_hostile_strings(html: str) -> None:
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html
    # The one script element is ours, inline.
    assert len(re.findall(r"<script\b", html)) == 1
    assert "<script>\n(function" in html


def test_html_loads_nothing_by_url(html: str) -> None:
    assert 'src="http' not in html
    assert "@import" not in html
    assert "url(" not in html
    for tag in re.findall(r"<(?:link|script|img|iframe|object|embed)\b[^>]*>", html):
        assert "http" not in tag, tag
    assert not re.search(r"<link\b", html)


def test_html_has_no_inline_event_handlers(html: str) -> None:
    for tag in re.findall(r"<[a-zA-Z][^>]*>", html):
        assert not re.search(r"\son[a-z]+\s*=", tag), tag
    assert "javascript:" not in html


def test_html_links_are_safe(html: str) -> None:
    anchors = re.findall(r"<a\b[^>]*>", html)
    external = [a for a in anchors if 'href="http' in a]
    assert external, "the sample has reference links"
    for anchor in external:
        assert 'href="https://' in anchor
        assert 'rel="noopener noreferrer"' in anchor


def test_html_shows_summary_areas_and_every_finding(sample, html: str) -> None:
    report, catalogue = sample
    assert "ECS audit report" in html
    assert f"{report.summary.score}<small> / 100" in html
    for area in report.summary.areas:
        assert f'data-area="{area.area}"' in html
        assert str(filters.md_html(area.title)) in html
    for finding in report.findings:
        assert finding.check_id in html
    assert report.tool.version in html
    assert report.scope.caller_arn in html
    assert "2026-11-01 12:00 UTC" in html
    assert 'href="#errors"' in html and 'id="errors"' in html
    assert "AccessDeniedException" in html


def test_html_rolls_up_by_check(sample, html: str) -> None:
    """Each check once (details closed: opened on demand), worst first; its FAIL/WARN/UNKNOWN/WAIVED/
    MANUAL results listed row by row, its PASS results counted; its guidance once."""
    report, _ = sample
    tags = re.findall(r'<details class="rollup[^>]*>', html)
    checks = {f.check_id for f in report.findings}
    assert len(tags) == len(checks)
    assert [re.search(r'id="check-([^"]+)"', t).group(1) for t in tags if True].__len__() == len(checks)
    assert all(" open" not in tag for tag in tags)
    worst = [re.search(r'data-worst="([A-Z_]+)"', t).group(1) for t in tags]
    ranks = [Status(w).rank for w in worst]
    assert ranks == sorted(ranks, reverse=True), "worst check first"
    listed = [f for f in report.findings if f.status in {Status.FAIL, Status.WARN, Status.UNKNOWN, Status.WAIVED, Status.MANUAL}]
    assert len(re.findall(r'<tr data-s="', html)) == len(listed)
    for check in checks:
        entry_rows = [f for f in report.findings if f.check_id == check]
        assert html.count(f'id="check-{check}"') == 1
        passed = sum(1 for f in entry_rows if f.status is Status.PASS)
        if passed:
            section = html[html.index(f'id="check-{check}"'):]
            section = section[: section.index("</details>\n  <details") if "</details>\n  <details" in section else len(section)]
            assert f"{passed} PASS" in section
    assert html.count("<h5>How to fix</h5>") == len(checks)


def test_html_controls_are_hidden_without_javascript(html: str) -> None:
    assert re.search(r'<form id="filters"[^>]*\shidden\b', html)


class _Balance(HTMLParser):
    VOID = {"meta", "br", "input", "link", "img", "hr", "rect", "path", "circle", "line", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
            return
        self.stack.pop()


def test_html_tags_are_balanced(html: str) -> None:
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_escapes_hostile_strings(markdown: str) -> None:
    assert "<script>" not in markdown
    assert "[link](http://evil)" not in markdown
    assert "**bold**" not in markdown
    assert "\x1b" not in markdown
    assert filters.md(HOSTILE_MD) in markdown


def test_markdown_tables_keep_their_columns(markdown: str) -> None:
    blocks: list[list[str]] = [[]]
    for line in markdown.splitlines():
        if line.startswith("|"):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    tables = [b for b in blocks if b]
    assert len(tables) >= 3
    for table in tables:
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table


def test_markdown_lists_every_fail_and_summarises(sample, markdown: str) -> None:
    report, _ = sample
    assert markdown.startswith(f"## ECS audit report: score {report.summary.score}/100 (grade {report.summary.grade})")
    for finding in report.findings:
        if finding.status is Status.FAIL:
            assert f"<strong>{filters.md_html(finding.check_id)}</strong>" in markdown
    for area in report.summary.areas:
        assert filters.md(area.title) in markdown
    assert "### Fix first" in markdown
    assert "### Collection errors" in markdown
    assert "AccessDeniedException" in markdown
    assert "more findings are in" not in markdown
    # PASS results are counted, not listed.
    assert "**PASS**" not in markdown
    assert len(markdown) < MD_LIMIT


def _large_report(sample, count: int) -> Report:
    _, catalogue = sample
    entries = [e for e in catalogue.checks if e.automated and not e.deprecated] or catalogue.checks
    statuses = [Status.FAIL, Status.WARN, Status.UNKNOWN, Status.PASS, Status.FAIL]
    findings = []
    for i in range(count):
        entry = entries[i % len(entries)]
        cluster = f"cluster-{i % 7}"
        arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{cluster}/service-{i:04d}"
        findings.append(
            make_finding(
                entry,
                # Offset by the round so every check gets mixed statuses whatever the catalogue's size
                # (with a multiple of 5 checks, i % 5 would give each check a single status).
                statuses[(i + i // len(entries)) % len(statuses)],
                ResourceRef(type="AWS::ECS::Service", arn=arn, name=f"service-{i:04d}"),
                cluster=cluster,
                message=f"finding {i}: " + "the evidence says something long and detailed about it; " * 6,
                evidence={"index": i},
            )
        )
    return build(findings, catalogue)


def test_markdown_stays_under_the_comment_limit(sample) -> None:
    report = _large_report(sample, 2000)
    text = render_markdown(report, sample[1])
    assert len(text) < MD_LIMIT
    match = re.search(r"\*\*(\d+) more checks with FAIL/WARN/UNKNOWN results are in report\.html / report\.json\*\*", text)
    assert match, "the cut must say how many checks were left out"
    attention = [f for f in report.findings if f.status in {Status.FAIL, Status.WARN, Status.UNKNOWN}]
    shown_checks = len(re.findall(r"^<details><summary>", text, flags=re.MULTILINE))
    assert shown_checks + int(match.group(1)) == len({f.check_id for f in attention})
    listed = len(re.findall(r"^- \*\*(?:FAIL|WARN|UNKNOWN)\*\* · ", text, flags=re.MULTILINE))
    more = sum(int(n) for n in re.findall(r"^- … and (\d+) more: ", text, flags=re.MULTILINE))
    assert listed > 50
    # Each shown check accounts for all its results: listed, or counted as "and N more".
    shown_ids = set(re.findall(r"^<details><summary>[^<]*<strong>([^<]+)</strong>", text, flags=re.MULTILINE))
    assert listed + more == sum(1 for f in attention if filters.md_html(f.check_id) in shown_ids)
    # Worst first: every FAIL that fits comes before any WARN is listed.
    fails = sum(1 for f in attention if f.status is Status.FAIL)
    if listed < fails:
        assert "- **WARN** · " not in text


# --- JSON and determinism --------------------------------------------------------------------


def test_json_round_trips(sample) -> None:
    report, catalogue = sample
    data = json.loads(render_json(report, catalogue))
    assert data["summary"]["score"] == report.summary.score
    assert len(data["findings"]) == len(report.findings)
    assert report_from_data(data) == report


@pytest.mark.parametrize("render", [render_html, render_markdown, render_json])
def test_rendering_is_deterministic(render) -> None:
    first = render(*sample_report()).encode("utf-8")
    second = render(*sample_report()).encode("utf-8")
    assert first == second


# --- filters ---------------------------------------------------------------------------------


def test_filters() -> None:
    assert filters.md("a|b [x](y) \x1b[31m") == r"a\|b \[x\](y) \[31m"
    # no mentions, autolinks, list items or ordered lists from data; ordinary text stays readable
    assert filters.md("@team see http://evil www.evil.com") == r"\@team see http\://evil www\.evil.com"
    assert filters.md("- x") == r"\- x" and filters.md("1. x") == r"1\. x"
    assert filters.md("us-east-1 v0.1.0 (x)") == "us-east-1 v0.1.0 (x)"
    assert filters.md("abcdef", 4) == "abc…"
    assert filters.percent(0.93548) == "93.5%"
    assert filters.percent(None) == "n/a"
    assert filters.evidence_value({"b": 1, "a": [True, None]}) == '{"a": [true, null], "b": 1}'
    assert filters.evidence_value("x\x1b[0m\u202ey") == "x[0my"
    assert filters.status_label("NOT_APPLICABLE") == "N/A"
