"""CloudWatch Logs: the log groups audited containers send awslogs output to.

DescribeLogGroups with logGroupIdentifiers, 50 names a call (the API's limit), paginated: one call
per 50 distinct referenced groups. Groups named but not returned do not exist (recorded as missing).
"""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.logs import LogGroup, LogsInventory, awslogs_group, log_group_arn
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("logs")
SERVICE = SOURCE.client
GROUP_BATCH = 50  # logGroupIdentifiers max; limit max is 50 too


def referenced_log_groups(ctx: CollectContext, region: RegionInventory) -> list[str]:
    """Names of the log groups in this region that audited containers' awslogs drivers write to."""
    out: set[str] = set()
    if region.ecs is None:
        return []
    for td in region.ecs.task_definitions:
        for container in td.container_definitions:
            destination = awslogs_group(container, ctx.region)
            if destination is not None and destination[1] == ctx.region:
                out.add(destination[0])
    return sorted(out)


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> LogsInventory | None:
    names = referenced_log_groups(ctx, region)
    found: dict[str, LogGroup] = {}
    failed: set[str] = set()
    batches = list(batched(names, GROUP_BATCH))

    def describe(batch: list[str]) -> list[dict] | None:
        return ctx.paginate(
            SERVICE,
            "DescribeLogGroups",
            "logGroups",
            resources=[log_group_arn(n, ctx.partition, ctx.region, ctx.account_id) for n in batch],
            logGroupIdentifiers=batch,
            PaginationConfig={"PageSize": GROUP_BATCH},
        )

    for batch, items in zip(batches, ctx.parallel(describe, batches)):
        arns = [log_group_arn(n, ctx.partition, ctx.region, ctx.account_id) for n in batch]
        if items is None:
            failed.update(batch)
            continue
        for item in items:
            group = validated(ctx, SERVICE, "DescribeLogGroups", LogGroup, item, arns)
            if group is None:
                failed.update(batch)
                continue
            if group.log_group_name in batch:
                found[group.log_group_name] = group
    missing = [n for n in names if n not in found and n not in failed]
    return LogsInventory(log_groups=[found[n] for n in sorted(found)], missing=missing)
