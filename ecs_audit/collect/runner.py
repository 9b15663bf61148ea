"""Run the collectors over accounts and regions and assemble the inventory."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ecs_audit import __version__
from ecs_audit.collect import ecs
from ecs_audit.collect.base import CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.snapshot import AccountInventory, CallerIdentity, Inventory, RegionInventory
from ecs_audit.session import SESSION_ACTIONS, ClientFactory, partition_of

log = logging.getLogger(__name__)

# Every operation any collector may send; the client factory refuses all others.
COLLECTOR_ACTIONS: frozenset[str] = frozenset(ecs.OPERATIONS)
ALLOWED_ACTIONS: frozenset[str] = COLLECTOR_ACTIONS | SESSION_ACTIONS


def collect_region(
    clients: ClientFactory, account_id: str, region: str, config: AuditConfig, *, partition: str, max_workers: int
) -> RegionInventory:
    ctx = CollectContext(clients, account_id, region, partition=partition, max_workers=max_workers)
    inventory = None
    try:
        inventory = ecs.collect_ecs(ctx, config)
    except Exception as exc:  # a collector bug must not lose the other regions; it is recorded
        log.warning("ECS collection crashed in %s", region, exc_info=True)
        ctx.errors.append(
            ApiError(
                account_id=account_id,
                region=region,
                service="ecs",
                operation="ListClusters",
                error_code="CollectorError",
                message=f"collection stopped: {type(exc).__name__}: {exc}",
            )
        )
    errors = sorted(ctx.errors, key=lambda e: (e.service, e.operation, e.error_code, e.resources))
    return RegionInventory(account_id=account_id, region=region, ecs=inventory, errors=errors)


def collect_account(
    clients: ClientFactory,
    caller: CallerIdentity,
    regions: list[str],
    config: AuditConfig,
    *,
    max_workers: int = 8,
) -> Inventory:
    partition = partition_of(caller.arn)
    with ThreadPoolExecutor(max_workers=max(1, min(len(regions), 4)), thread_name_prefix="region") as pool:
        region_inventories = list(
            pool.map(
                lambda region: collect_region(
                    clients, caller.account_id, region, config, partition=partition, max_workers=max_workers
                ),
                regions,
            )
        )
    return Inventory(
        tool_version=__version__,
        collected_at=datetime.now(timezone.utc),
        caller=caller,
        partition=partition,
        accounts=[AccountInventory(account_id=caller.account_id, regions=region_inventories)],
    )
