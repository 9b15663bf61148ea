"""A read-only view of one account and region of the inventory, and the subjects checks receive.

A check function takes exactly one subject: AccountSubject, ClusterSubject, ServiceSubject,
TaskDefSubject or ContainerSubject, matching its scope in the catalogue. Every subject reaches the
rest of the estate through `subject.estate` (indices, configuration, related resources).

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
from ecs_audit.inventory.ecs import (
    AccountSetting,
    CapacityProvider,
    Cluster,
    ContainerDefinition,
    ContainerInstance,
    EcsInventory,
    FamilyHistory,
    effective_launch_type,
    Service,
    Task,
    TaskDefinition,
)
from ecs_audit.inventory.ecr import Repository
from ecs_audit.inventory.elbv2 import LoadBalancerV2, TargetGroup
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.iam import IamInventory
from ecs_audit.inventory.snapshot import AccountInventory, RegionInventory
from ecs_audit.platform import OsDecision, decide_os, task_launch_type

ACCOUNT_TYPE = "AWS::::Account"
CLUSTER_TYPE = "AWS::ECS::Cluster"
SERVICE_TYPE = "AWS::ECS::Service"
TASKDEF_TYPE = "AWS::ECS::TaskDefinition"
REPOSITORY_TYPE = "AWS::ECR::Repository"
LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"


def name_from_arn(arn: str) -> str:
    """The last path element of an ARN (cluster name, service name, family:revision)."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


def resource_from_arn(arn: str) -> ResourceRef:
    """A ResourceRef for an ARN known only by its text (e.g. a resource whose describe call failed)."""
    parts = arn.split(":", 5)
    kind = parts[5].split("/", 1)[0] if len(parts) == 6 else ""
    service = parts[2] if len(parts) > 2 else ""
    types = {
        ("ecs", "cluster"): CLUSTER_TYPE,
        ("ecs", "service"): SERVICE_TYPE,
        ("ecs", "task-definition"): TASKDEF_TYPE,
        ("ecs", "task"): "AWS::ECS::Task",
        ("ecs", "capacity-provider"): "AWS::ECS::CapacityProvider",
        ("ecr", "repository"): REPOSITORY_TYPE,
        ("elasticloadbalancing", "loadbalancer"): LOAD_BALANCER_TYPE,
        ("elasticloadbalancing", "targetgroup"): TARGET_GROUP_TYPE,
        ("iam", "role"): "AWS::IAM::Role",
    }
    name = name_from_arn(arn)
    if kind == "task-definition":
        name = arn.split("task-definition/", 1)[1]
    elif service == "elasticloadbalancing" and kind in ("loadbalancer", "targetgroup"):
        name = arn.split("/")[-2]  # .../targetgroup/<name>/<id>, .../loadbalancer/app/<name>/<id>
    return ResourceRef(type=types.get((service, kind), "AWS::Resource"), arn=arn, name=name)


def family_arn(task_definition_arn: str) -> str:
    """The ARN of a task definition family (its revision ARN without `:revision`).

    Calls about a whole family (ListTaskDefinitions) record their errors against this ARN."""
    return task_definition_arn.rsplit(":", 1)[0] if task_definition_arn.count(":") >= 6 else task_definition_arn


def account_resource(partition: str, account_id: str) -> ResourceRef:
    return ResourceRef(type=ACCOUNT_TYPE, arn=f"arn:{partition}:iam::{account_id}:root", name=account_id)


# Inventory parts whose boto3 client name differs from the part's name.
_SERVICE_OF_PART = {"autoscaling": ("application-autoscaling",), "compute_optimizer": ("compute-optimizer",), "inspector": ("inspector2",)}


