"""`ecs-audit review --live` collects the region as a scan does, with the definitions under review
added to ECS's inventory (review/live.py). Paced, ECR sends the DescribeImages of the images in use
ahead at ECS's IN_USE step: the reviewed definitions' images are in use then too, so they go in
that call, and no image is described twice."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_audit.collect import runner
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.ecs import TaskDefinition
from ecs_audit.pacing import Pacer
from ecs_audit.review import live
from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory
from tests.support.fake_api import FakeApi
from tests.unit.test_collect_ecr import REGISTRY, FakeEcr, digest
from tests.unit.test_collect_ecs import ACCOUNT, FakeEcs


def _image_ids(requests: list[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    """Each DescribeImages call's image tags, in the order sent."""
    return [sorted(next(iter(i.values())) for i in p["imageIds"]) for key, p in requests if key == "ecr.DescribeImages"]


def _review_live(monkeypatch: pytest.MonkeyPatch, deployed_image: str) -> tuple[FakeApi, list[list[list[str]]], Any]:
    """One cluster running svc-0:2 (`deployed_image` with its tag the revision: svc-0:1 is the
    rollback target), and a reviewed definition of image app:9. Returns the API, the DescribeImages
    sent ahead by the end of the IN_USE step, and the region's inventory."""
    ecs_fake = FakeEcs([1])
    ecr_fake = FakeEcr()
    ecr_fake.add("app", {digest(1): ["1"], digest(2): ["2"], digest(9): ["9"]})
    api = FakeApi()
    ecs_fake.install(api)
    ecr_fake.install(api)

    def describe_task_definition(p: dict[str, Any]) -> dict[str, Any]:
        out = ecs_fake.describe_task_definition(p)
        td = out["taskDefinition"]
        if td["family"] == "svc-0":
            td["containerDefinitions"][0]["image"] = deployed_image.format(revision=td["revision"])
        return out

    api.on("ecs.DescribeTaskDefinition", describe_task_definition)
    # The region's ECS and ECR, as a scan collects them (the other collectors read nothing here).
    monkeypatch.setattr(runner, "REGION_COLLECTORS", tuple(c for c in runner.REGION_COLLECTORS if c.field in ("ecs", "ecr")))
    ahead: list[list[list[str]]] = []
    send_ahead = runner.ecr.prefetch_in_use_images

    def in_use_images(ctx: Any, ecs: Any) -> None:
        send_ahead(ctx, ecs)
        ahead.append(_image_ids(api.requests))

    monkeypatch.setattr(runner.ecr, "prefetch_in_use_images", in_use_images)
    reviewed = TaskDefinition.model_validate({
        "taskDefinitionArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/reviewed:1", "family": "reviewed", "revision": 1,
        "containerDefinitions": [{"name": "web", "image": f"{REGISTRY}/app:9"}],
    })
    clients = ClientFactory(api.session(), ALLOWED_ACTIONS, pacer=Pacer(1.0))
    found = live.collect_for(clients, ACCOUNT, "us-east-1", "aws", AuditConfig(), [reviewed], [])
    return api, ahead, found.region_inventory


def test_a_reviewed_definitions_images_are_sent_ahead_with_those_in_use_and_described_once(monkeypatch: pytest.MonkeyPatch):
    api, ahead, region = _review_live(monkeypatch, f"{REGISTRY}/app:{{revision}}")
    assert region.errors == []
    # At IN_USE: the image in use (app:2) and the reviewed one (app:9) in one call; then the rollback target.
    assert ahead == [[["2", "9"]]]
    assert _image_ids(api.requests) == [["2", "9"], ["1"]]
    assert sorted(i.image_tags[0] for i in region.ecr.images) == ["1", "2", "9"]


def test_a_reviewed_definition_alone_naming_the_registry_is_sent_ahead_too(monkeypatch: pytest.MonkeyPatch):
    # Nothing deployed names this account's registry: the reviewed definition's image is in use from
    # IN_USE on all the same, and is described then, once.
    api, ahead, region = _review_live(monkeypatch, "public.ecr.aws/nginx/nginx:{revision}")
    assert region.errors == []
    assert ahead == [[["9"]]]
    assert _image_ids(api.requests) == [["9"]]
    assert [i.image_tags for i in region.ecr.images] == [["9"]]


TARGET_GROUP = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/reviewed/0123456789abcdef"


@pytest.mark.parametrize("clusters", [[1], []])
def test_a_reviewed_services_target_group_is_described(monkeypatch: pytest.MonkeyPatch, clusters: list[int]):
    # Load balancing reads ECS's SERVICES step: the reviewed service's target group is described
    # there too (before, only the deployed services' were, and none without a cluster), so the
    # NETWORK/RESILIENCE checks of the file see it as a scan of the registered service would.
    from ecs_audit.inventory.ecs import Service

    api = FakeApi()
    FakeEcs(clusters).install(api)
    described: list[list[str]] = []

    def target_groups(p: dict[str, Any]) -> dict[str, Any]:
        described.append(list(p["TargetGroupArns"]))
        return {"TargetGroups": [{"TargetGroupArn": arn, "TargetGroupName": "reviewed", "Protocol": "HTTP", "Port": 80,
                                  "TargetType": "ip", "LoadBalancerArns": []} for arn in p["TargetGroupArns"] if arn == TARGET_GROUP]}

    api.on("elbv2.DescribeTargetGroups", target_groups)
    api.on("elbv2.DescribeTargetGroupAttributes", lambda p: {"Attributes": []})
    monkeypatch.setattr(runner, "REGION_COLLECTORS", tuple(c for c in runner.REGION_COLLECTORS if c.field in ("ecs", "elbv2")))
    reviewed = Service.model_validate({
        "serviceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/default/reviewed", "serviceName": "reviewed",
        "clusterArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/default", "status": "ACTIVE",
        "loadBalancers": [{"targetGroupArn": TARGET_GROUP, "containerName": "web", "containerPort": 80}],
    })
    clients = ClientFactory(api.session(), ALLOWED_ACTIONS)
    region = live.collect_for(clients, ACCOUNT, "us-east-1", "aws", AuditConfig(), [], [reviewed]).region_inventory
    assert region.elbv2 is not None
    assert [tg.target_group_arn for tg in region.elbv2.target_groups] == [TARGET_GROUP]
    assert sum(TARGET_GROUP in arns for arns in described) == 1
