"""Kept runs: the previous run is the baseline, trends, carried-forward scopes, first seen, time to
fix, regressions, pruning; the --fail-on line; the webhook message."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecs_audit.alert import fail_on_line
from ecs_audit.report.diff import load_baseline
from ecs_audit.catalogue import Severity
from ecs_audit.history import History, OpenItem, RunRecord, history_section
from ecs_audit.notify import check_url, message, notify, worth_sending
from ecs_audit.errors import UsageError
from ecs_audit.pipeline import ReportOptions, finish
from ecs_audit.report.chart import score_chart
from ecs_audit.report.trend import Carried, TrendPoint
from tests.support import golden_estate
from tests.support.webhook import WebhookServer

T0 = datetime(2026, 10, 1, 6, 0, tzinfo=timezone.utc)


def _run(tmp_path: Path, kind: str, at: datetime, name: str, **extra) -> object:
    options = ReportOptions(output_dir=tmp_path / name, formats=("json", "html", "md"), history=str(tmp_path / "history"), **extra)
    return finish(golden_estate.inventory(kind), options, generated_at=at)


def test_the_previous_run_is_the_baseline(tmp_path: Path):
    first = _run(tmp_path, "previous", golden_estate.PREVIOUS_AT, "one")
    assert first.report.baseline is None and first.report.history.previous_run is None
    second = _run(tmp_path, "current", golden_estate.GENERATED_AT, "two")
    # the same comparison as an explicit --baseline of the first report
    explicit = finish(
        golden_estate.inventory("current"),
        ReportOptions(output_dir=tmp_path / "explicit", formats=("json",), baseline=load_baseline(tmp_path / "one" / "report.json")),
        generated_at=golden_estate.GENERATED_AT,
    )
    assert second.report.summary.changes == explicit.report.summary.changes
    assert second.report.summary.changes.new + second.report.summary.changes.resolved > 0
    assert [r.finding.check_id for r in second.report.resolved] == [r.finding.check_id for r in explicit.report.resolved]
    history = second.report.history
    assert history.previous_run == "20261001T120000Z" and history.run_id == "20261101T120000Z"
    assert [p.score for p in history.trend] == [first.report.summary.score, second.report.summary.score]
    assert history.fixed_count == len(second.report.resolved) or history.fixed_count > 0
    # the kept files
    root = tmp_path / "history"
    assert (root / "latest").read_text().strip() == "20261101T120000Z"
    kept = json.loads(gzip.decompress((root / "runs" / "20261101T120000Z" / "report.json.gz").read_bytes()))
    assert kept["history"]["run_id"] == "20261101T120000Z"
    assert json.loads(gzip.decompress((root / "runs" / "20261101T120000Z" / "snapshot.json.gz").read_bytes()))["accounts"]
    # a run without --history writes no history key at all
    assert "history" not in json.loads((tmp_path / "explicit" / "report.json").read_text())


def test_runs_in_the_same_second_get_distinct_ids(tmp_path: Path):
    _run(tmp_path, "current", golden_estate.GENERATED_AT, "a")
    _run(tmp_path, "current", golden_estate.GENERATED_AT, "b")
    assert History.open(str(tmp_path / "history")).run_ids() == ["20261101T120000Z", "20261101T120000Z-2"]


def _item(key: str, status: str = "FAIL") -> OpenItem:
    return OpenItem(key=key, check_id=key, status=status, severity="high", account_id="111", region="r", resource=key)


def _record(n: int, *items: OpenItem, days: float = 1.0) -> RunRecord:
    return RunRecord(run_id=f"run{n}", generated_at=T0 + timedelta(days=days * n), score=50, open=list(items))


def test_first_seen_time_to_fix_and_regressions():
    runs = [
        _record(0, _item("A"), _item("B"), _item("C", "WARN")),
        _record(1, _item("A"), _item("C", "WARN")),  # B fixed after 1 day
        _record(2, _item("A"), _item("C", "WARN")),
    ]
    current = _record(3, _item("A"), _item("B"), _item("C"))  # B came back; C got worse
    section = history_section(runs, current)
    ages = {a.check_id: a for a in section.open_ages}
    assert ages["A"].first_seen == T0 and ages["A"].age_days == 3
    assert ages["B"].first_seen == T0 + timedelta(days=3) and ages["B"].age_days == 0
    assert {(r.check_id, r.last_open_run) for r in section.regressed} == {("B", "run0"), ("C", "run2")}
    assert section.fixed_count == 1 and section.median_days_to_fix == 1.0
    assert [p.run_id for p in section.trend] == ["run0", "run1", "run2", "run3"]
    fixed = history_section(runs[:1], _record(1, _item("A"), days=2.5))
    assert [(f.check_id, f.days) for f in fixed.fixed_now] == [("B", 2.5), ("C", 2.5)]


def test_prune_keeps_the_newest(tmp_path: Path):
    history = History.open(str(tmp_path / "h"))
    for n in range(5):
        history.save(_record(n, days=10), "{}", None)
    assert history.prune(keep=2, keep_days=None, now=T0) == ["run0", "run1", "run2"]
    assert history.run_ids() == ["run3", "run4"]
    assert not (tmp_path / "h" / "runs" / "run0").exists()
    assert history.prune(keep=None, keep_days=1, now=T0 + timedelta(days=100)) == ["run3"]  # the newest stays
    assert history.run_ids() == ["run4"] and history.latest() == "run4"


def test_a_broken_run_record_is_a_usage_error(tmp_path: Path):
    history = History.open(str(tmp_path / "h"))
    history.save(_record(0), "{}", None)
    (tmp_path / "h" / "runs" / "run0" / "run.json").write_text("{not json")
    with pytest.raises(UsageError, match="run0"):
        history.records()


def test_the_chart_escapes_and_fetches_nothing():
    points = [TrendPoint(run_id="<script>x</script>", generated_at=T0, score=40), TrendPoint(run_id="r2", generated_at=T0 + timedelta(days=1), score=None)]
    svg = str(score_chart(points, {'"><b>': [40, None]}, "t<i>"))
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg and "&lt;script&gt;" in svg
    assert "href" not in svg and "src=" not in svg


# --- the --fail-on line ------------------------------------------------------------------------


def test_fail_on_line_names_count_severity_checks_and_what_is_new(tmp_path: Path):
    _run(tmp_path, "previous", golden_estate.PREVIOUS_AT, "one")
    outcome = _run(tmp_path, "current", golden_estate.GENERATED_AT, "two", fail_on=Severity.HIGH)
    assert outcome.exit_code == 1
    line = fail_on_line(outcome.report, Severity.HIGH)
    assert line is not None and "\n" not in line
    found = [f for f in outcome.report.findings if f.status.value == "FAIL" and f.severity.rank >= Severity.HIGH.rank]
    new = [f for f in found if f.change == "new"]
    assert line.startswith(f"--fail-on high: {len(found)} FAIL at high or above (")
    assert f"{len(new)} new since {golden_estate.PREVIOUS_AT.isoformat()}" in line
    assert found[0].check_id in line
    assert fail_on_line(outcome.report, None) is None


# --- the webhook ----------------------------------------------------------------------------------


def test_notification_is_sent_once_per_change_and_never_carries_messages(tmp_path: Path, caplog):
    with WebhookServer() as hook:
        url = f"{hook.url}/hooks/secret-token-123"
        first = _run(tmp_path, "previous", golden_estate.PREVIOUS_AT, "one", notify=url, notify_on=Severity.LOW)
        assert not first.notified and hook.posts == []  # nothing to compare with
        second = _run(tmp_path, "current", golden_estate.GENERATED_AT, "two", notify=url, notify_on=Severity.LOW)
        assert second.notified and len(hook.posts) == 1
        third = _run(tmp_path, "current", golden_estate.GENERATED_AT + timedelta(days=1), "three", notify=url, notify_on=Severity.LOW)
        assert not third.notified and len(hook.posts) == 1  # nothing changed
    text = hook.posts[0]["text"]
    new, resolved = worth_sending(second.report, Severity.LOW)
    assert f"{len(new)} new FAIL at low or above, {resolved} resolved" in text
    for finding in second.report.findings:
        if finding.message and len(finding.message) > 30:
            assert finding.message not in text
    assert "<script>" not in text  # Slack control characters escaped
    assert "secret-token-123" not in caplog.text


def test_a_failing_webhook_is_a_warning_without_the_url(tmp_path: Path, caplog):
    _run(tmp_path, "previous", golden_estate.PREVIOUS_AT, "one")
    report = _run(tmp_path, "current", golden_estate.GENERATED_AT, "two").report
    with WebhookServer(status=500) as hook, caplog.at_level(logging.WARNING):
        assert notify(f"{hook.url}/hooks/secret-token-456", report, Severity.LOW) is False
    assert "HTTP 500" in caplog.text and "secret-token-456" not in caplog.text and "127.0.0.1" not in caplog.text


@pytest.mark.parametrize("url", ["ftp://x/y", "hooks.slack.com/services/T/B/secret", "https://"])
def test_a_bad_webhook_url_is_refused_without_repeating_it(url: str):
    with pytest.raises(UsageError) as raised:
        check_url(url)
    assert url not in str(raised.value) or url == "https://"


def test_message_lists_at_most_a_few(tmp_path: Path):
    _run(tmp_path, "previous", golden_estate.PREVIOUS_AT, "one")
    report = _run(tmp_path, "current", golden_estate.GENERATED_AT, "two").report
    new, resolved = worth_sending(report, Severity.LOW)
    assert message(report, new, resolved, Severity.LOW).count("\n") <= 12


def test_carried_scopes_are_kept_in_the_record():
    record = RunRecord(run_id="r", generated_at=T0, score=1, carried=[Carried(account_id="1", from_run="p", reason="AccessDenied")])
    assert RunRecord.model_validate_json(record.model_dump_json()).carried[0].from_run == "p"


def test_unscanned_accounts_and_regions():
    from ecs_audit.history import unscanned
    from ecs_audit.inventory.errors import ApiError

    def error(account: str, region: str, service: str, operation: str, resources: list[str] | None = None) -> ApiError:
        return ApiError(account_id=account, region=region, service=service, operation=operation, error_code="AccessDenied",
                        message="no", resources=resources or [])

    errors = [
        error("1", "us-east-1", "sts", "AssumeRole"),
        error("1", "us-east-1", "ecs", "ListClusters"),  # the account is already carried whole
        error("2", "eu-west-1", "ecs", "ListClusters"),
        error("2", "us-east-1", "ecs", "ListClusters", ["arn:x"]),  # about one resource: the region was scanned
        error("2", "us-east-1", "ecs", "DescribeServices"),
    ]
    assert [(a, r) for a, r, _ in unscanned(errors, ["1", "2"])] == [("1", None), ("2", "eu-west-1")]
