"""AWS CodeDeploy: ECS applications and deployment groups of CODE_DEPLOY services."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class CodeDeployInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
