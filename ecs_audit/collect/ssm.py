"""SSM Parameter Store: metadata of the parameters audited containers inject as secrets.

Only DescribeParameters is used (type, KMS key, last change); values are never read: GetParameter(s)
is not on the allowlist. Cost per region: one DescribeParameters per 50 distinct referenced names
(the ParameterFilters value limit), paginated.
"""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.inventory.ssm import Parameter, SsmInventory
from ecs_audit.semantics.secret_reference import SSM, container_secret_refs

SOURCE = source_of("ssm")
SERVICE = SOURCE.client
NAME_BATCH = 50  # ParameterStringFilter.Values max; DescribeParameters MaxResults max is 50 too


def referenced_parameters(ctx: CollectContext, region: RegionInventory) -> dict[str, str]:
    """Name -> ARN of the parameters in this account and region that audited containers reference."""
    out: dict[str, str] = {}
    if region.ecs is None:
        return out
    for td in region.ecs.task_definitions:
        for container in td.container_definitions:
            for ref in container_secret_refs(container, ctx.partition, ctx.region, ctx.account_id):
                if ref.kind == SSM and ref.is_local(ctx.region, ctx.account_id) and ref.key:
                    out[ref.key] = ref.arn
    return out


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> SsmInventory | None:
    wanted = referenced_parameters(ctx, region)
    names = sorted(wanted)
    found: dict[str, Parameter] = {}
    failed: set[str] = set()
    batches = list(batched(names, NAME_BATCH))

    def describe(batch: list[str]) -> list[dict] | None:
        return ctx.paginate(
            SERVICE,
            "DescribeParameters",
            "Parameters",
            resources=[wanted[n] for n in batch],
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": batch}],
            PaginationConfig={"PageSize": NAME_BATCH},
        )

    for batch, items in zip(batches, ctx.parallel(describe, batches)):
        if items is None:
            failed.update(batch)
            continue
        for item in items:
            parameter = validated(ctx, SERVICE, "DescribeParameters", Parameter, item, [wanted[n] for n in batch])
            if parameter is None:
                failed.update(batch)
                continue
            if parameter.name in wanted:
                found[parameter.name] = parameter
    missing = [n for n in names if n not in found and n not in failed]
    return SsmInventory(parameters=[found[n] for n in sorted(found)], missing=missing)
