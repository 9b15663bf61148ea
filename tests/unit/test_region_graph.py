"""The region's collection is a graph: a collector starts as soon as the ECS step it reads is known
(before ECS is done), sees only that much of ECS, and is not run where ECS found nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ecs_audit.collect import runner
from ecs_audit.collect.base import CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.ecs import EcsInventory
from ecs_audit.inventory.parts import CLUSTERS, LISTED, SERVICES, PartSource
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory
from tests.support.estate import build_ecs

WAIT = 5.0  # seconds; only reached when the graph is wrong


def _source(part: str, reads: tuple[str, ...]) -> PartSource:
    return PartSource(part, part, part, ("DescribeNothing",), reads=reads)


def _run(monkeypatch: pytest.MonkeyPatch, fake_ecs: Any, seen: dict[str, Any]) -> RegionInventory:
    def follower(part: str) -> Any:
        def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> Any:
            seen[part] = region
            return None
        return collect

    collectors = (
        runner.RegionCollector(_source("ecs", ()), runner._ecs),
        runner.RegionCollector(_source("guardduty", (LISTED,)), follower("guardduty")),
        runner.RegionCollector(_source("wafv2", (CLUSTERS,)), follower("wafv2")),
        runner.RegionCollector(_source("elbv2", (SERVICES,)), follower("elbv2")),
        runner.RegionCollector(_source("ecr", ("ecs",)), follower("ecr")),
    )
    monkeypatch.setattr(runner, "REGION_COLLECTORS", collectors)
    monkeypatch.setattr(runner.ecs, "collect_ecs", fake_ecs)
    clients = ClientFactory(None, ALLOWED_ACTIONS)  # type: ignore[arg-type]  # no call is made
    return runner.collect_region(clients, "123456789012", "eu-west-1", AuditConfig(), partition="aws")


def test_collectors_start_on_their_step_before_ecs_is_done(monkeypatch: pytest.MonkeyPatch):
    full = build_ecs({"services": [{"serviceName": "web", "cluster": "c1"}]})
    seen: dict[str, Any] = {}

    def fake_ecs(ctx: CollectContext, config: AuditConfig, *, on_step: Any = None, **_: Any) -> EcsInventory:
        on_step(LISTED, EcsInventory())
        _wait_for(seen, {"guardduty"})  # before the clusters are described
        assert "wafv2" not in seen
        on_step(CLUSTERS, EcsInventory(clusters=full.clusters))
        on_step(SERVICES, EcsInventory(clusters=full.clusters, services=full.services))
        # ECS is not done until the early collectors have run: they must not wait for it.
        _wait_for(seen, {"guardduty", "wafv2", "elbv2"})
        assert "ecr" not in seen
        return full

    monkeypatch.setattr(runner.ecs, "collect_ecs", fake_ecs)
    inventory = _run(monkeypatch, fake_ecs, seen)
    assert {"guardduty", "wafv2", "elbv2", "ecr"} <= seen.keys(), seen.keys()
    assert seen["guardduty"].ecs == EcsInventory()
    assert seen["wafv2"].ecs.clusters == full.clusters and not seen["wafv2"].ecs.services
    assert seen["elbv2"].ecs.services == full.services and not seen["elbv2"].ecs.task_definitions
    assert seen["ecr"].ecs == full
    assert inventory.ecs == full and inventory.errors == []


def _wait_for(seen: dict[str, Any], parts: set[str]) -> None:
    """Until the collectors of `parts` have run (the assertion fails after WAIT: else ECS "crashed")."""
    pause = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if parts <= seen.keys():
            break
        pause.wait(0.01)
    assert parts <= seen.keys(), seen.keys()


def test_nothing_follows_a_region_without_clusters(monkeypatch: pytest.MonkeyPatch):
    seen: dict[str, Any] = {}
    inventory = _run(monkeypatch, lambda ctx, config, on_step=None, **_: EcsInventory(), seen)
    assert seen == {} and inventory.ecs == EcsInventory()


def test_a_crash_in_ecs_releases_every_waiting_collector(monkeypatch: pytest.MonkeyPatch):
    seen: dict[str, Any] = {}

    def crashing(ctx: CollectContext, config: AuditConfig, *, on_step: Any = None, **_: Any) -> EcsInventory:
        on_step(CLUSTERS, EcsInventory(clusters=build_ecs({"services": [{"serviceName": "web", "cluster": "c1"}]}).clusters))
        raise RuntimeError("boom")

    inventory = _run(monkeypatch, crashing, seen)
    assert "guardduty" not in seen and "elbv2" not in seen and "ecr" not in seen  # their steps never came
    assert inventory.ecs is None and inventory.guardduty is None  # nothing kept beside a failed ECS
    assert [e.error_code for e in inventory.errors] == ["CollectorError"]


def test_calls_that_need_nothing_are_sent_once_a_definition_in_use_names_this_registry(monkeypatch: pytest.MonkeyPatch):
    # ECR's registry scanning configuration and Inspector's status need no repository: they are sent
    # ahead as soon as a task definition in use names an image of this account's registry here, once,
    # before ECS is done; a definition with only public images sends nothing ahead.
    sent: list[str] = []
    monkeypatch.setattr(runner, "_PREFETCH", {"ecr": lambda ctx: sent.append("ecr"), "inspector": lambda ctx: sent.append("inspector")})
    public = build_ecs({"task_definitions": [{"family": "pub", "containerDefinitions": [{"name": "a", "image": "nginx:1"}]}]})
    private = build_ecs(
        {"task_definitions": [{"family": "own", "containerDefinitions": [
            {"name": "a", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"}]}]}
    )
    full = build_ecs({"services": [{"serviceName": "web", "cluster": "c1"}]})
    when: list[list[str]] = []

    def fake_ecs(ctx: CollectContext, config: AuditConfig, *, on_step: Any = None, on_definition: Any = None) -> EcsInventory:
        on_step(LISTED, EcsInventory())
        on_definition(public.task_definitions[0])
        when.append(list(sent))
        on_definition(private.task_definitions[0])
        on_definition(private.task_definitions[0])
        when.append(list(sent))
        return full

    seen: dict[str, Any] = {}
    collectors = (
        runner.RegionCollector(_source("ecs", ()), runner._ecs),
        runner.RegionCollector(_source("ecr", ("ecs",)), lambda ctx, config, region: seen.setdefault("ecr", region)),
        runner.RegionCollector(_source("inspector", ("ecs", "ecr")), lambda ctx, config, region: None),
    )
    monkeypatch.setattr(runner, "REGION_COLLECTORS", collectors)
    monkeypatch.setattr(runner.ecs, "collect_ecs", fake_ecs)
    clients = ClientFactory(None, ALLOWED_ACTIONS)  # type: ignore[arg-type]
    runner.collect_region(clients, "123456789012", "eu-west-1", AuditConfig(), partition="aws")
    assert when == [[], ["ecr", "inspector"]]
