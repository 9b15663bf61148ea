"""A read-only view of one account and region of the inventory, as the checks read it.

Every subject (see ecs_audit.evaluation.subjects) reaches the rest of the estate through
`subject.estate`, a RegionView: indices, configuration, related resources.

Accessors raise EvidenceMissing when the data they would return was not collected, so a check that
needs it becomes UNKNOWN instead of passing on an empty list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from ecs_audit.config import AuditConfig
from ecs_audit.findings import EvidenceMissing, ResourceRef
from ecs_audit.inventory.arns import account_resource, family_arn, name_from_arn
from ecs_audit.inventory.ecs import (
    FARGATE_PROVIDERS,
    MANAGED_INSTANCES,
    AccountSetting,
    CapacityProvider,
    Cluster,
    ContainerInstance,
    EcsInventory,
    FamilyHistory,
    Service,
    Task,
    TaskDefinition,
    effective_launch_type,
)
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.iam import IamInventory
from ecs_audit.inventory.parts import clients_of_part
from ecs_audit.inventory.snapshot import AccountInventory, RegionInventory
from ecs_audit.inventory.usage import TaskDefinitionUsage
from ecs_audit.semantics.platform import EXTERNAL, OsDecision, decide_os, task_launch_type

UNKNOWN = "UNKNOWN"  # a placement whose capacity provider could not be described
_DESCRIBE_PROVIDERS = "ecs:DescribeCapacityProviders"


@dataclass(frozen=True)
class CapacityPlacement:
    """Where tasks may run: a kind of capacity (FARGATE, EC2, EXTERNAL, MANAGED_INSTANCES, or UNKNOWN when
    a capacity provider could not be described), a cluster and, on ECS Managed Instances, the names of the
    capacity providers they may land on. A capacity provider strategy names providers, not launch types:
    a provider whose DescribeCapacityProviders type is MANAGED_INSTANCES places tasks on ECS Managed
    Instances, AWS-managed EC2 instances (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ManagedInstances.html),
    which differ from self-managed EC2 capacity in what the customer controls."""

    kind: str
    cluster: str
    providers: tuple[str, ...] = ()


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
        """FARGATE, EC2, EXTERNAL or MANAGED_INSTANCES ("" if unknown, UNKNOWN when its capacity provider
        could not be described): a task on an ECS Anywhere (mi-) instance is EXTERNAL."""
        return self.launch_type_of(self.task_placements(task, strict=False))

    def launch_types_of(self, td: TaskDefinition) -> set[str]:
        """FARGATE, EC2, EXTERNAL, MANAGED_INSTANCES and/or UNKNOWN where the task definition runs
        (services and tasks)."""
        places = [p for service in self.services_using(td) for p in self.service_placements(service, strict=False)]
        places += [p for task in self.tasks_using(td) for p in self.task_placements(task, strict=False)]
        return {p.kind for p in places} - {""}

    # --- where tasks run (capacity) --------------------------------------------------------

    def provider_unread(self, name: str, cluster_arn: str) -> EvidenceMissing | None:
        """Why a capacity provider's type is not known (its DescribeCapacityProviders failed), if it is not."""
        for error in self.errors:
            if error.action == _DESCRIBE_PROVIDERS and (
                not error.resources or any(r in (cluster_arn, name) or name_from_arn(r) == name for r in error.resources)
            ):
                return EvidenceMissing(
                    f"capacity provider {name} of cluster {name_from_arn(cluster_arn)} was not described, so where its tasks run is not known: {error.describe()}",
                    error.action,
                    error.error_code,
                )
        return None

    def placements(self, launch_type: str | None, providers: list[str], cluster_arn: str, strict: bool = True) -> list[CapacityPlacement]:
        """Where tasks of a launch type, else of a capacity provider strategy (the cluster's default without
        one of its own), may run. A strategy may name Managed Instances providers beside others. A provider
        that could not be described raises EvidenceMissing, or with strict=False gives an UNKNOWN placement;
        one that is not in the inventory without a recorded failure counts as EC2 (Auto Scaling group)."""
        if launch_type:
            return [CapacityPlacement(launch_type, cluster_arn)]
        if not providers:
            cluster = self.cluster(cluster_arn)
            providers = [p.capacity_provider for p in cluster.default_capacity_provider_strategy] if cluster else []
        managed: list[str] = []
        others: list[str] = []
        unread = False
        for name in providers:
            found = self.capacity_provider(name) if name not in FARGATE_PROVIDERS else None
            if found is None and name not in FARGATE_PROVIDERS and (missing := self.provider_unread(name, cluster_arn)) is not None:
                if strict:
                    raise missing
                unread = True
            elif found is not None and found.type == MANAGED_INSTANCES:
                managed.append(found.name)
            else:
                others.append(name)
        places = [CapacityPlacement(MANAGED_INSTANCES, cluster_arn, tuple(sorted(set(managed))))] if managed else []
        if unread:
            places.append(CapacityPlacement(UNKNOWN, cluster_arn))
        if others or not (managed or unread):
            places.append(CapacityPlacement(effective_launch_type(None, others) or "", cluster_arn))
        return places

    def service_placements(self, service: Service, strict: bool = True) -> list[CapacityPlacement]:
        return self.placements(service.launch_type, [p.capacity_provider for p in service.capacity_provider_strategy], service.cluster_arn, strict)

    def task_placements(self, task: Task, strict: bool = True) -> list[CapacityPlacement]:
        """A task on an ECS Anywhere (mi-) instance is EXTERNAL; one on a container instance of a Managed
        Instances capacity provider is on Managed Instances, whatever else it reports."""
        cluster = task.cluster_arn or ""
        if task_launch_type(task, self._instances_by_arn) == EXTERNAL:
            return [CapacityPlacement(EXTERNAL, cluster)]
        instance = self._instances_by_arn.get(task.container_instance_arn or "")
        provider = self._managed_provider(instance) if instance is not None else None
        named = self.capacity_provider(task.capacity_provider_name) if task.capacity_provider_name else None
        if provider is None and named is not None and named.type == MANAGED_INSTANCES:
            provider = named
        if provider is not None:
            return [CapacityPlacement(MANAGED_INSTANCES, cluster, (provider.name,))]
        if task.launch_type == MANAGED_INSTANCES and task.capacity_provider_name:
            return [CapacityPlacement(MANAGED_INSTANCES, cluster, (name_from_arn(task.capacity_provider_name),))]
        return self.placements(task.launch_type, [task.capacity_provider_name] if task.capacity_provider_name else [], cluster, strict)

    def _managed_provider(self, instance: ContainerInstance) -> CapacityProvider | None:
        found = self.capacity_provider(instance.capacity_provider_name) if instance.capacity_provider_name else None
        return found if found is not None and found.type == MANAGED_INSTANCES else None

    def is_managed_instance(self, instance: ContainerInstance) -> bool:
        """A container instance of an ECS Managed Instances capacity provider (AWS launches, patches and
        replaces it: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instances-patching.html)."""
        return self._managed_provider(instance) is not None

    def instance_provider_unread(self, instance: ContainerInstance, cluster_arn: str) -> EvidenceMissing | None:
        """Why it is not known whether a container instance is an ECS Managed Instance (its capacity
        provider could not be described), if it is not."""
        name = instance.capacity_provider_name
        if not name or name in FARGATE_PROVIDERS or self.capacity_provider(name) is not None:
            return None
        return self.provider_unread(name, cluster_arn)

    @staticmethod
    def launch_type_of(places: list[CapacityPlacement]) -> str:
        """One launch type for a set of placements: their kind when they agree, UNKNOWN when any is unknown,
        else the kinds joined with "+" ("" without any)."""
        kinds = sorted({p.kind for p in places} - {""})
        if UNKNOWN in kinds:
            return UNKNOWN
        return "+".join(kinds)

    def service_launch_type(self, service: Service) -> str:
        """FARGATE, EC2, EXTERNAL or MANAGED_INSTANCES for a service ("" if unknown; UNKNOWN when a capacity
        provider of its strategy could not be described)."""
        return self.launch_type_of(self.service_placements(service, strict=False))

    def placements_in_use(self) -> frozenset[CapacityPlacement]:
        """The placements of active services and running tasks (raises EvidenceMissing for an undescribed provider)."""
        return self._placements_in_use

    @cached_property
    def _placements_in_use(self) -> frozenset[CapacityPlacement]:
        # Several checks ask; an EvidenceMissing is raised again on every ask (cached_property keeps values only).
        places = {place for s in self.services if s.status in (None, "ACTIVE") for place in self.service_placements(s)}
        if self.has_ecs:
            places.update(place for t in self.ecs.tasks for place in self.task_placements(t))
        return frozenset(places)

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
        """FARGATE, EC2, EXTERNAL, MANAGED_INSTANCES and/or UNKNOWN, from services and running tasks."""
        places = [place for service in self.services for place in self.service_placements(service, strict=False)]
        if self.has_ecs:
            places += [place for task in self.ecs.tasks for place in self.task_placements(task, strict=False)]
        return {place.kind for place in places} - {""}
