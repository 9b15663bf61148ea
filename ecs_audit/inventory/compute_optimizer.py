"""AWS Compute Optimizer: ECS service recommendations, where the account has opted in."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class ComputeOptimizerInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
