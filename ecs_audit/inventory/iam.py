"""AWS IAM (account-wide): the task and execution roles of in-use task definitions and their policies."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class IamInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
