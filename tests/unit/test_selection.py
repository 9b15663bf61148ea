"""--checks and --skip-checks (ecs_audit.selection): what they select, what they refuse, and what the
reports say about it."""

from __future__ import annotations

from tests.support.report_json import read_report

import json

import pytest

from ecs_audit.cli import main
from ecs_audit.errors import UsageError
from ecs_audit.inventory.snapshot import save_snapshot
from ecs_audit.report.render import render_markdown
from ecs_audit.selection import parse_selection
from tests.support import golden_estate


def _ids(catalogue, area: str) -> set[str]:
    return {e.id for e in catalogue.checks if e.area == area}


def test_no_option_selects_everything(catalogue) -> None:
    assert parse_selection(None, None, catalogue) is None
    assert parse_selection([], [], catalogue) is None


def test_areas_and_ids_case_insensitive_repeatable_and_comma_separated(catalogue) -> None:
    selection = parse_selection(["security, taskdef-001", "Image"], None, catalogue)
    assert selection is not None
    manual = _ids(catalogue, "MANUAL")
    assert set(selection.checks) == _ids(catalogue, "SECURITY") | _ids(catalogue, "IMAGE") | {"TASKDEF-001"} | manual
    assert "TASKDEF-002" in selection.skipped and "SECURITY-001" not in selection.skipped


def test_the_questionnaire_stays_unless_manual_is_named(catalogue) -> None:
    manual = _ids(catalogue, "MANUAL")
    assert manual
    assert manual <= set(parse_selection(["SECURITY"], None, catalogue).checks)
    skipped = parse_selection(None, ["manual"], catalogue)
    assert not manual & set(skipped.checks) and manual <= set(skipped.skipped)
    one = sorted(manual)[0]
    only = parse_selection(["SECURITY", one], None, catalogue)
    assert set(only.checks) & manual == {one}


def test_skip_checks_removes_from_what_checks_selects(catalogue) -> None:
    selection = parse_selection(["SECURITY"], ["SECURITY-002"], catalogue)
    assert "SECURITY-002" not in selection.checks and "SECURITY-002" in selection.skipped
    everything_but = parse_selection(None, ["IMAGE", "network"], catalogue)
    assert not (_ids(catalogue, "IMAGE") | _ids(catalogue, "NETWORK")) & set(everything_but.checks)
    assert _ids(catalogue, "SECURITY") <= set(everything_but.checks)


@pytest.mark.parametrize(
    ("checks", "skip", "expected"),
    [
        (["SECURTY"], None, "--checks 'SECURTY': not a check id or area; did you mean SECURITY?"),
        (["SECURITY-999"], None, "--checks 'SECURITY-999': not a check id or area"),
        (None, ["imgae"], "--skip-checks 'imgae': not a check id or area; did you mean IMAGE?"),
        ([","], None, "--checks: no check id or area given"),
        (["SECURITY"], ["SECURITY", "MANUAL"], "no check is left to run"),
        (["<script>\x1b[31m"], None, "--checks '<script>[31m'"),
    ],
)
def test_unknown_ids_and_areas_are_usage_errors(catalogue, checks, skip, expected) -> None:
    with pytest.raises(UsageError) as raised:
        parse_selection(checks, skip, catalogue)
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message and "\x1b" not in message


def _snapshot(tmp_path):
    path = tmp_path / "snap.json"
    save_snapshot(golden_estate.inventory("current"), path)
    return path


def test_evaluate_runs_only_the_selected_checks_and_says_what_was_skipped(tmp_path, capsys) -> None:
    snapshot = _snapshot(tmp_path)
    code = main(["evaluate", str(snapshot), "-o", str(tmp_path / "out"), "--format", "json,md", "--checks", "security", "--skip-checks", "SECURITY-002"])
    out = capsys.readouterr().out
    assert code == 0
    report = read_report(tmp_path / "out" / "report.json")
    ids = {f["check_id"] for f in report["findings"]}
    assert ids and {i.split("-")[0] for i in ids} <= {"SECURITY", "MANUAL"} and "SECURITY-002" not in ids
    skipped = report["scope"]["skipped_checks"]
    assert "SECURITY-002" in skipped and "IMAGE-001" in skipped
    assert f"{len(skipped)} checks skipped (--checks / --skip-checks)" in out
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert f"**Skipped ({len(skipped)}, --checks / --skip-checks):**" in markdown


def test_bad_selection_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    snapshot = _snapshot(tmp_path)
    code = main(["evaluate", str(snapshot), "-o", str(tmp_path / "out"), "--checks", "NOPE-001"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("ecs-audit: error: --checks 'NOPE-001'")
    assert not (tmp_path / "out").exists()


def test_a_baseline_does_not_count_skipped_checks_as_resolved(tmp_path, capsys) -> None:
    snapshot = _snapshot(tmp_path)
    assert main(["evaluate", str(snapshot), "-o", str(tmp_path / "all"), "--format", "json", "-q"]) == 0
    baseline = tmp_path / "all" / "report.json"
    before = read_report(baseline)
    assert [f for f in before["findings"] if f["check_id"].startswith("TAGGING") and f["status"] in ("FAIL", "WARN")]
    assert main(["evaluate", str(snapshot), "-o", str(tmp_path / "some"), "--format", "json", "-q", "--skip-checks", "TAGGING", "--baseline", str(baseline)]) == 0
    report = read_report(tmp_path / "some" / "report.json")
    assert not [r for r in report["resolved"] if r["finding"]["check_id"].startswith("TAGGING")]
    assert report["summary"]["changes"]["resolved"] == 0


def test_reports_show_skipped_checks_and_unknown_counts() -> None:
    outcome_report, catalogue = _report_with(skipped=["IMAGE-001", "IMAGE-002"])
    markdown = render_markdown(outcome_report, catalogue)
    assert "\n\n**Skipped (2, --checks / --skip-checks):** IMAGE-001, IMAGE-002\n\n" in markdown


def _report_with(skipped: list[str]):
    from ecs_audit.report.model import AuditScope
    from tests.support.sample_report import sample_report

    report, catalogue = sample_report()
    scope = report.scope.model_copy(update={"skipped_checks": skipped})
    assert isinstance(scope, AuditScope)
    return report.model_copy(update={"scope": scope}), catalogue
