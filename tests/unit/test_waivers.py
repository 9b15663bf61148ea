"""Waivers: loading (every bad input is one UsageError line), matching, expiry, stale entries, CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from ecs_audit.cli import main
from ecs_audit.errors import UsageError
from ecs_audit.findings import ResourceRef, Status
from ecs_audit.inventory.snapshot import save_snapshot
from ecs_audit.pipeline import exit_code_for
from ecs_audit.report.model import Report
from ecs_audit.report.model import report_from_data, report_from_json  # noqa: F401
from ecs_audit.waivers import WaiverEntry, WaiverFile, apply_waivers, load_waivers
from tests.support import golden_estate
from tests.support.sample_report import ACCOUNT, REGION, build, make_finding

TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/"
TODAY = date(2026, 11, 1)


def _write(tmp_path: Path, content, name: str = "waivers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def _entry(**overrides) -> dict:
    entry = {"check": "SECURITY-001", "resource": TD + "worker:*", "reason": "legacy worker", "owner": "team@example.com", "expires": "2027-03-31"}
    entry.update(overrides)
    return entry


def _waivers(*entries: dict) -> WaiverFile:
    return WaiverFile(path=Path("waivers.yaml"), entries=tuple(WaiverEntry.model_validate(e) for e in entries))


def _finding(catalogue, check: str, status: Status, arn: str, container: str | None = None):
    name = arn.rsplit("/", 1)[-1]
    return make_finding(catalogue.get(check), status, ResourceRef(type="AWS::ECS::TaskDefinition", arn=arn, name=name), container=container, message="m")


# --- loading ---------------------------------------------------------------------------------


def test_loads_a_valid_file(tmp_path, catalogue) -> None:
    path = _write(tmp_path, "- check: SECURITY-001\n  resource: 'arn:aws:ecs:*:task-definition/web:*'\n  reason: accepted for now\n  owner: me\n  expires: 2027-03-31\n")
    waivers = load_waivers(path, catalogue)
    assert waivers.entries[0].expires == date(2027, 3, 31)
    assert load_waivers(_write(tmp_path, "", "empty.yaml"), catalogue).entries == ()


BAD = [
    ("missing", None, ["no such file"]),
    ("invalid yaml", "- check: [unclosed\n", ["invalid YAML", "line"]),
    ("not a list", {"check": "SECURITY-001"}, ["expected a YAML list"]),
    ("not a mapping", ["SECURITY-001"], ["entry 1", "expected a mapping"]),
    ("unknown field", [_entry(ticket="OPS-1")], ["entry 1", "unknown field 'ticket'", "allowed fields"]),
    ("missing field", [{k: v for k, v in _entry().items() if k != "owner"}], ["entry 1", "'owner' is missing"]),
    ("bad date", [_entry(), _entry(expires="soon")], ["entry 2", "'expires'", "'soon' is not a date", "YYYY-MM-DD"]),
    ("impossible date", [_entry(expires="2027-02-30")], ["entry 1", "'expires'", "not a date"]),
    ("number as date", [_entry(expires=20270331)], ["entry 1", "'expires'", "not a date"]),
    ("unknown check", [_entry(check="SECURITY-999")], ["entry 1", "'check'", "unknown check id 'SECURITY-999'"]),
    ("lower-case check", [_entry(check="security-001")], ["did you mean SECURITY-001?"]),
    ("unclosed bracket", [_entry(resource=TD + "web:[0-9")], ["entry 1", "'resource'", "unclosed '['"]),
    ("not an ARN glob", [_entry(resource="web")], ["'resource'", "not a glob on an ARN"]),
    ("whitespace", [_entry(resource=TD + "web :*")], ["'resource'", "whitespace"]),
    ("empty reason", [_entry(reason="")], ["entry 1", "'reason'"]),
]


@pytest.mark.parametrize("name,content,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_one_line_usage_errors(tmp_path, catalogue, name, content, expected) -> None:
    path = tmp_path / "missing.yaml" if content is None else _write(tmp_path, content)
    with pytest.raises(UsageError) as raised:
        load_waivers(path, catalogue)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"waivers {path}: ")
    for part in expected:
        assert part in message, message


# --- matching --------------------------------------------------------------------------------


def test_matching_fail_and_warn_become_waived(catalogue) -> None:
    findings = [
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker"),
        _finding(catalogue, "SECURITY-003", Status.WARN, TD + "worker:7", "worker"),
        _finding(catalogue, "SECURITY-001", Status.PASS, TD + "worker:7", "sidecar"),
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "web:42", "app"),
    ]
    waivers = _waivers(_entry(), _entry(check="SECURITY-003"))
    out = apply_waivers(findings, waivers, TODAY)
    statuses = [f.status for f in out.findings]
    assert statuses == [Status.WAIVED, Status.WAIVED, Status.PASS, Status.FAIL]
    waived = out.findings[0]
    assert waived.waiver.reason == "legacy worker" and waived.waiver.owner == "team@example.com"
    assert waived.waiver.expires == "2027-03-31" and waived.waiver.status is Status.FAIL
    assert out.findings[1].waiver.status is Status.WARN
    assert waived.message == findings[0].message, "a waived result stays visible with its message"
    assert out.expired == [] and out.stale == []


def test_container_suffix_and_first_match_wins(catalogue) -> None:
    findings = [
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker"),
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "sidecar"),
    ]
    waivers = _waivers(_entry(resource=TD + "worker:*/sidecar", reason="sidecar only"), _entry(reason="whole family"))
    out = apply_waivers(findings, waivers, TODAY)
    assert [f.waiver.reason for f in out.findings] == ["whole family", "sidecar only"]


def test_expired_waivers_stop_applying_and_are_listed(catalogue) -> None:
    findings = [_finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker")]
    waivers = _waivers(_entry(expires="2026-10-31"))
    out = apply_waivers(findings, waivers, TODAY)
    assert out.findings[0].status is Status.FAIL and out.findings[0].waiver is None
    (expired,) = out.expired
    assert (expired.entry, expired.matches, expired.expires) == (1, 1, "2026-10-31")
    assert out.stale == []
    # Up to and including the expiry date it applies.
    assert apply_waivers(findings, _waivers(_entry(expires="2026-11-01")), TODAY).findings[0].status is Status.WAIVED


def test_waivers_matching_nothing_are_stale(catalogue) -> None:
    findings = [_finding(catalogue, "SECURITY-001", Status.PASS, TD + "worker:7", "worker")]
    out = apply_waivers(findings, _waivers(_entry(), _entry(check="IMAGE-001", resource="arn:aws:ecs:*:service/gone/*")), TODAY)
    assert [s.entry for s in out.stale] == [1, 2]
    assert out.findings == findings


def test_fail_on_counts_only_unwaived_fails(catalogue) -> None:
    from ecs_audit.catalogue import Severity

    finding = _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker")
    waived = apply_waivers([finding], _waivers(_entry()), TODAY).findings
    assert exit_code_for(build([finding], catalogue), Severity.HIGH) == 1
    assert exit_code_for(build(waived, catalogue), Severity.HIGH) == 0
    assert exit_code_for(build([finding], catalogue), Severity.CRITICAL) == 0
    assert exit_code_for(build([finding], catalogue), None) == 0


# --- reports and CLI -------------------------------------------------------------------------


def test_reports_show_waivers_and_their_problems(tmp_path) -> None:
    outcome = golden_estate.run(tmp_path, formats=("html", "md", "json"))
    report = outcome.report
    assert [w.entry for w in report.expired_waivers] == [2] and report.expired_waivers[0].matches == 1
    assert [w.entry for w in report.stale_waivers] == [3]
    assert report.summary.expired_waivers == 1 and report.summary.stale_waivers == 1
    html = (tmp_path / "current" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "current" / "report.md").read_text(encoding="utf-8")
    assert 'id="waivers"' in html and "stale; matches nothing" in html and "expired; matches 1" in html
    assert "### Waivers to review" in md
    assert "platform-team@example.com" in html
    # The expired waiver's result is FAIL again.
    web = [f for f in report.findings if f.check_id == "SECURITY-001" and f.resource.name.startswith("web:")]
    assert web and all(f.status is Status.FAIL for f in web)
    data = report_from_json((tmp_path / "current" / "report.json").read_text(encoding="utf-8"))
    assert data == report


def test_cli_rejects_a_bad_waiver_file_with_exit_2(tmp_path, capsys) -> None:
    snapshot = tmp_path / "snap.json"
    save_snapshot(golden_estate.inventory("current"), snapshot)
    bad = _write(tmp_path, [_entry(expires="next year")])
    code = main(["evaluate", str(snapshot), "--waivers", str(bad), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"waivers {bad}: entry 1, field 'expires'" in err
    assert not (tmp_path / "out").exists(), "nothing is written when an input is bad"


def test_cli_applies_waivers(tmp_path, capsys) -> None:
    snapshot = tmp_path / "snap.json"
    save_snapshot(golden_estate.inventory("current"), snapshot)
    waivers, _ = golden_estate.write_inputs(tmp_path)
    code = main(["evaluate", str(snapshot), "--waivers", str(waivers), "-o", str(tmp_path / "out"), "--format", "json", "--fail-on", "critical"])
    out = capsys.readouterr().out
    assert code == 1  # the privileged debug container is an unwaived critical FAIL
    assert "Waivers: 1 expired (no longer applied), 1 stale (match nothing)" in out
    report = report_from_json((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report.summary.by_status["WAIVED"] == 1


# --- waivers naming a finding id -------------------------------------------------------------


def _by_id(finding, **overrides) -> dict:
    entry = {"id": finding.id, "reason": "accepted for this one result", "owner": "team@example.com", "expires": "2027-03-31"}
    entry.update(overrides)
    return entry


def test_a_waiver_naming_a_finding_id_waives_that_result_only(catalogue) -> None:
    findings = [
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker"),
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "sidecar"),
        _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "web:42", "app"),
    ]
    out = apply_waivers(findings, _waivers(_by_id(findings[1])), TODAY)
    assert [f.status for f in out.findings] == [Status.FAIL, Status.WAIVED, Status.FAIL]
    waiver = out.findings[1].waiver
    assert waiver.id == findings[1].id and waiver.check == "SECURITY-001" and waiver.resource == "*"
    # The id is stable across task-definition revisions: the next revision's result is waived too.
    next_revision = _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:8", "sidecar")
    assert apply_waivers([next_revision], _waivers(_by_id(findings[1])), TODAY).findings[0].status is Status.WAIVED


def test_an_id_and_a_glob_must_both_match(catalogue) -> None:
    finding = _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker")
    assert apply_waivers([finding], _waivers(_by_id(finding, resource=TD + "worker:*")), TODAY).findings[0].status is Status.WAIVED
    out = apply_waivers([finding], _waivers(_by_id(finding, resource=TD + "web:*")), TODAY)
    assert out.findings[0].status is Status.FAIL and [s.entry for s in out.stale] == [1]
    other = _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "web:42", "app")
    assert apply_waivers([other], _waivers(_by_id(finding)), TODAY).findings[0].status is Status.FAIL


@pytest.mark.parametrize(
    "entry,expected",
    [
        ({"id": "SECURITY-001/xyz", "reason": "abc", "owner": "o", "expires": "2027-01-01"}, "field 'id'"),
        ({"id": "SECURITY-001/4e398d35127eacd2", "check": "SECURITY-002", "reason": "abc", "owner": "o", "expires": "2027-01-01"}, "is not the check of id"),
        ({"id": "NOPE-999/4e398d35127eacd2", "reason": "abc", "owner": "o", "expires": "2027-01-01"}, "unknown check id 'NOPE-999'"),
        ({"check": "SECURITY-001", "reason": "abc", "owner": "o", "expires": "2027-01-01"}, "resource"),
    ],
    ids=["bad-id", "check-differs", "unknown-check", "neither-id-nor-resource"],
)
def test_bad_id_entries_are_one_line_usage_errors(tmp_path, catalogue, entry, expected) -> None:
    with pytest.raises(UsageError) as err:
        load_waivers(_write(tmp_path, [entry]), catalogue)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_id_waivers_load_and_show_in_report_json(tmp_path, catalogue) -> None:
    finding = _finding(catalogue, "SECURITY-001", Status.FAIL, TD + "worker:7", "worker")
    loaded = load_waivers(_write(tmp_path, [_by_id(finding)]), catalogue)
    assert loaded.entries[0].check == "SECURITY-001" and loaded.entries[0].resource is None
    waived = apply_waivers([finding], loaded, TODAY).findings
    report = build(waived, catalogue)
    from ecs_audit.report.render import render_json

    text = render_json(report, catalogue)
    assert f'"id":"{finding.id}"' in text.replace(": ", ":")
    assert report_from_json(text).findings[0].waiver.id == finding.id
