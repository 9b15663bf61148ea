"""Every scope in one table: the subject a check of that scope receives, how the subjects are
enumerated, the calls whose failure leaves that list incomplete, and the inventory part they come
from.

The scope names themselves (what a catalogue entry says) are ecs_audit.catalogue.Scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ecs_audit.catalogue import Scope
from ecs_audit.evaluation.subjects import (
    AccountSubject,
    ClusterSubject,
    ContainerSubject,
    LoadBalancerSubject,
    RepositorySubject,
    ServiceSubject,
    Subject,
    TargetGroupSubject,
    TaskDefSubject,
)
from ecs_audit.evaluation.view import RegionView
from ecs_audit.inventory.ecr import EcrInventory, Repository
from ecs_audit.semantics.image_in_use import repository_arn


@dataclass(frozen=True)
class ScopeSpec:
    subject: type
    # The subjects of one region (called only when ECS was read, except for ACCOUNT).
    enumerate: Callable[[RegionView], Iterator[Subject]]
    # IAM actions whose failure leaves this scope's resource list incomplete.
    listed_by: tuple[str, ...]
    # The inventory part the subjects come from when it is not ECS, and the operation that lists them
    # there (named when that part was not collected at all).
    part: str | None = None
    part_listing: str | None = None


def _account(view: RegionView) -> Iterator[Subject]:
    yield AccountSubject(view)


def _clusters(view: RegionView) -> Iterator[Subject]:
    for cluster in view.clusters:
        yield ClusterSubject(cluster, view)


def _services(view: RegionView) -> Iterator[Subject]:
    for service in view.services:
        if service.status != "INACTIVE":
            yield ServiceSubject(service, view)


def _task_definitions(view: RegionView) -> Iterator[Subject]:
    for td in view.task_definitions:
        yield TaskDefSubject(td, view)


def _containers(view: RegionView) -> Iterator[Subject]:
    for td in view.task_definitions:
        for container in td.container_definitions:
            yield ContainerSubject(container, td, view)


def _repositories(view: RegionView) -> Iterator[Subject]:
    ecr = view.inventory.ecr
    if ecr is not None:
        for repository in [*ecr.repositories, *_unread_in_use(view, ecr)]:
            yield RepositorySubject(repository, view)


def _in_use_repositories(view: RegionView) -> Iterator[Subject]:
    ecr = view.inventory.ecr
    if ecr is not None:
        in_use = set(ecr.in_use_repositories)
        for repository in [*(r for r in ecr.repositories if r.repository_name in in_use), *_unread_in_use(view, ecr)]:
            yield RepositorySubject(repository, view)


def _unread_in_use(view: RegionView, ecr: EcrInventory) -> list[Repository]:
    """In-use repositories known by name that the listing neither returned nor showed missing (it
    failed): each gets its own result, which the recorded failure makes UNKNOWN."""
    listed = {r.repository_name for r in ecr.repositories}
    return [
        Repository(repository_arn=repository_arn(view.partition, view.region, view.account_id, name), repository_name=name)
        for name in ecr.in_use_repositories
        if name not in listed and name not in ecr.missing_repositories
    ]


def _load_balancers(view: RegionView) -> Iterator[Subject]:
    if view.inventory.elbv2 is not None:
        for load_balancer in view.inventory.elbv2.load_balancers:
            yield LoadBalancerSubject(load_balancer, view)


def _target_groups(view: RegionView) -> Iterator[Subject]:
    if view.inventory.elbv2 is not None:
        for target_group in view.inventory.elbv2.target_groups:
            yield TargetGroupSubject(target_group, view)


CLUSTER_LISTING = ("ecs:ListClusters", "ecs:DescribeClusters")
_SERVICE_LISTING = (*CLUSTER_LISTING, "ecs:ListServices", "ecs:DescribeServices")
_TASK_DEFINITION_LISTING = (
    *_SERVICE_LISTING,
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitionFamilies",
)
_LOAD_BALANCING_LISTING = (
    *_SERVICE_LISTING,
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeLoadBalancers",
)

SCOPES: dict[Scope, ScopeSpec] = {
    Scope.ACCOUNT: ScopeSpec(AccountSubject, _account, ()),
    Scope.CLUSTER: ScopeSpec(ClusterSubject, _clusters, CLUSTER_LISTING),
    Scope.SERVICE: ScopeSpec(ServiceSubject, _services, _SERVICE_LISTING),
    Scope.TASKDEF: ScopeSpec(TaskDefSubject, _task_definitions, _TASK_DEFINITION_LISTING),
    Scope.CONTAINER: ScopeSpec(ContainerSubject, _containers, _TASK_DEFINITION_LISTING),
    # Every repository is listed by ECR alone; which are in use also depends on what ECS listed.
    Scope.REPO: ScopeSpec(RepositorySubject, _repositories, ("ecr:DescribeRepositories",), "ecr", "DescribeRepositories"),
    Scope.IN_USE_REPO: ScopeSpec(
        RepositorySubject, _in_use_repositories, (*_TASK_DEFINITION_LISTING, "ecr:DescribeRepositories"), "ecr", "DescribeRepositories"
    ),
    Scope.LB: ScopeSpec(LoadBalancerSubject, _load_balancers, _LOAD_BALANCING_LISTING, "elbv2", "DescribeTargetGroups"),
    Scope.TARGET_GROUP: ScopeSpec(TargetGroupSubject, _target_groups, _LOAD_BALANCING_LISTING, "elbv2", "DescribeTargetGroups"),
}


def subjects_for(scope: Scope, view: RegionView) -> Iterator[Subject]:
    """The subjects of `scope` in one region: the account always, others only where ECS was read."""
    if scope is not Scope.ACCOUNT and not view.has_ecs:
        return iter(())
    return SCOPES[scope].enumerate(view)
