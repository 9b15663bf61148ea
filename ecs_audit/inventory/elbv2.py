"""Elastic Load Balancing v2 (and WAFv2 associations): the load balancers and target groups of services."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record


class LoadBalancerV2(AwsShape):
    load_balancer_arn: str
    load_balancer_name: str
    scheme: str | None = None
    type: str | None = None
    vpc_id: str | None = None
    security_groups: list[str] = []


class TargetGroup(AwsShape):
    target_group_arn: str
    target_group_name: str
    protocol: str | None = None
    port: int | None = None
    target_type: str | None = None
    load_balancer_arns: list[str] = []


class LoadBalancingInventory(Record):
    """Target groups that ECS services register with, and the load balancers in front of them."""

    load_balancers: list[LoadBalancerV2] = []
    target_groups: list[TargetGroup] = []
