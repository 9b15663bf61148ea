"""Selecting checks also trims collection: an optional per-resource call that no selected check needs
is not sent, and the snapshot says so, so evaluating it later with more checks gives UNKNOWN (never
PASS) for what was left out."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecs_audit.catalogue import load_catalogue
from ecs_audit.collect import cloudwatch as cloudwatch_collector
from ecs_audit.collect import ecr
from ecs_audit.collect import guardduty as guardduty_collector
from ecs_audit.collect.base import CollectContext
from ecs_audit.collect.ecs import collect_ecs
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import evaluate
from ecs_audit.findings import Status
from ecs_audit.inventory.snapshot import AccountInventory, CallerIdentity, Inventory, RegionInventory, load_snapshot, save_snapshot
from ecs_audit.rules.registry import load_registry
from ecs_audit.selection import needed_actions, parse_selection
from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory
from tests.support.estate import ACCOUNT
from tests.support.fake_api import FakeApi
from tests.unit.test_collect_ecr import REGISTRY, FakeEcr, _estate, digest
from tests.unit.test_collect_ecs import FakeEcs
from tests.unit.test_collect_monitoring import FakeCloudWatch, _guardduty, _region, _services

POLICY_CALLS = ("ecr.GetLifecyclePolicy", "ecr.GetRepositoryPolicy")


def _needed(*checks: str) -> frozenset[str] | None:
    catalogue = load_catalogue()
    return needed_actions(parse_selection(list(checks) or None, None, catalogue), catalogue)


def _ecr(needed: frozenset[str] | None, repositories: int = 5) -> tuple[FakeApi, CollectContext, RegionInventory]:
    fake = FakeEcr()
    for i in range(repositories):
        fake.add(f"r{i}", {digest(i): ["1"]})
    region = _estate([f"{REGISTRY}/r{i}:1" for i in range(repositories)])
    api = FakeApi()
    fake.install(api)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", max_workers=4, needed=needed)
    part = ecr.collect(ctx, AuditConfig(), region)
    return api, ctx, region.model_copy(update={"ecr": part, "not_collected": list(ctx.skipped)})


def test_no_selection_means_every_call_is_wanted():
    assert _needed() is None
    ctx = CollectContext(ClientFactory(FakeApi().session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    assert ctx.wants("ecr:GetRepositoryPolicy") and ctx.wants("cloudwatch:GetMetricData")


def test_checks_image_001_sends_no_repository_policy_call():
    api, ctx, region = _ecr(_needed("IMAGE-001"))
    assert ctx.errors == []
    assert not any(key in api.calls for key in POLICY_CALLS)
    assert api.calls["ecr.DescribeRepositories"] == 1 and len(region.ecr.repositories) == 5  # still enumerated
    assert api.calls["ecr.DescribeImages"] == 5
    assert sorted((e.action, e.error_code) for e in region.not_collected) == [
        ("ecr:GetLifecyclePolicy", "NotCollected"),
        ("ecr:GetRepositoryPolicy", "NotCollected"),
    ]


@pytest.mark.parametrize("checks", [(), ("IMAGE",), ("IMAGE-008", "IMAGE-009")])
def test_a_selection_with_the_policy_checks_reads_every_policy(checks: tuple[str, ...]):
    api, ctx, region = _ecr(_needed(*checks))
    assert api.calls["ecr.GetLifecyclePolicy"] == api.calls["ecr.GetRepositoryPolicy"] == 5
    assert region.not_collected == []


def test_only_the_policy_a_selected_check_reads_is_requested():
    api, _, region = _ecr(_needed("IMAGE-008"))
    assert api.calls["ecr.GetLifecyclePolicy"] == 5 and "ecr.GetRepositoryPolicy" not in api.calls
    assert [e.action for e in region.not_collected] == ["ecr:GetRepositoryPolicy"]


def _inventory(region: RegionInventory) -> Inventory:
    return Inventory(
        tool_version="test",
        collected_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
        caller=CallerIdentity(account_id=ACCOUNT, arn=f"arn:aws:iam::{ACCOUNT}:role/audit"),
        accounts=[AccountInventory(account_id=ACCOUNT, regions=[region])],
    )


def test_a_snapshot_evaluated_with_more_checks_is_unknown_for_what_was_not_collected(tmp_path: Path):
    _, _, region = _ecr(_needed("IMAGE-001"))
    path = tmp_path / "snapshot.json"
    save_snapshot(_inventory(region), path)
    inventory = load_snapshot(path)
    assert [e.action for e in inventory.accounts[0].regions[0].not_collected] == ["ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy"]
    findings = evaluate(inventory, load_catalogue(), load_registry(), AuditConfig(), {"IMAGE-008", "IMAGE-009", "IMAGE-001"})
    policy = [f for f in findings if f.check_id in ("IMAGE-008", "IMAGE-009")]
    assert policy and {f.status for f in policy} == {Status.UNKNOWN}
    assert all("was not called: not collected in this run" in f.message for f in policy), policy[0].message
    # what was collected is still judged
    assert any(f.check_id == "IMAGE-001" and f.status is not Status.UNKNOWN for f in findings)


def test_the_same_snapshot_fully_collected_is_judged():
    _, _, region = _ecr(None)
    findings = evaluate(_inventory(region), load_catalogue(), load_registry(), AuditConfig(), {"IMAGE-008", "IMAGE-009"})
    assert findings and all(f.status is not Status.UNKNOWN for f in findings)


def test_metric_data_is_read_only_for_taskdef_007():
    for needed, calls in ((_needed("OBSERVABILITY-006"), 0), (_needed("TASKDEF-007"), 1)):
        api = FakeApi()
        FakeCloudWatch(unrelated_alarms=0).install(api)
        ctx = CollectContext(ClientFactory(api.session("us-east-1"), ALLOWED_ACTIONS), "123456789012", "us-east-1", needed=needed)
        part = cloudwatch_collector.collect(ctx, AuditConfig(), _region(_services(3)))
        assert part is not None and ctx.errors == []
        assert bool(api.calls.get("cloudwatch.GetMetricData", 0)) == bool(calls)
        assert api.calls["cloudwatch.DescribeAlarms"] >= 1
        assert [e.action for e in ctx.skipped] == ([] if calls else ["cloudwatch:GetMetricData"])


def test_guardduty_findings_are_read_only_for_security_019():
    for needed, read in ((_needed("SECURITY-012"), False), (_needed("SECURITY-019"), True)):
        api = FakeApi()
        _guardduty(api, findings=3)
        ctx = CollectContext(ClientFactory(api.session("us-east-1"), ALLOWED_ACTIONS), "123456789012", "us-east-1", needed=needed)
        part = guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1)))
        assert part is not None and part.detectors
        assert ("guardduty.ListFindings" in api.calls) is read
        assert (part.findings is not None) is read
        assert sorted(e.action for e in ctx.skipped) == ([] if read else ["guardduty:GetFindings", "guardduty:ListFindings"])


def test_older_revisions_are_read_only_for_the_checks_that_use_the_history():
    reads = {}
    for checks in (("TASKDEF-001",), ("SECURITY-017",), ("CICD-006",)):
        api = FakeApi()
        FakeEcs([2]).install(api)
        ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", needed=_needed(*checks))
        inventory = collect_ecs(ctx, AuditConfig())
        reads[checks[0]] = [p["taskDefinition"] for key, p in api.requests if key == "ecs.DescribeTaskDefinition"]
        assert inventory.task_definitions and inventory.families  # the in-use definitions and their listing stay
        if checks == ("TASKDEF-001",):
            assert all(h.history_truncated and not h.older_revisions and h.unread_limit == "not selected" for h in inventory.families)
            assert [e.action for e in ctx.skipped] == ["ecs:DescribeTaskDefinition"]
        else:
            assert ctx.skipped == []
    assert len(reads["TASKDEF-001"]) < len(reads["SECURITY-017"]) == len(reads["CICD-006"])
