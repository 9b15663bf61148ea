"""Collector for ecs_audit.inventory.iam (not implemented yet: returns None, so checks that need it are UNKNOWN).

IAM is global: it runs once per account, after every region's ECS collection, for the roles that
in-use task definitions of all regions reference.
"""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.iam import IamInventory
from ecs_audit.inventory.snapshot import RegionInventory

OPERATIONS: tuple[str, ...] = ()


def collect(ctx: CollectContext, config: AuditConfig, regions: list[RegionInventory]) -> IamInventory | None:
    return None
