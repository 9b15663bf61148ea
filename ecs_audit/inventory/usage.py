"""Which task definitions are in use: the one rule the collectors (what to describe) and the checks
(what to judge) share.

A task definition is in use when an ACTIVE service references it (as its own, through a deployment or
through a task set) or a running task was started from it. Scheduled tasks (EventBridge targets) will
join here when they are collected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ecs_audit.inventory.ecs import EcsInventory, Service, Task, TaskDefinition


def service_task_definition_arns(service: Service) -> list[str]:
    """Every task definition a service references: its own, its deployments' and its task sets'."""
    arns: list[str] = []
    for arn in [service.task_definition, *(d.task_definition for d in service.deployments), *(t.task_definition for t in service.task_sets)]:
        if arn and arn not in arns:
            arns.append(arn)
    return arns


def _counts(service: Service) -> bool:
    """Only an ACTIVE service keeps its task definitions in use (a DRAINING one is going away)."""
    return service.status in (None, "ACTIVE")


def in_use_arns(services: Iterable[Service], tasks: Iterable[Task]) -> frozenset[str]:
    """The task definition ARNs in use by these services and running tasks."""
    arns: set[str] = set()
    for service in services:
        if _counts(service):
            arns.update(service_task_definition_arns(service))
    arns.update(t.task_definition_arn for t in tasks if t.task_definition_arn)
    return frozenset(arns)


def rollback_revision(service: Service, active_revisions: Callable[[str], Iterable[int] | None]) -> tuple[str, int] | None:
    """(family, revision) of an ACTIVE service's rollback target: the previous ACTIVE revision of its
    task definition's family (`active_revisions(family)`: None when the family's revisions are not
    known). The ECS collector reads these first; ECR describes their images (CICD-006)."""
    if service.status not in (None, "ACTIVE") or not service.task_definition:
        return None
    family, _, revision = service.task_definition.rsplit("/", 1)[-1].rpartition(":")
    active = active_revisions(family)
    if active is None or not revision.isdigit():
        return None
    previous = max((r for r in active if r < int(revision)), default=None)
    return None if previous is None else (family, previous)


@dataclass(frozen=True)
class TaskDefinitionUsage:
    """Who uses each task definition of one region."""

    # Task definition ARN -> the ACTIVE services that reference it, in inventory order.
    services: dict[str, list[Service]] = field(default_factory=dict)
    # Task definition ARN -> the running tasks started from it, in inventory order.
    tasks: dict[str, list[Task]] = field(default_factory=dict)
    in_use_arns: frozenset[str] = frozenset()

    def is_in_use(self, td: TaskDefinition) -> bool:
        return td.task_definition_arn in self.in_use_arns

    def services_using(self, td: TaskDefinition) -> list[Service]:
        return list(self.services.get(td.task_definition_arn, []))

    def tasks_using(self, td: TaskDefinition) -> list[Task]:
        return list(self.tasks.get(td.task_definition_arn, []))


def usage_of(ecs: EcsInventory | None) -> TaskDefinitionUsage:
    """The usage of every task definition of one region's ECS inventory (none when ECS was not read)."""
    if ecs is None:
        return TaskDefinitionUsage()
    services: dict[str, list[Service]] = defaultdict(list)
    for service in ecs.services:
        if not _counts(service):
            continue
        for arn in service_task_definition_arns(service):
            if service not in services[arn]:
                services[arn].append(service)
    tasks: dict[str, list[Task]] = defaultdict(list)
    for task in ecs.tasks:
        if task.task_definition_arn:
            tasks[task.task_definition_arn].append(task)
    return TaskDefinitionUsage(dict(services), dict(tasks), in_use_arns(ecs.services, ecs.tasks))
