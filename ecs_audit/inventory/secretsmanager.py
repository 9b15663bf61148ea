"""AWS Secrets Manager: metadata of secrets referenced by container secrets; never values."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class SecretsInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
