"""Amazon CloudWatch: alarms on ECS and load-balancer metrics, Container Insights utilisation, Compute Optimizer ECS recommendations."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class MonitoringInventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