class RegionView:
    """Indices over one RegionInventory plus the audit configuration."""

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
            failures = [e for e in self.errors if e.service in _SERVICE_OF_PART.get(part, (part,))]
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

    @cached_property
    def _users(self) -> dict[str, list[Service]]:
        """Task definition ARN -> ACTIVE services that reference it (service, deployments, task sets)."""
        out: dict[str, list[Service]] = defaultdict(list)
        if not self.has_ecs:
            return out
        for service in self.ecs.services:
            if service.status not in (None, "ACTIVE"):
                continue
            for arn in service_task_definition_arns(service):
                if service not in out[arn]:
                    out[arn].append(service)
        return out

    @cached_property
    def in_use_arns(self) -> frozenset[str]:
        """In-use task definitions: referenced by ACTIVE services (and their deployments and task
        sets) or by running tasks."""
        arns = set(self._users)
        if self.has_ecs:
            arns.update(t.task_definition_arn for t in self.ecs.tasks if t.task_definition_arn)
        return frozenset(arns)

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
        return td.task_definition_arn in self.in_use_arns

    def services_using(self, td: TaskDefinition) -> list[Service]:
        return list(self._users.get(td.task_definition_arn, []))

    def tasks_using(self, td: TaskDefinition) -> list[Task]:
        if not self.has_ecs:
            return []
        return [t for t in self.ecs.tasks if t.task_definition_arn == td.task_definition_arn]

    @cached_property
    def _instances_by_arn(self) -> dict[str, ContainerInstance]:
        if not self.has_ecs:
            return {}
        return {i.container_instance_arn: i for found in self.ecs.container_instances.values() for i in found}

    def os_of(self, td: TaskDefinition) -> OsDecision:
        """LINUX or WINDOWS, from runtimePlatform, the tasks' platformFamily, their container
        instances' ecs.os-type, or Windows base images (see ecs_audit.platform)."""
        return decide_os(td, self.tasks_using(td), self._instances_by_arn)

    def task_launch_type(self, task: Task) -> str:
        """FARGATE, EC2 or EXTERNAL ("" if unknown): a task on an ECS Anywhere (mi-) instance is EXTERNAL."""
        return task_launch_type(task, self._instances_by_arn)

    def launch_types_of(self, td: TaskDefinition) -> set[str]:
        """FARGATE, EC2 and/or EXTERNAL where the task definition runs (services and tasks); a task
        on an ECS Anywhere (mi-) instance is EXTERNAL, not EC2."""
        kinds = {service.effective_launch_type for service in self.services_using(td)}
        kinds.update(task_launch_type(task, self._instances_by_arn) for task in self.tasks_using(td))
        kinds.discard("")
        return kinds

    def family(self, name: str) -> FamilyHistory | None:
        if not self.has_ecs:
            return None
        for history in self.ecs.families:
            if history.family == name:
                return history
        return None

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
            kinds.update(task_launch_type(task, self._instances_by_arn) for task in self.ecs.tasks)
        kinds.discard("")
        return kinds


def service_task_definition_arns(service: Service) -> list[str]:
    """Every task definition a service references: its own, its deployments' and its task sets'."""
    arns: list[str] = []
    for arn in [service.task_definition, *(d.task_definition for d in service.deployments), *(t.task_definition for t in service.task_sets)]:
        if arn and arn not in arns:
            arns.append(arn)
    return arns


# --- subjects ----------------------------------------------------------------------------------


