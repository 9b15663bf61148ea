"""Application Auto Scaling: scalable targets and policies in the ecs namespace."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class ScalingInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
