"""Application Auto Scaling: the scalable targets and scaling policies of the region's ECS services.

Cost per region: DescribeScalableTargets (namespace ecs) per 50 replica services, named by resource id
(service/<cluster>/<service>), paginated; then a paginated DescribeScalingPolicies (10 a page) per
service that has a scalable target. Services without a target cost nothing more.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.autoscaling import ECS_DIMENSION, ScalableTarget, ScalingInventory, ScalingPolicy, scaling_resource_id
from ecs_audit.inventory.snapshot import RegionInventory

OPERATIONS: tuple[str, ...] = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
)

SERVICE = "application-autoscaling"
RESOURCE_ID_BATCH = 50  # DescribeScalableTargets ResourceIds (max 50)
TARGET_PAGE_SIZE = 50  # DescribeScalableTargets MaxResults (1..50)
POLICY_PAGE_SIZE = 10  # DescribeScalingPolicies MaxResults (1..10)


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> ScalingInventory | None:
    if region.ecs is None:
        return None
    # resource id -> service ARN, for the replica services that could be scaled (DAEMON ones cannot).
    services = {
        scaling_resource_id(s.cluster_arn, s.service_name): s.service_arn
        for s in region.ecs.services
        if s.status != "INACTIVE" and s.scheduling_strategy != "DAEMON"
    }
    targets: list[ScalableTarget] = []
    for batch in batched(sorted(services), RESOURCE_ID_BATCH):
        items = ctx.paginate(
            SERVICE,
            "DescribeScalableTargets",
            "ScalableTargets",
            resources=[services[r] for r in batch],
            ServiceNamespace="ecs",
            ResourceIds=batch,
            ScalableDimension=ECS_DIMENSION,
            PaginationConfig={"PageSize": TARGET_PAGE_SIZE},
        )
        for item in items or []:
            target = _validated(ctx, ScalableTarget, item, "DescribeScalableTargets", services.get(item.get("ResourceId", ""), ""))
            if target is not None and target.resource_id in services:
                targets.append(target)
    targets.sort(key=lambda t: t.resource_id)
    per_target = ctx.parallel(lambda t: _policies(ctx, t.resource_id, services[t.resource_id]), targets)
    policies = [p for found in per_target for p in found]
    return ScalingInventory(scalable_targets=targets, policies=policies)


def _policies(ctx: CollectContext, resource_id: str, service_arn: str) -> list[ScalingPolicy]:
    items = ctx.paginate(
        SERVICE,
        "DescribeScalingPolicies",
        "ScalingPolicies",
        resources=[service_arn],
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension=ECS_DIMENSION,
        PaginationConfig={"PageSize": POLICY_PAGE_SIZE},
    )
    policies: list[ScalingPolicy] = []
    for item in items or []:
        policy = _validated(ctx, ScalingPolicy, item, "DescribeScalingPolicies", service_arn)
        if policy is not None:
            policies.append(policy)
    return sorted(policies, key=lambda p: p.policy_name)


def _validated(ctx: CollectContext, model: type[BaseModel], item: dict[str, Any], operation: str, resource: str) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        ctx.record(SERVICE, operation, "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", [resource] if resource else [])
        return None
