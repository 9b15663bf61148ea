"""Amazon EC2: subnets, route tables, security groups and flow logs of the VPCs services use, and container-instance AMIs."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record  # noqa: F401  (AwsShape: for the models to come)


class Ec2Inventory(Record):
    """Filled by ecs_audit/collect/ for the resources in-use ECS resources reference."""
