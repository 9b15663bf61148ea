"""AWS Systems Manager Parameter Store: metadata (type, key) of parameters referenced by container secrets; never values."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class SsmInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
