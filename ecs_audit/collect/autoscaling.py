"""Application Auto Scaling: the scalable targets and scaling policies of the region's ECS services.

Every cluster of the region is audited, so the region's whole `ecs` namespace is what the checks
need: one paginated DescribeScalableTargets for the namespace (50 a page) and, when any audited
service has a target, one paginated DescribeScalingPolicies for the namespace (10 a page). That is
never more calls than naming the services (50 resource ids a call) and asking for each target's
policies, and far fewer in a large region. A region without replica services costs nothing.
"""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.autoscaling import ECS_DIMENSION, ScalableTarget, ScalingInventory, ScalingPolicy, scaling_resource_id
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("autoscaling")
SERVICE = SOURCE.client
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
    if not services:
        return ScalingInventory()
    # A failure concerns every service the call was about.
    items = ctx.paginate(
        SERVICE,
        "DescribeScalableTargets",
        "ScalableTargets",
        resources=sorted(services.values()),
        ServiceNamespace="ecs",
        ScalableDimension=ECS_DIMENSION,
        PaginationConfig={"PageSize": TARGET_PAGE_SIZE},
    )
    targets: list[ScalableTarget] = []
    for item in items or []:
        if item.get("ResourceId") not in services:
            continue  # a target of a service that is not (or no longer) audited
        target = validated(ctx, SERVICE, "DescribeScalableTargets", ScalableTarget, item, [services[item["ResourceId"]]])
        if target is not None:
            targets.append(target)
    targets.sort(key=lambda t: t.resource_id)
    if not targets:
        return ScalingInventory(scalable_targets=targets)
    scaled = {t.resource_id for t in targets}
    items = ctx.paginate(
        SERVICE,
        "DescribeScalingPolicies",
        "ScalingPolicies",
        resources=sorted(services[r] for r in scaled),
        ServiceNamespace="ecs",
        ScalableDimension=ECS_DIMENSION,
        PaginationConfig={"PageSize": POLICY_PAGE_SIZE},
    )
    policies: list[ScalingPolicy] = []
    for item in items or []:
        if item.get("ResourceId") not in scaled:
            continue
        policy = validated(ctx, SERVICE, "DescribeScalingPolicies", ScalingPolicy, item, [services[item["ResourceId"]]])
        if policy is not None:
            policies.append(policy)
    policies.sort(key=lambda p: (p.resource_id, p.policy_name))
    return ScalingInventory(scalable_targets=targets, policies=policies)
