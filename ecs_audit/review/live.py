"""--live: read, through the guarded session and the scan's own collectors, what the definitions
under review refer to (images and their findings, roles and policies, subnets and security groups,
log groups, the cluster's settings)."""

from __future__ import annotations

from dataclasses import dataclass

from ecs_audit.collect.runner import collect_account_wide, collect_region
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.ecs import EcsInventory, Service, TaskDefinition
from ecs_audit.inventory.snapshot import AccountInventory, RegionInventory
from ecs_audit.collect.accounts_regions import AccessOptions, first_reachable, resolve_targets
from ecs_audit.session import AwsSession, partition_of


@dataclass
class LiveContext:
    account_id: str
    region: str
    partition: str
    region_inventory: RegionInventory
    account: AccountInventory


def identify(session: AwsSession, access: AccessOptions) -> tuple[str, str, object]:
    """The caller's account and partition, and its guarded clients (the scan's own resolution)."""
    caller, targets = resolve_targets(session, access.validate())
    target = first_reachable(targets, "--live: the account could not be reached")
    return target.account_id, partition_of(caller.arn), target.clients


def collect_for(
    clients: object,
    account_id: str,
    region: str,
    partition: str,
    config: AuditConfig,
    task_definitions: list[TaskDefinition],
    services: list[Service],
) -> LiveContext:
    """The region as `scan` collects it, with the reviewed definitions added to its ECS inventory
    before the follow-up collectors run, so they read what the definitions name."""
    td_arns = {td.task_definition_arn for td in task_definitions}
    service_arns = {s.service_arn for s in services}

    def amend(ecs: EcsInventory) -> EcsInventory:
        return ecs.model_copy(update={
            "task_definitions": [td for td in ecs.task_definitions if td.task_definition_arn not in td_arns] + list(task_definitions),
            "services": [s for s in ecs.services if s.service_arn not in service_arns] + list(services),
            "under_review": sorted(td_arns),
        })

    region_inventory = collect_region(clients, account_id, region, config, partition=partition, amend_ecs=amend)  # type: ignore[arg-type]
    account = collect_account_wide(clients, account_id, partition, config, [region_inventory], max_workers=4)  # type: ignore[arg-type]
    return LiveContext(account_id, region, partition, region_inventory, account)


class LiveResolver:
    """What `review` needs from the account: who and where, and the collection for given definitions."""

    def __init__(self, session: AwsSession, access: AccessOptions, region: str, config: AuditConfig):
        self.account_id, self.partition, self.clients = identify(session, access)
        self.region = region
        self.config = config

    def context(self) -> dict[str, str]:
        return {"account_id": self.account_id, "region": self.region, "partition": self.partition}

    def collect(self, task_definitions: list[TaskDefinition], services: list[Service]) -> tuple[RegionInventory, AccountInventory]:
        found = collect_for(self.clients, self.account_id, self.region, self.partition, self.config, task_definitions, services)
        return found.region_inventory, found.account
