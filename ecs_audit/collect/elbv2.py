"""Elastic Load Balancing v2: the target groups services and task sets register with, their load
balancers, listeners and target-group attributes.

Cost per region: DescribeTargetGroups per 20 target groups (the API's limit per call), DescribeLoadBalancers
per 20 load balancers, then per load balancer one paginated DescribeListeners and per target group one
DescribeTargetGroupAttributes. A batch that fails with TargetGroupNotFound / LoadBalancerNotFound is
retried one ARN at a time, so a deleted target group is recorded as missing and the others are still read.
Classic Load Balancers (loadBalancerName) are out of scope: they are named, never described.
"""

from __future__ import annotations

from typing import Any

from ecs_audit.collect.base import ABSENT, CollectContext, batched
from ecs_audit.collect.pages import pages, validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.elbv2 import Listener, LoadBalancerV2, LoadBalancingInventory, TargetGroup
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.semantics.network_placement import is_active

SOURCE = source_of("elbv2")
SERVICE = SOURCE.client
TARGET_GROUP_BATCH = 20  # DescribeTargetGroups: "You cannot describe more than '20' target groups at a time"
LOAD_BALANCER_BATCH = 20  # DescribeLoadBalancers: up to 20 load balancers in a single call
PAGE_SIZE = 400  # the maximum PageSize of every describe call


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> LoadBalancingInventory | None:
    if region.ecs is None:
        return None
    entries = [lb for service in region.ecs.services if is_active(service) for lb in service.all_load_balancers]
    target_group_arns = sorted({lb.target_group_arn for lb in entries if lb.target_group_arn})
    classic = sorted({lb.load_balancer_name for lb in entries if lb.load_balancer_name and not lb.target_group_arn})

    target_groups, missing = _describe_all(
        ctx, "DescribeTargetGroups", "TargetGroups", "TargetGroupArns", target_group_arns, TARGET_GROUP_BATCH,
        TargetGroup, "TargetGroupNotFound",
    )
    load_balancer_arns = sorted({arn for tg in target_groups for arn in tg.load_balancer_arns})

    def load_balancers_and_listeners() -> tuple[list[Any], list[Any]]:
        found, _ = _describe_all(
            ctx, "DescribeLoadBalancers", "LoadBalancers", "LoadBalancerArns", load_balancer_arns, LOAD_BALANCER_BATCH,
            LoadBalancerV2, "LoadBalancerNotFound",
        )
        return found, ctx.parallel(lambda lb: _listeners(ctx, lb.load_balancer_arn), found)

    # The target groups' attributes need nothing more: they overlap with the load balancers' calls.
    attributes, (load_balancers, listeners) = ctx.parallel(
        lambda step: step(),
        [lambda: ctx.parallel(lambda tg: _attributes(ctx, tg.target_group_arn), target_groups), load_balancers_and_listeners],
    )
    return LoadBalancingInventory(
        load_balancers=sorted(load_balancers, key=lambda lb: lb.load_balancer_arn),
        target_groups=sorted(target_groups, key=lambda tg: tg.target_group_arn),
        listeners=dict(sorted((lb.load_balancer_arn, found) for lb, found in zip(load_balancers, listeners) if found is not None)),
        target_group_attributes=dict(
            sorted((tg.target_group_arn, found) for tg, found in zip(target_groups, attributes) if found is not None)
        ),
        missing_target_groups=missing,
        classic_load_balancers=classic,
    )


def _describe_all(
    ctx: CollectContext,
    operation: str,
    result_key: str,
    arns_param: str,
    arns: list[str],
    batch_size: int,
    model: type,
    not_found: str,
) -> tuple[list[Any], list[str]]:
    """(described, not found) for `arns`, `batch_size` at a time."""
    found: list[Any] = []
    missing: list[str] = []
    batches = list(batched(arns, batch_size))
    answers = ctx.parallel(lambda batch: _describe(ctx, operation, result_key, arns_param, batch, not_found), batches)
    for batch, items in zip(batches, answers):
        if items is ABSENT:
            # One of them is gone: ask one by one to learn which, and keep the rest.
            for arn in batch:
                single = _describe(ctx, operation, result_key, arns_param, [arn], not_found)
                if single is ABSENT:
                    missing.append(arn)
                elif single is not None:
                    found.extend(single)
            continue
        if items is not None:
            found.extend(items)
    arn_field = "TargetGroupArn" if model is TargetGroup else "LoadBalancerArn"
    models = [validated(ctx, SERVICE, operation, model, item, [item.get(arn_field, "")]) for item in found]
    return [m for m in models if m is not None], sorted(missing)


def _describe(ctx: CollectContext, operation: str, result_key: str, arns_param: str, batch: list[str], not_found: str):
    return pages(
        ctx,
        SERVICE,
        operation,
        result_key,
        input_token="Marker",
        output_token="NextMarker",
        resources=batch,
        absent_codes=(not_found,),
        PageSize=PAGE_SIZE,
        **{arns_param: batch},
    )


def _attributes(ctx: CollectContext, target_group_arn: str) -> dict[str, str] | None:
    response = ctx.call(
        SERVICE,
        "DescribeTargetGroupAttributes",
        resources=[target_group_arn],
        absent_codes=("TargetGroupNotFound",),
        TargetGroupArn=target_group_arn,
    )
    if not isinstance(response, dict):
        return None
    return {a["Key"]: str(a.get("Value", "")) for a in response.get("Attributes", []) if "Key" in a}


def _listeners(ctx: CollectContext, load_balancer_arn: str) -> list[Listener] | None:
    items = pages(
        ctx,
        SERVICE,
        "DescribeListeners",
        "Listeners",
        input_token="Marker",
        output_token="NextMarker",
        resources=[load_balancer_arn],
        absent_codes=("LoadBalancerNotFound",),
        LoadBalancerArn=load_balancer_arn,
        PageSize=PAGE_SIZE,
    )
    if not isinstance(items, list):
        return None
    listeners = [validated(ctx, SERVICE, "DescribeListeners", Listener, item, [load_balancer_arn]) for item in items]
    if any(listener is None for listener in listeners):
        return None  # a malformed listener was recorded; an incomplete list must not read as complete
    return sorted(listeners, key=lambda listener: (listener.port or 0, listener.listener_arn))
