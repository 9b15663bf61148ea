"""Elastic Load Balancing v2: the target groups ECS services register with, the load balancers in
front of them and those load balancers' listeners.

Shapes mirror DescribeTargetGroups, DescribeLoadBalancers and DescribeListeners (PascalCase JSON).
"""

from __future__ import annotations

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape


class LoadBalancerV2(PascalShape):
    load_balancer_arn: str
    load_balancer_name: str
    scheme: str | None = None  # internet-facing | internal
    type: str | None = None  # application | network | gateway
    vpc_id: str | None = None
    security_groups: list[str] = []

    @property
    def is_internet_facing(self) -> bool:
        return self.scheme == "internet-facing"


class TargetGroup(PascalShape):
    target_group_arn: str
    target_group_name: str
    protocol: str | None = None
    port: int | None = None
    target_type: str | None = None
    vpc_id: str | None = None
    load_balancer_arns: list[str] = []
    health_check_enabled: bool | None = None
    health_check_protocol: str | None = None
    health_check_path: str | None = None
    health_check_interval_seconds: int | None = None
    health_check_timeout_seconds: int | None = None
    healthy_threshold_count: int | None = None
    unhealthy_threshold_count: int | None = None


class RedirectActionConfig(PascalShape):
    protocol: str | None = None
    port: str | None = None
    status_code: str | None = None


class Action(PascalShape):
    type: str
    order: int | None = None
    target_group_arn: str | None = None
    redirect_config: RedirectActionConfig | None = None


class Listener(PascalShape):
    listener_arn: str
    load_balancer_arn: str | None = None
    port: int | None = None
    protocol: str | None = None
    ssl_policy: str | None = None
    default_actions: list[Action] = []

    @property
    def label(self) -> str:
        return f"{self.protocol or '?'}:{self.port if self.port is not None else '?'}"

    @property
    def redirects_to_https(self) -> bool:
        """The default action (the last one, after any authenticate actions) redirects to HTTPS."""
        actions = sorted(self.default_actions, key=lambda a: a.order if a.order is not None else 50001)
        final = actions[-1] if actions else None
        return bool(
            final
            and final.type == "redirect"
            and final.redirect_config is not None
            and (final.redirect_config.protocol or "").upper() == "HTTPS"
        )


DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds"


class LoadBalancingInventory(Record):
    """Target groups that ECS services (and their task sets) register with, and the load balancers in
    front of them. Maps keyed by ARN hold only what was read: a missing key means "not read"."""

    load_balancers: list[LoadBalancerV2] = []
    target_groups: list[TargetGroup] = []
    # Load balancer ARN -> its listeners (DescribeListeners).
    listeners: dict[str, list[Listener]] = {}
    # Target group ARN -> its attributes (DescribeTargetGroupAttributes), e.g. deregistration delay.
    target_group_attributes: dict[str, dict[str, str]] = {}
    # Target groups services reference that no longer exist (TargetGroupNotFound).
    missing_target_groups: list[str] = []
    # Classic Load Balancers named by services (loadBalancerName): out of scope, never described.
    classic_load_balancers: list[str] = []

    def load_balancer(self, arn: str) -> LoadBalancerV2 | None:
        for load_balancer in self.load_balancers:
            if load_balancer.load_balancer_arn == arn:
                return load_balancer
        return None

    def target_group(self, arn: str) -> TargetGroup | None:
        for target_group in self.target_groups:
            if target_group.target_group_arn == arn:
                return target_group
        return None
