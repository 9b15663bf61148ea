"""Amazon EFS: mount targets and their security groups for file systems in use."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class EfsInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
