"""Collector for ecs_audit.inventory.wafv2 (not implemented yet: returns None, so checks that need it are UNKNOWN)."""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.wafv2 import WafInventory
from ecs_audit.inventory.snapshot import RegionInventory

OPERATIONS: tuple[str, ...] = ()


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> WafInventory | None:
    return None
