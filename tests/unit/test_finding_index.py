"""The findings index (Report.index): the same groups as a pass per group, and the same reports
whether or not the findings arrive worst first."""

from __future__ import annotations

from ecs_audit.findings import SORT_KEY, Status
from ecs_audit.report.csv_format import render_csv
from ecs_audit.report.finding_index import index_findings
from ecs_audit.report.render import render_html, render_json, render_markdown
from ecs_audit.report.sarif import render_sarif
from tests.support.sample_report import sample_report


def test_groups_are_the_findings_own_passes():
    report, _ = sample_report()
    findings = report.findings
    index = index_findings(findings)
    assert index.ordered and findings == sorted(findings, key=SORT_KEY)
    assert list(index.by_check) == list(dict.fromkeys(f.check_id for f in findings))
    for check_id, group in index.by_check.items():
        assert group == [f for f in findings if f.check_id == check_id]
    for status in Status:
        assert index.by_status.get(status, []) == [f for f in findings if f.status is status]
    assert index.attention == [f for f in findings if f.status in (Status.FAIL, Status.WARN, Status.UNKNOWN)]
    assert index.changed == [f for f in findings if f.change is not None]
    assert index.first_by_arn == {arn: next(f for f in findings if f.resource.arn == arn) for arn in {f.resource.arn for f in findings}}
    assert index.accounts == {f.account_id for f in findings} and index.clusters == {f.cluster for f in findings}


def test_out_of_order_findings_are_sorted_where_a_format_lists_them_worst_first():
    report, catalogue = sample_report()
    shuffled = report.model_copy(update={"findings": list(reversed(report.findings))})
    assert report.index.ordered and not shuffled.index.ordered
    assert shuffled.index.worst_first(shuffled.index.attention) == report.index.attention
    for render in (render_csv, render_sarif):
        assert render(shuffled, catalogue) == render(report, catalogue)


def test_model_copy_drops_the_index():
    report, catalogue = sample_report()
    assert report.index.attention
    fewer = report.model_copy(update={"findings": [f for f in report.findings if f.status is Status.PASS]})
    assert fewer.index.attention == [] and report.index.attention
    # Rendering keeps the index out of what is written and of equality.
    assert render_json(report, catalogue) and report == report.model_copy()
    assert "FAIL" in render_html(report, catalogue) and render_markdown(fewer, catalogue)
