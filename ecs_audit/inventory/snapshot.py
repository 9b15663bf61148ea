"""The snapshot envelope: what one audit collected, saved as JSON for offline re-evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ecs_audit.errors import UsageError
from ecs_audit.inputs import load_json, model_error
from ecs_audit.inventory.autoscaling import ScalingInventory
from ecs_audit.inventory.base import Record
from ecs_audit.inventory.cloudwatch import MonitoringInventory
from ecs_audit.inventory.codedeploy import CodeDeployInventory
from ecs_audit.inventory.compute_optimizer import ComputeOptimizerInventory
from ecs_audit.inventory.ec2 import Ec2Inventory
from ecs_audit.inventory.ecr import EcrInventory
from ecs_audit.inventory.ecs import DAEMON_OPERATIONS, FARGATE_PROVIDERS, EcsInventory, managed_instances_clusters, provider_keys
from ecs_audit.inventory.efs import EfsInventory
from ecs_audit.inventory.elbv2 import LoadBalancingInventory
from ecs_audit.inventory.errors import NOT_COLLECTED, ApiError
from ecs_audit.inventory.guardduty import GuardDutyInventory
from ecs_audit.inventory.iam import IamInventory
from ecs_audit.inventory.inspector import InspectorInventory
from ecs_audit.inventory.logs import LogsInventory
from ecs_audit.inventory.secretsmanager import SecretsInventory
from ecs_audit.inventory.ssm import SsmInventory
from ecs_audit.inventory.usage import TaskDefinitionUsage, usage_of
from ecs_audit.inventory.wafv2 import WafInventory

# 2: regions list the calls left out because no selected check needed them (`not_collected`), and ECS
# inventories the managed daemons (`daemons`). Version 1 snapshots still load: their managed daemons
# were never read, so they load as not collected where they would have been (`_daemons_not_read`);
# an older ecs-audit refuses a version 2 snapshot with a one-line "upgrade" error.
# 3: a Managed Instances capacity provider, returned by DescribeCapacityProviders only when asked with
# its cluster, is asked for again that way (one still missing is recorded), and a managed daemon's
# revisions keep the instances running without it (`instances_without`). Versions 1 and 2 asked
# without the cluster: a cluster's provider missing from them loads as not described
# (`_providers_not_asked_with_cluster`), so where its tasks run is unknown, not taken for EC2; their
# daemons load as running on every instance (version 2 did not keep the count).
SCHEMA_VERSION = 3
# What a version 1 snapshot's regions lack, as the context of their not_collected entries.
BEFORE_DAEMONS = "snapshot schema version 1"


class CallerIdentity(Record):
    account_id: str
    arn: str
    user_id: str | None = None


class RegionInventory(Record):
    """One account and region. A service's part is None when it was not collected (its collector
    failed or is not part of this snapshot): checks that need it are UNKNOWN, never PASS."""

    account_id: str
    region: str
    ecs: EcsInventory | None = None
    ecr: EcrInventory | None = None
    inspector: InspectorInventory | None = None
    guardduty: GuardDutyInventory | None = None
    ec2: Ec2Inventory | None = None
    elbv2: LoadBalancingInventory | None = None
    wafv2: WafInventory | None = None
    efs: EfsInventory | None = None
    autoscaling: ScalingInventory | None = None
    codedeploy: CodeDeployInventory | None = None
    cloudwatch: MonitoringInventory | None = None
    compute_optimizer: ComputeOptimizerInventory | None = None
    logs: LogsInventory | None = None
    ssm: SsmInventory | None = None
    secretsmanager: SecretsInventory | None = None
    errors: list[ApiError] = []
    # Optional calls left out because no check selected for the scan needed them (error code
    # NotCollected): a check that needs one, evaluated from this snapshot, is UNKNOWN.
    not_collected: list[ApiError] = []

    @property
    def is_empty(self) -> bool:
        """ECS answered, with no clusters, and nothing failed: the region runs no ECS."""
        return self.ecs is not None and not self.ecs.clusters and not self.errors

    @cached_property
    def task_definition_usage(self) -> TaskDefinitionUsage:
        """Which task definitions are in use here, and by whom (computed once per inventory)."""
        return usage_of(self.ecs)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> "RegionInventory":
        # A copy with other parts must not inherit the usage computed from this one's.
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("task_definition_usage", None)
        return copied


class AccountInventory(Record):
    account_id: str
    name: str | None = None  # from Organizations ListAccounts (organisation runs)
    regions: list[RegionInventory] = []
    # IAM is global: collected once per account for the roles every region's task definitions use.
    iam: IamInventory | None = None
    # Errors that concern the account as a whole (e.g. the audit role could not be assumed).
    errors: list[ApiError] = []


class Inventory(Record):
    schema_version: int = SCHEMA_VERSION
    tool_version: str
    collected_at: datetime
    caller: CallerIdentity | None = None
    partition: str = "aws"
    # "I/N" for the snapshot of one shard of an organisation run (scan --shard); None for a whole run.
    shard: str | None = None
    accounts: list[AccountInventory] = []

    @property
    def all_errors(self) -> list[ApiError]:
        out: list[ApiError] = []
        for account in self.accounts:
            out.extend(account.errors)
            for region in account.regions:
                out.extend(region.errors)
        return out


def save_snapshot(inventory: Inventory, path: Path) -> None:
    """Write the snapshot atomically (temporary file in the same directory, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(inventory.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"--save-snapshot {path}: cannot write it ({exc.strerror or exc})") from None
    except BaseException:  # interrupted: no temporary file left behind
        tmp.unlink(missing_ok=True)
        raise


def load_snapshot(path: Path) -> Inventory:
    """Read a snapshot, turning every way it can be wrong into a one-line UsageError."""
    data = load_json(path, "snapshot", "give a snapshot written by --save-snapshot")
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UsageError(f"snapshot {path}: not an ecs-audit snapshot (no schema_version)")
    version = data["schema_version"]
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise UsageError(
            f"snapshot {path}: schema version {version!r} is newer than this ecs-audit understands "
            f"({SCHEMA_VERSION}); upgrade ecs-audit"
        )
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        raise model_error(path, "snapshot", exc, "give a snapshot written by --save-snapshot") from None
    if inventory.schema_version == SCHEMA_VERSION:
        return inventory
    # An older snapshot, once read, is one of this version (what it lacks is recorded as not collected,
    # or has its default): saved again, it says so.
    version = inventory.schema_version
    accounts = [a.model_copy(update={"regions": [_upgraded(r, version) for r in a.regions]}) for a in inventory.accounts]
    return inventory.model_copy(update={"schema_version": SCHEMA_VERSION, "accounts": accounts})


def _upgraded(region: RegionInventory, version: int) -> RegionInventory:
    if version < 2:
        region = _daemons_not_read(region)
    return _providers_not_asked_with_cluster(region)


def _providers_not_asked_with_cluster(region: RegionInventory) -> RegionInventory:
    """A region of a version 1 or 2 snapshot: a cluster's capacity provider missing from it was never
    asked for with its cluster (as a Managed Instances provider must be), so it is recorded as not
    described, against the cluster."""
    if region.ecs is None:
        return region
    described = provider_keys(region.ecs.capacity_providers)
    missing = [
        ApiError(
            account_id=region.account_id,
            region=region.region,
            service="ecs",
            operation="DescribeCapacityProviders",
            error_code=NOT_COLLECTED,
            message=f"the snapshot (schema version 2 or older) did not describe capacity provider {', '.join(absent)} with its cluster; scan again",
            resources=[cluster.cluster_arn],
        )
        for cluster in region.ecs.clusters
        if (absent := sorted(set(cluster.capacity_providers) - FARGATE_PROVIDERS - described))
    ]
    return region.model_copy(update={"errors": [*region.errors, *missing]}) if missing else region


def _daemons_not_read(region: RegionInventory) -> RegionInventory:
    """A version 1 region: its ECS managed daemons were never read (daemons=[] means unknown, not
    none). Where they would be read today (clusters with Managed Instances capacity providers), the
    daemon calls are not collected, so the checks that need them (SECURITY-011) are UNKNOWN there."""
    if region.ecs is None or not managed_instances_clusters(region.ecs.clusters, region.ecs.capacity_providers):
        return region
    skipped = [
        ApiError(
            context=BEFORE_DAEMONS,
            account_id=region.account_id,
            region=region.region,
            service="ecs",
            operation=operation,
            error_code=NOT_COLLECTED,
            message="the snapshot (schema version 1) predates ecs-audit reading ECS managed daemons; scan again",
        )
        for operation in DAEMON_OPERATIONS
    ]
    return region.model_copy(update={"not_collected": [*region.not_collected, *(e for e in skipped if e not in region.not_collected)]})
