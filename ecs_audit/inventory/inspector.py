"""Amazon Inspector: ECR scanning status, rescan configuration and findings for in-use image digests."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class InspectorInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
