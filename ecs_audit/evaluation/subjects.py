"""The subjects checks receive: one resource of one account and region, with the view around it.

A check function takes exactly one subject, of the class its scope names in
ecs_audit.evaluation.scopes (AccountSubject for ACCOUNT, ServiceSubject for SERVICE...).
The engine hands the same subject to every check of its scope in a region, so what every check
asks of it (its resource, cluster and ancestors) is worked out once (cached_property: subjects are
immutable views of an immutable inventory).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ecs_audit.evaluation.view import RegionView
from ecs_audit.findings import EvidenceMissing, ResourceRef
from ecs_audit.inventory.arns import (
    CLUSTER_TYPE,
    LOAD_BALANCER_TYPE,
    REPOSITORY_TYPE,
    SERVICE_TYPE,
    TARGET_GROUP_TYPE,
    TASKDEF_TYPE,
    family_arn,
    name_from_arn,
)
from ecs_audit.inventory.ecr import Repository
from ecs_audit.inventory.ecs import Cluster, ContainerDefinition, Service, Task, TaskDefinition
from ecs_audit.inventory.elbv2 import LoadBalancerV2, TargetGroup


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

    @cached_property
    def resource(self) -> ResourceRef:
        return self.estate.account_resource


@dataclass(frozen=True)
class ClusterSubject(_SubjectDefaults):
    cluster: Cluster
    estate: RegionView

    @cached_property
    def resource(self) -> ResourceRef:
        return ResourceRef(type=CLUSTER_TYPE, arn=self.cluster.cluster_arn, name=self.cluster.cluster_name)

    @cached_property
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

    @cached_property
    def resource(self) -> ResourceRef:
        return ResourceRef(type=SERVICE_TYPE, arn=self.service.service_arn, name=self.service.service_name)

    @cached_property
    def ancestors(self) -> tuple[str, ...]:
        if self.service.task_definition:
            return (self.service.cluster_arn, self.service.task_definition, family_arn(self.service.task_definition))
        return (self.service.cluster_arn,)

    @property
    def cluster(self) -> Cluster | None:
        return self.estate.cluster(self.service.cluster_arn)

    @cached_property
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

    @cached_property
    def launch_type(self) -> str:
        """FARGATE, EC2, EXTERNAL or MANAGED_INSTANCES ("" if unknown, UNKNOWN when a capacity provider of
        its strategy could not be described): RegionView.service_launch_type."""
        return self.estate.service_launch_type(self.service)


@dataclass(frozen=True)
class TaskDefSubject(_SubjectDefaults):
    task_definition: TaskDefinition
    estate: RegionView

    @cached_property
    def resource(self) -> ResourceRef:
        td = self.task_definition
        return ResourceRef(type=TASKDEF_TYPE, arn=td.task_definition_arn, name=td.family_revision)

    @cached_property
    def ancestors(self) -> tuple[str, ...]:
        return (family_arn(self.task_definition.task_definition_arn),)

    @cached_property
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
        return self.estate.launch_types_of(self.task_definition) or set(self.task_definition.requires_compatibilities)


@dataclass(frozen=True)
class ContainerSubject(_SubjectDefaults):
    container: ContainerDefinition
    task_definition: TaskDefinition
    estate: RegionView

    @cached_property
    def resource(self) -> ResourceRef:
        return self.taskdef.resource

    @cached_property
    def ancestors(self) -> tuple[str, ...]:
        return (self.task_definition.task_definition_arn, *self.taskdef.ancestors)

    @cached_property
    def cluster_name(self) -> str | None:
        return self.taskdef.cluster_name

    @property
    def container_name(self) -> str | None:
        return self.container.name

    @property
    def tags(self) -> dict[str, str]:
        return self.taskdef.tags

    @cached_property
    def taskdef(self) -> TaskDefSubject:
        return TaskDefSubject(self.task_definition, self.estate)


@dataclass(frozen=True)
class RepositorySubject(_SubjectDefaults):
    """An ECR repository of the region (IN_USE_REPO: one that in-use images come from)."""

    repository: Repository
    estate: RegionView

    @cached_property
    def resource(self) -> ResourceRef:
        return ResourceRef(type=REPOSITORY_TYPE, arn=self.repository.repository_arn, name=self.repository.repository_name)


@dataclass(frozen=True)
class LoadBalancerSubject(_SubjectDefaults):
    """A load balancer in front of ECS services."""

    load_balancer: LoadBalancerV2
    estate: RegionView

    @cached_property
    def resource(self) -> ResourceRef:
        lb = self.load_balancer
        return ResourceRef(type=LOAD_BALANCER_TYPE, arn=lb.load_balancer_arn, name=lb.load_balancer_name)


@dataclass(frozen=True)
class TargetGroupSubject(_SubjectDefaults):
    """A target group that ECS services register tasks with."""

    target_group: TargetGroup
    estate: RegionView

    @cached_property
    def resource(self) -> ResourceRef:
        tg = self.target_group
        return ResourceRef(type=TARGET_GROUP_TYPE, arn=tg.target_group_arn, name=tg.target_group_name)

    @cached_property
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
