"""--baseline and `ecs-audit diff`: new, unchanged and resolved results; task definitions by family."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_audit.findings import finding_key, resource_key
from ecs_audit.report.diff import compare, load_baseline, load_report
from ecs_audit.cli import main
from ecs_audit.errors import UsageError
from ecs_audit.findings import ResourceRef, Status
from ecs_audit.inventory.snapshot import save_snapshot
from ecs_audit.pipeline import ReportOptions, finish
from ecs_audit.report.model import Report
from ecs_audit.report.model import report_from_data, report_from_json  # noqa: F401
from tests.support import golden_estate
from tests.support.sample_report import ACCOUNT, REGION, make_finding

TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/"


def _f(catalogue, check: str, status: Status, arn: str, container: str | None = None):
    kind = "AWS::ECS::TaskDefinition" if ":task-definition/" in arn else "AWS::ECS::Service"
    return make_finding(catalogue.get(check), status, ResourceRef(type=kind, arn=arn, name=arn.rsplit("/", 1)[-1]), container=container, message="m")


def test_task_definitions_are_matched_by_family() -> None:
    assert resource_key(TD + "web:42") == TD + "web"
    assert resource_key(TD + "web:7") == resource_key(TD + "web:43")
    assert resource_key(SERVICE + "web") == SERVICE + "web"
    assert resource_key(f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:task-definition/a-b_c:1") == f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:task-definition/a-b_c"
    assert resource_key(f"arn:aws:iam::{ACCOUNT}:root") == f"arn:aws:iam::{ACCOUNT}:root"


def test_compare(catalogue) -> None:
    before = [
        _f(catalogue, "SECURITY-001", Status.FAIL, TD + "web:42", "app"),  # same problem, new revision: unchanged
        _f(catalogue, "IMAGE-001", Status.FAIL, TD + "web:42", "app"),  # fixed: resolved (now PASS)
        _f(catalogue, "CICD-005", Status.WARN, SERVICE + "web"),  # now FAIL: resolved WARN + new FAIL
        _f(catalogue, "CICD-001", Status.FAIL, SERVICE + "gone"),  # resource removed: resolved (not evaluated)
        _f(catalogue, "RESILIENCE-002", Status.PASS, SERVICE + "web"),
    ]
    now = [
        _f(catalogue, "SECURITY-001", Status.FAIL, TD + "web:43", "app"),
        _f(catalogue, "IMAGE-001", Status.PASS, TD + "web:43", "app"),
        _f(catalogue, "CICD-005", Status.FAIL, SERVICE + "web"),
        _f(catalogue, "SECURITY-002", Status.FAIL, TD + "web:43", "app"),  # brand new
        _f(catalogue, "RESILIENCE-002", Status.WARN, SERVICE + "web"),  # was PASS: new
        _f(catalogue, "RESILIENCE-001", Status.PASS, SERVICE + "web"),
    ]
    result = compare(now, before)
    change = {(f.check_id, f.resource.name): f.change for f in result.findings}
    assert change == {
        ("SECURITY-001", "web:43"): "unchanged",
        ("IMAGE-001", "web:43"): None,
        ("CICD-005", "web"): "new",
        ("SECURITY-002", "web:43"): "new",
        ("RESILIENCE-002", "web"): "new",
        ("RESILIENCE-001", "web"): None,
    }
    resolved = {(r.finding.check_id, r.finding.status, r.now) for r in result.resolved}
    assert resolved == {
        ("IMAGE-001", Status.FAIL, Status.PASS),
        ("CICD-005", Status.WARN, Status.FAIL),
        ("CICD-001", Status.FAIL, None),
    }
    assert len(result.new_fails) == 2 and len(result.unchanged) == 1
    # Compared with itself nothing is new or resolved.
    same = compare(now, now)
    assert not same.new and not same.resolved and len(same.unchanged) == 4


def test_two_revisions_in_use_are_counted_not_collapsed(catalogue) -> None:
    """During a deployment web:42 and web:43 both run: the same key twice on each side."""
    both = [_f(catalogue, "SECURITY-001", Status.FAIL, TD + "web:42", "app"), _f(catalogue, "SECURITY-001", Status.FAIL, TD + "web:43", "app")]
    assert finding_key(both[0]) == finding_key(both[1])
    result = compare(both, both[:1])
    assert [f.change for f in result.findings] == ["unchanged", "new"]
    result = compare(both[:1], both)
    assert len(result.resolved) == 1 and result.resolved[0].now is Status.FAIL


def test_baseline_run_marks_findings_and_counts_them(tmp_path) -> None:
    outcome = golden_estate.run(tmp_path, formats=("html", "md", "json"))
    report = outcome.report
    changes = report.summary.changes
    assert changes is not None
    new = [f for f in report.findings if f.change == "new"]
    assert {(f.check_id, f.container) for f in new} == {("SECURITY-002", "debug"), ("MANUAL-010", None)}
    assert changes.new == 2 and changes.new_fail == 2 and changes.resolved == len(report.resolved) == 2
    assert changes.unchanged == sum(1 for f in report.findings if f.change == "unchanged") > 10
    # web moved from revision 42 to 43: none of its results is new.
    assert not [f for f in new if f.resource.name.startswith("web:")]
    assert any(f.resource.name == "web:43" and f.change == "unchanged" for f in report.findings)
    assert {(r.finding.check_id, r.now) for r in report.resolved} == {("IMAGE-001", Status.PASS), ("SECURITY-001", Status.WAIVED)}
    assert all(f.change is None for f in report.findings if f.status not in (Status.FAIL, Status.WARN))
    html = (tmp_path / "current" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "current" / "report.md").read_text(encoding="utf-8")
    assert 'id="changes"' in html and "Changes since baseline" in html and 'data-ch="new"' in html
    assert '<select name="change">' in html
    assert "### Changes since baseline" in md and "**2 new**" in md and "**2 resolved**" in md
    assert report_from_json((tmp_path / "current" / "report.json").read_text(encoding="utf-8")) == report


def test_without_baseline_nothing_is_marked(tmp_path) -> None:
    report = finish(golden_estate.inventory("current"), ReportOptions(output_dir=tmp_path, formats=("md", "html")), generated_at=golden_estate.GENERATED_AT).report
    assert report.summary.changes is None and report.baseline is None and report.resolved == []
    assert all(f.change is None for f in report.findings)
    assert "Changes since baseline" not in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert 'id="changes"' not in (tmp_path / "report.html").read_text(encoding="utf-8")


# --- loading ---------------------------------------------------------------------------------


def _report_file(tmp_path: Path, name: str = "report.json") -> Path:
    outcome = finish(golden_estate.inventory("previous"), ReportOptions(output_dir=tmp_path / name.replace(".", "_"), formats=("json",)), generated_at=golden_estate.PREVIOUS_AT)
    return outcome.written[0]


def test_load_baseline(tmp_path) -> None:
    path = _report_file(tmp_path)
    baseline = load_baseline(path)
    assert baseline.info.source == str(path)
    assert baseline.info.generated_at == golden_estate.PREVIOUS_AT
    assert len(baseline.findings) > 50


@pytest.mark.parametrize(
    "content,expected",
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ("[]", "not an ecs-audit report.json"),
        ('{"schema_version": 4, "findings": []}', "schema version 4 is not one of 1, 2, 3"),
        ('{"schema_version": 1, "findings": [{"check_id": 3}]}', "invalid report at"),
    ],
    ids=["missing", "not-json", "not-report", "newer-schema", "invalid"],
)
def test_bad_baselines_are_one_line_usage_errors(tmp_path, content, expected) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load_baseline(path)
    assert "\n" not in str(raised.value) and str(raised.value).startswith(f"baseline {path}: ")
    assert expected in str(raised.value)


def test_an_older_report_without_the_new_fields_loads(tmp_path) -> None:
    """Reports written before waivers, answers and baselines existed are still valid baselines."""
    path = _report_file(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("baseline", "resolved", "expired_waivers", "stale_waivers"):
        data.pop(key)
    for key in ("changes", "expired_waivers", "stale_waivers"):
        data["summary"].pop(key)
    for finding in data["findings"]:
        finding.pop("answer", None)
        finding.pop("change", None)
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_report(path).findings


# --- ecs-audit diff --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("diff")
    golden_estate.run(directory, formats=("json",))
    return directory / "previous" / "report.json", directory / "current" / "report.json"


def test_diff_text(reports, capsys) -> None:
    old, new = reports
    assert main(["diff", str(old), str(new)]) == 1, "new FAILs exit 1"
    out = capsys.readouterr().out
    assert "2 new (2 FAIL), 2 resolved" in out
    assert "New:" in out and "SECURITY-002" in out and "Resolved:" in out and "now PASS" in out


def test_diff_formats_and_exit_codes(reports, capsys) -> None:
    old, new = reports
    assert main(["diff", str(old), str(old), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["new"] == 0 and data["counts"]["resolved"] == 0
    assert main(["diff", str(new), str(old), "--format", "json"]) == 1  # backwards: the unwaived SECURITY-001 FAIL reappears
    data = json.loads(capsys.readouterr().out)
    assert {f["check_id"] for f in data["new_findings"]} == {"IMAGE-001", "SECURITY-001"}
    assert main(["diff", str(old), str(new), "--format", "md"]) == 1
    md = capsys.readouterr().out
    assert md.startswith("## ECS audit: changes since") and "| New | 2 (2 FAIL) |" in md
    assert "<script>" not in md


def test_diff_bad_input_exits_2(reports, tmp_path, capsys) -> None:
    old, _ = reports
    assert main(["diff", str(old), str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "new report" in err and "no such file" in err
    assert main(["diff", str(old), str(old), "--format", "xml"]) == 2
    assert "choose text, md or json" in capsys.readouterr().err


def test_cli_baseline_option(tmp_path, capsys) -> None:
    for kind in ("previous", "current"):
        save_snapshot(golden_estate.inventory(kind), tmp_path / f"{kind}.json")
    assert main(["evaluate", str(tmp_path / "previous.json"), "-o", str(tmp_path / "before"), "--format", "json", "-q"]) == 0
    old = tmp_path / "before" / "report.json"
    args = ["evaluate", str(tmp_path / "current.json"), "--baseline", str(old), "-o", str(tmp_path / "out"), "--format", "json,csv"]
    assert main(args) == 0
    out = capsys.readouterr().out
    # Without waivers or answers: the privileged debug container is new, the pinned payments image resolved.
    assert "Since the baseline: 1 new (1 FAIL), 1 resolved" in out
    report = report_from_json((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report.baseline is not None and report.baseline.source == str(old)
    assert [(f.check_id, f.container) for f in report.findings if f.change == "new"] == [("SECURITY-002", "debug")]


def test_schema_1_reports_still_read_as_baselines(tmp_path) -> None:
    """A report.json of schema 1 (written before the catalogue moved to "checks") is a valid baseline,
    and its findings keep the ids the current schema gives them."""
    from pathlib import Path

    old = Path(__file__).resolve().parents[1] / "data" / "report-v1.json"
    assert '"schema_version": 1' in old.read_text(encoding="utf-8")
    baseline = load_baseline(old)
    assert baseline.findings and all(f.title and f.remediation for f in baseline.findings)
    current = finish(golden_estate.inventory("current"), ReportOptions(output_dir=tmp_path, formats=("json",)), generated_at=golden_estate.GENERATED_AT).report
    compared = compare(current.findings, baseline.findings)
    assert compared.unchanged, "the same estate's results match by finding id across schema versions"
    # Written in schema 3 and read back, the report is the same.
    written = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert '"schema_version": 3' in written and '"checks": {' in written and '"evidence": [' in written
    assert report_from_json(written) == current


def test_schema_2_reports_still_read_as_baselines(tmp_path) -> None:
    """A report.json of schema 2 (evidence inline in each finding) reads as the same findings as the
    schema-3 report of the same estate and clock."""
    import json
    from pathlib import Path

    old = Path(__file__).resolve().parents[1] / "data" / "report-v2.json"
    assert json.loads(old.read_text(encoding="utf-8"))["schema_version"] == 2
    baseline = load_baseline(old)
    assert any(f.evidence for f in baseline.findings)
    golden = Path(__file__).resolve().parents[1] / "golden" / "report.json"
    current = report_from_json(golden.read_text(encoding="utf-8"))
    assert json.loads(golden.read_text(encoding="utf-8"))["schema_version"] == 3
    assert baseline.findings == current.findings
