"""AWS WAFv2: the web ACLs associated with the load balancers of services."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class WafInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