class _SubjectDefaults:
    """What a subject says when it has nothing more specific: no parents whose failures cover it,
    no cluster, no container, no tags."""

    @property
    def ancestors(self) -> tuple[str, ...]:
        """ARNs whose recorded failures also cover this subject (its cluster, its family...)."""
        return ()

    @property
    def cluster_name(self) -> str | None:
        """The cluster reports group this subject under, if any."""
        return None

    @property
    def container_name(self) -> str | None:
        return None

    @property
    def tags(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class AccountSubject(_SubjectDefaults):
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        return self.estate.account_resource


@dataclass(frozen=True)
class ClusterSubject(_SubjectDefaults):
    cluster: Cluster
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        return ResourceRef(type=CLUSTER_TYPE, arn=self.cluster.cluster_arn, name=self.cluster.cluster_name)

    @property
    def cluster_name(self) -> str | None:
        return self.cluster.cluster_name

    @property
    def tags(self) -> dict[str, str]:
        return self.cluster.tags

    @property
    def services(self) -> list[Service]:
        return self.estate.services_in(self.cluster.cluster_arn)

    @property
    def tasks(self) -> list[Task]:
        return self.estate.tasks_in(self.cluster.cluster_arn)


@dataclass(frozen=True)
class ServiceSubject(_SubjectDefaults):
    service: Service
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        return ResourceRef(type=SERVICE_TYPE, arn=self.service.service_arn, name=self.service.service_name)

    @property
    def ancestors(self) -> tuple[str, ...]:
        if self.service.task_definition:
            return (self.service.cluster_arn, self.service.task_definition, family_arn(self.service.task_definition))
        return (self.service.cluster_arn,)

    @property
    def cluster(self) -> Cluster | None:
        return self.estate.cluster(self.service.cluster_arn)

    @property
    def cluster_name(self) -> str | None:
        return name_from_arn(self.service.cluster_arn)

    @property
    def tags(self) -> dict[str, str]:
        return self.service.tags

    @property
    def task_definition(self) -> TaskDefinition:
        """The service's current task definition; EvidenceMissing if it could not be read."""
        if not self.service.task_definition:
            raise EvidenceMissing("the service names no task definition")
        return self.estate.task_definition(self.service.task_definition)

    @property
    def tasks(self) -> list[Task]:
        return self.estate.tasks_of(self.service)

    @property
    def launch_type(self) -> str:
        return self.service.effective_launch_type


@dataclass(frozen=True)
class TaskDefSubject(_SubjectDefaults):
    task_definition: TaskDefinition
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        td = self.task_definition
        return ResourceRef(type=TASKDEF_TYPE, arn=td.task_definition_arn, name=td.family_revision)

    @property
    def ancestors(self) -> tuple[str, ...]:
        return (family_arn(self.task_definition.task_definition_arn),)

    @property
    def cluster_name(self) -> str | None:
        clusters = sorted({name_from_arn(s.cluster_arn) for s in self.services})
        return clusters[0] if len(clusters) == 1 else None

    @property
    def tags(self) -> dict[str, str]:
        return self.task_definition.tags

    @property
    def in_use(self) -> bool:
        return self.estate.is_in_use(self.task_definition)

    @property
    def services(self) -> list[Service]:
        return self.estate.services_using(self.task_definition)

    @property
    def tasks(self) -> list[Task]:
        return self.estate.tasks_using(self.task_definition)

    @property
    def launch_types(self) -> set[str]:
        """Where this definition actually runs (services and tasks), else what it requires."""
        kinds = {s.effective_launch_type for s in self.services} | {t.effective_launch_type for t in self.tasks}
        kinds.discard("")
        return kinds or set(self.task_definition.requires_compatibilities)


@dataclass(frozen=True)
class ContainerSubject(_SubjectDefaults):
    container: ContainerDefinition
    task_definition: TaskDefinition
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        td = self.task_definition
        return ResourceRef(type=TASKDEF_TYPE, arn=td.task_definition_arn, name=td.family_revision)

    @property
    def ancestors(self) -> tuple[str, ...]:
        arn = self.task_definition.task_definition_arn
        return (arn, family_arn(arn))

    @property
    def cluster_name(self) -> str | None:
        return TaskDefSubject(self.task_definition, self.estate).cluster_name

    @property
    def container_name(self) -> str | None:
        return self.container.name

    @property
    def tags(self) -> dict[str, str]:
        return self.task_definition.tags

    @property
    def taskdef(self) -> TaskDefSubject:
        return TaskDefSubject(self.task_definition, self.estate)


@dataclass(frozen=True)
class RepositorySubject(_SubjectDefaults):
    """An ECR repository that in-use images come from."""

    repository: Repository
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        return ResourceRef(type=REPOSITORY_TYPE, arn=self.repository.repository_arn, name=self.repository.repository_name)


@dataclass(frozen=True)
class LoadBalancerSubject(_SubjectDefaults):
    """A load balancer in front of ECS services."""

    load_balancer: LoadBalancerV2
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        lb = self.load_balancer
        return ResourceRef(type=LOAD_BALANCER_TYPE, arn=lb.load_balancer_arn, name=lb.load_balancer_name)


@dataclass(frozen=True)
class TargetGroupSubject(_SubjectDefaults):
    """A target group that ECS services register tasks with."""

    target_group: TargetGroup
    estate: RegionView

    @property
    def resource(self) -> ResourceRef:
        tg = self.target_group
        return ResourceRef(type=TARGET_GROUP_TYPE, arn=tg.target_group_arn, name=tg.target_group_name)

    @property
    def ancestors(self) -> tuple[str, ...]:
        return tuple(self.target_group.load_balancer_arns)


Subject = (
    AccountSubject
    | ClusterSubject
    | ServiceSubject
    | TaskDefSubject
    | ContainerSubject
    | RepositorySubject
    | LoadBalancerSubject
    | TargetGroupSubject
)
