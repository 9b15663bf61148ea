"""A read-only view of one account and region of the inventory, as the checks read it.

Every subject (see ecs_audit.evaluation.subjects) reaches the rest of the estate through
`subject.estate`, a RegionView: indices, configuration, related resources.

Accessors raise EvidenceMissing when the data they would return was not collected, so a check that
needs it becomes UNKNOWN instead of passing on an empty list.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cached_property
from typing import Any

from ecs_audit.config import AuditConfig
from ecs_audit.findings import EvidenceMissing, ResourceRef
from ecs_audit.inventory.arns import account_resource, family_arn, name_from_arn
from ecs_audit.inventory.ecs import (
    AccountSetting,
    CapacityProvider,
    Cluster,
    ContainerInstance,
    EcsInventory,
    FamilyHistory,
    Service,
    Task,
    TaskDefinition,
)
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.iam import IamInventory
from ecs_audit.inventory.parts import clients_of_part
from ecs_audit.inventory.snapshot import AccountInventory, RegionInventory
from ecs_audit.inventory.usage import TaskDefinitionUsage
from ecs_audit.semantics.platform import OsDecision, decide_os, task_launch_type


class RegionView:
    """Indices over one RegionInventory plus the audit configuration."""

    # Whether services and tasks that run a task definition are known (a scan); a review of definition
    # files sees only what the files name, so "no service runs it" cannot be concluded there.
    knows_usage: bool = True

    def __init__(
        self,
        region: RegionInventory,
        config: AuditConfig,
        partition: str = "aws",
        account: AccountInventory | None = None,
        now: datetime | None = None,
    ):
        self.inventory = region
        self.account = account
        # "Now" for age rules is when the inventory was collected, so a snapshot re-evaluated
        # later reaches the same verdicts.
        self.now = now
        self.config = config
        self.partition = partition
        self.account_id = region.account_id
        self.region = region.region

    # --- raw collections -------------------------------------------------------------------

    @cached_property
    def errors(self) -> list[ApiError]:
        """This region's recorded failures, plus the account-wide ones (IAM)."""
        return [*self.inventory.errors, *(self.account.errors if self.account else [])]

    def require(self, part: str) -> Any:
        """A service's part of the inventory (e.g. "ecr", "elbv2"); EvidenceMissing if it was not collected."""
        value = self.iam if part == "iam" else getattr(self.inventory, part)
        if value is None:
            failures = [e for e in self.errors if e.service in clients_of_part(part)]
            reason = f"{part} data was not collected"
            if failures:
                reason += ": " + failures[0].describe()
            raise EvidenceMissing(reason, failures[0].action if failures else None, failures[0].error_code if failures else None)
        return value

    @property
    def iam(self) -> IamInventory | None:
        return self.account.iam if self.account else None

    def raise_if_failed(self, action: str, resource: str | None = None) -> None:
        """EvidenceMissing if a recorded failure of `action` covers `resource` (or the whole region)."""
        error = self.error_for(action, resource)
        if error is not None:
            raise EvidenceMissing(error.describe(), error.action, error.error_code)

    @property
    def ecs(self) -> EcsInventory:
        if self.inventory.ecs is None:
            raise EvidenceMissing("ECS data was not collected for this region")
        return self.inventory.ecs

    @property
    def has_ecs(self) -> bool:
        return self.inventory.ecs is not None

    @property
    def account_resource(self) -> ResourceRef:
        return account_resource(self.partition, self.account_id)

    # --- indices ---------------------------------------------------------------------------

    @cached_property
    def _clusters(self) -> dict[str, Cluster]:
        return {c.cluster_arn: c for c in self.ecs.clusters} if self.has_ecs else {}

    @cached_property
    def _task_definitions(self) -> dict[str, TaskDefinition]:
        out: dict[str, TaskDefinition] = {}
        if self.has_ecs:
            for td in self.ecs.task_definitions:
                out[td.task_definition_arn] = td
                out[td.family_revision] = td
        return out

    @cached_property
    def _services_by_cluster(self) -> dict[str, list[Service]]:
        out: dict[str, list[Service]] = defaultdict(list)
        if self.has_ecs:
            for service in self.ecs.services:
                out[service.cluster_arn].append(service)
        return out

    @cached_property
    def _tasks_by_cluster(self) -> dict[str, list[Task]]:
        out: dict[str, list[Task]] = defaultdict(list)
        if self.has_ecs:
            for task in self.ecs.tasks:
                out[task.cluster_arn or ""].append(task)
        return out

    @property
    def usage(self) -> TaskDefinitionUsage:
        """Which task definitions are in use, and by which services and running tasks."""
        return self.inventory.task_definition_usage

    @property
    def in_use_arns(self) -> frozenset[str]:
        """In-use task definitions: referenced by ACTIVE services (and their deployments and task
        sets) or by running tasks."""
        return self.usage.in_use_arns

    # --- lookups ---------------------------------------------------------------------------

    @property
    def clusters(self) -> list[Cluster]:
        return list(self._clusters.values())

    def cluster(self, cluster_arn: str) -> Cluster | None:
        return self._clusters.get(cluster_arn)

    @property
    def services(self) -> list[Service]:
        return self.ecs.services if self.has_ecs else []

    def services_in(self, cluster_arn: str) -> list[Service]:
        return list(self._services_by_cluster.get(cluster_arn, []))

    def tasks_in(self, cluster_arn: str) -> list[Task]:
        return list(self._tasks_by_cluster.get(cluster_arn, []))

    def tasks_of(self, service: Service) -> list[Task]:
        """Running tasks started by a service."""
        return [t for t in self.tasks_in(service.cluster_arn) if t.service_name == service.service_name]

    @property
    def task_definitions(self) -> list[TaskDefinition]:
        return self.ecs.task_definitions if self.has_ecs else []

    def task_definition(self, reference: str) -> TaskDefinition:
        """A task definition by ARN or family:revision; EvidenceMissing if it was not read."""
        found = self._task_definitions.get(reference)
        if found is not None:
            return found
        error = self.error_for("ecs:DescribeTaskDefinition", reference)
        if error is not None:
            raise EvidenceMissing(
                f"task definition {name_from_arn(reference)} could not be read: {error.describe()}",
                error.action,
                error.error_code,
            )
        raise EvidenceMissing(f"task definition {name_from_arn(reference)} is not in the inventory")

    def is_in_use(self, td: TaskDefinition) -> bool:
        return self.usage.is_in_use(td)

    def services_using(self, td: TaskDefinition) -> list[Service]:
        return self.usage.services_using(td)

    def tasks_using(self, td: TaskDefinition) -> list[Task]:
        return self.usage.tasks_using(td)

    @cached_property
    def _instances_by_arn(self) -> dict[str, ContainerInstance]:
        if not self.has_ecs:
            return {}
        return {i.container_instance_arn: i for found in self.ecs.container_instances.values() for i in found}

    def os_of(self, td: TaskDefinition) -> OsDecision:
        """LINUX or WINDOWS, from runtimePlatform, the tasks' platformFamily, their container
        instances' ecs.os-type, or Windows base images (see ecs_audit.semantics.platform)."""
        return decide_os(td, self.tasks_using(td), self._instances_by_arn)

    def task_launch_type(self, task: Task) -> str:
        """FARGATE, EC2 or EXTERNAL ("" if unknown): a task on an ECS Anywhere (mi-) instance is EXTERNAL."""
        return task_launch_type(task, self._instances_by_arn)

    def launch_types_of(self, td: TaskDefinition) -> set[str]:
        """FARGATE, EC2 and/or EXTERNAL where the task definition runs (services and tasks)."""
        kinds = {service.effective_launch_type for service in self.services_using(td)}
        kinds.update(self.task_launch_type(task) for task in self.tasks_using(td))
        kinds.discard("")
        return kinds

    def family(self, name: str) -> FamilyHistory | None:
        return self._families.get(name)

    @cached_property
    def _families(self) -> dict[str, FamilyHistory]:
        index: dict[str, FamilyHistory] = {}
        if self.has_ecs:
            for history in self.ecs.families:
                index.setdefault(history.family, history)
        return index

    def family_history(self, td: TaskDefinition) -> FamilyHistory:
        """The revision history of a family; EvidenceMissing if it was not (fully) read."""
        error = self.error_for("ecs:ListTaskDefinitions", family_arn(td.task_definition_arn))
        if error is not None:
            raise EvidenceMissing(
                f"the revisions of family {td.family} could not be listed: {error.describe()}",
                error.action,
                error.error_code,
            )
        history = self.family(td.family)
        if history is None:
            raise EvidenceMissing(f"the revision history of family {td.family} was not collected")
        return history

    def account_setting(self, name: str) -> AccountSetting | None:
        """The effective account setting; None when the account returned none (the AWS default applies)."""
        if not self.has_ecs:
            return None
        matches = [s for s in self.ecs.account_settings if s.name == name]
        # Prefer the setting that applies to the caller over an account default.
        matches.sort(key=lambda s: 0 if (s.principal_arn or "").endswith(":root") else -1)
        return matches[0] if matches else None

    def capacity_provider(self, name: str) -> CapacityProvider | None:
        if not self.has_ecs:
            return None
        for provider in self.ecs.capacity_providers:
            if provider.name == name or provider.capacity_provider_arn == name:
                return provider
        return None

    def error_for(self, action: str, resource: str | None = None) -> ApiError | None:
        """The recorded failure of `action` that covers `resource` (or the whole region)."""
        for error in self.errors:
            if error.action != action:
                continue
            if not error.resources or resource is None or resource in error.resources:
                return error
        return None

    def launch_types_in_use(self) -> set[str]:
        """FARGATE and/or EC2 (EXTERNAL too), from services and running tasks."""
        kinds: set[str] = set()
        kinds.update(service.effective_launch_type for service in self.services)
        if self.has_ecs:
            kinds.update(self.task_launch_type(task) for task in self.ecs.tasks)
        kinds.discard("")
        return kinds
