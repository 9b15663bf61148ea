"""Amazon ECS: clusters, services, running tasks, in-use task definitions and their history,
capacity providers and account settings.

Cost per region: one paginated ListClusters, DescribeClusters per 100 clusters, per cluster a
paginated ListServices (100 a page) and DescribeServices per 10 services, a paginated ListTasks and
DescribeTasks per 100 tasks; DescribeTaskDefinition once per distinct in-use revision and once per
other ACTIVE family (its latest revision); for in-use families two paginated ListTaskDefinitions
(ACTIVE, INACTIVE) and a DescribeTaskDefinition per older revision up to `history_depth`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.config import AuditConfig
from ecs_audit.estate import family_arn, service_task_definition_arns
from ecs_audit.inventory.ecs import (
    FARGATE_PROVIDERS,
    AccountSetting,
    CapacityProvider,
    Cluster,
    ContainerInstance,
    EcsInventory,
    FamilyHistory,
    RevisionEnvironment,
    Service,
    Task,
    TaskDefinition,
)

OPERATIONS = (
    "ecs:ListClusters",
    "ecs:DescribeClusters",
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:ListTaskDefinitionFamilies",
    "ecs:ListTaskDefinitions",
    "ecs:DescribeTaskDefinition",
    "ecs:ListContainerInstances",
    "ecs:DescribeContainerInstances",
    "ecs:DescribeCapacityProviders",
    "ecs:ListAccountSettings",
)

SERVICE = "ecs"
CLUSTER_BATCH = 100  # DescribeClusters
SERVICE_BATCH = 10  # DescribeServices
TASK_BATCH = 100  # DescribeTasks
INSTANCE_BATCH = 100  # DescribeContainerInstances
# DescribeCapacityProviders takes 100 names but returns 10 a page: 10 names keep it to one call.
CAPACITY_PROVIDER_BATCH = 10


def collect_ecs(ctx: CollectContext, config: AuditConfig) -> EcsInventory:
    cluster_arns = ctx.paginate(SERVICE, "ListClusters", "clusterArns", PaginationConfig={"PageSize": 100})
    if cluster_arns == []:
        return EcsInventory()  # a region without clusters is recorded as empty after one call
    clusters = _clusters(ctx, cluster_arns or [])
    per_cluster = ctx.parallel(lambda c: (_services(ctx, c), _tasks(ctx, c), _container_instances(ctx, c)), clusters)
    services = [s for found, _, _ in per_cluster for s in found]
    tasks = [t for _, found, _ in per_cluster for t in found]
    instances = {c.cluster_arn: found for c, (_, _, found) in zip(clusters, per_cluster) if found}

    in_use = _in_use_arns(services, tasks)
    families = ctx.paginate(
        SERVICE,
        "ListTaskDefinitionFamilies",
        "families",
        # Without the list, task definitions outside the in-use set are unknown: a gap, not a PASS.
        resources=[ctx.arn(SERVICE, "task-definition/*")],
        status="ACTIVE",
        PaginationConfig={"PageSize": 100},
    )
    in_use_definitions = [td for td in ctx.parallel(lambda arn: _describe_task_definition(ctx, arn), in_use) if td]
    in_use_families = sorted({td.family for td in in_use_definitions} | {_family_of(arn) for arn in in_use})
    other_families = sorted(set(families or []) - set(in_use_families))
    latest_of_others = [td for td in ctx.parallel(lambda f: _describe_task_definition(ctx, f), other_families) if td]

    history = ctx.parallel(lambda f: _family_history(ctx, f, in_use, config.history_depth), in_use_families)

    return EcsInventory(
        clusters=clusters,
        services=services,
        task_definitions=sorted(in_use_definitions + latest_of_others, key=lambda td: (td.family, td.revision)),
        tasks=tasks,
        container_instances=instances,
        capacity_providers=_capacity_providers(ctx, clusters),
        account_settings=_account_settings(ctx),
        families=[h for h in history if h is not None],
    )


def _validated(ctx: CollectContext, model: type, item: dict[str, Any], operation: str, resource: str) -> Any:
    """A model from an API item; a malformed item is recorded, never a crash."""
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        ctx.record(SERVICE, operation, "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", [resource])
        return None


def _record_failures(ctx: CollectContext, operation: str, response: dict[str, Any]) -> None:
    """ECS describe calls report per-resource failures; MISSING just means it vanished meanwhile."""
    for failure in response.get("failures", []):
        if failure.get("reason") != "MISSING":
            ctx.record(
                SERVICE,
                operation,
                f"Failure:{failure.get('reason', 'unknown')}",
                failure.get("detail") or "",
                [failure["arn"]] if failure.get("arn") else [],
            )


def _clusters(ctx: CollectContext, arns: list[str]) -> list[Cluster]:
    clusters: list[Cluster] = []
    for batch in batched(sorted(arns), CLUSTER_BATCH):
        response = ctx.call(
            SERVICE,
            "DescribeClusters",
            resources=batch,
            clusters=batch,
            include=["SETTINGS", "CONFIGURATIONS", "TAGS", "STATISTICS"],
        )
        if not isinstance(response, dict):
            continue
        _record_failures(ctx, "DescribeClusters", response)
        for item in response.get("clusters", []):
            cluster = _validated(ctx, Cluster, item, "DescribeClusters", item.get("clusterArn", ""))
            if cluster is not None:
                clusters.append(cluster)
    return clusters


def _services(ctx: CollectContext, cluster: Cluster) -> list[Service]:
    arns = ctx.paginate(
        SERVICE,
        "ListServices",
        "serviceArns",
        resources=[cluster.cluster_arn],
        cluster=cluster.cluster_arn,
        PaginationConfig={"PageSize": 100},
    )
    services: list[Service] = []
    for batch in batched(sorted(arns or []), SERVICE_BATCH):
        response = ctx.call(
            SERVICE, "DescribeServices", resources=batch, cluster=cluster.cluster_arn, services=batch, include=["TAGS"]
        )
        if not isinstance(response, dict):
            continue
        _record_failures(ctx, "DescribeServices", response)
        for item in response.get("services", []):
            service = _validated(ctx, Service, item, "DescribeServices", item.get("serviceArn", ""))
            if service is not None:
                services.append(service)
    return services


def _tasks(ctx: CollectContext, cluster: Cluster) -> list[Task]:
    arns = ctx.paginate(
        SERVICE,
        "ListTasks",
        "taskArns",
        resources=[cluster.cluster_arn],
        cluster=cluster.cluster_arn,
        desiredStatus="RUNNING",
        PaginationConfig={"PageSize": 100},
    )
    tasks: list[Task] = []
    for batch in batched(sorted(arns or []), TASK_BATCH):
        # A failed DescribeTasks leaves the cluster's task list incomplete: attribute it to the cluster.
        response = ctx.call(SERVICE, "DescribeTasks", resources=[cluster.cluster_arn], cluster=cluster.cluster_arn, tasks=batch)
        if not isinstance(response, dict):
            continue
        _record_failures(ctx, "DescribeTasks", response)
        for item in response.get("tasks", []):
            task = _validated(ctx, Task, item, "DescribeTasks", cluster.cluster_arn)
            if task is not None:
                tasks.append(task)
    return tasks


def _container_instances(ctx: CollectContext, cluster: Cluster) -> list[ContainerInstance]:
    if cluster.registered_container_instances_count == 0:
        return []  # Fargate-only clusters: no call needed
    arns = ctx.paginate(
        SERVICE,
        "ListContainerInstances",
        "containerInstanceArns",
        resources=[cluster.cluster_arn],
        cluster=cluster.cluster_arn,
        PaginationConfig={"PageSize": 100},
    )
    instances: list[ContainerInstance] = []
    for batch in batched(sorted(arns or []), INSTANCE_BATCH):
        response = ctx.call(
            SERVICE, "DescribeContainerInstances", resources=[cluster.cluster_arn], cluster=cluster.cluster_arn, containerInstances=batch
        )
        if not isinstance(response, dict):
            continue
        _record_failures(ctx, "DescribeContainerInstances", response)
        for item in response.get("containerInstances", []):
            instance = _validated(ctx, ContainerInstance, item, "DescribeContainerInstances", cluster.cluster_arn)
            if instance is not None:
                instances.append(instance)
    return instances


def _in_use_arns(services: list[Service], tasks: list[Task]) -> list[str]:
    arns: set[str] = set()
    for service in services:
        if service.status in (None, "ACTIVE"):
            arns.update(service_task_definition_arns(service))
    arns.update(t.task_definition_arn for t in tasks if t.task_definition_arn)
    return sorted(arns)


def _family_of(reference: str) -> str:
    """Family of an ARN or family:revision reference."""
    return reference.rsplit("/", 1)[-1].split(":", 1)[0]


def _revision_of(arn: str) -> int:
    return int(arn.rsplit(":", 1)[1])


def _describe_task_definition(
    ctx: CollectContext, reference: str, *, context: str | None = None
) -> TaskDefinition | None:
    """`reference` is an ARN, family:revision, or a family (its latest ACTIVE revision)."""
    resource = reference if reference.startswith("arn:") else ctx.arn(SERVICE, f"task-definition/{reference}")
    if context == "history":
        resource = family_arn(resource)
    response = ctx.call(
        SERVICE, "DescribeTaskDefinition", resources=[resource], context=context, taskDefinition=reference, include=["TAGS"]
    )
    if not isinstance(response, dict) or "taskDefinition" not in response:
        return None
    item = dict(response["taskDefinition"])
    item["tags"] = response.get("tags", [])
    return _validated(ctx, TaskDefinition, item, "DescribeTaskDefinition", reference)


def _family_history(ctx: CollectContext, family: str, in_use: list[str], depth: int) -> FamilyHistory | None:
    in_use_of_family = [arn for arn in in_use if _family_of(arn) == family]
    scope = [ctx.arn(SERVICE, f"task-definition/{family}")]
    revisions: dict[str, list[int]] = {}
    for status in ("ACTIVE", "INACTIVE"):
        arns = ctx.paginate(
            SERVICE,
            "ListTaskDefinitions",
            "taskDefinitionArns",
            resources=scope,
            context="history",
            familyPrefix=family,
            status=status,
            PaginationConfig={"PageSize": 100},
        )
        if arns is None:
            return None
        # familyPrefix is documented as the full family name; filter anyway, ARNs are cheap to check.
        revisions[status] = sorted(_revision_of(a) for a in arns if _family_of(a) == family)
    in_use_revisions = {_revision_of(arn) for arn in in_use_of_family}
    older = sorted(
        ({r: "ACTIVE" for r in revisions["ACTIVE"]} | {r: "INACTIVE" for r in revisions["INACTIVE"]}).items(),
        reverse=True,
    )
    candidates = [(r, status) for r, status in older if r not in in_use_revisions]
    described = ctx.parallel(lambda item: _revision_environment(ctx, family, item[0], item[1]), candidates[:depth])
    return FamilyHistory(
        family=family,
        active_revisions=revisions["ACTIVE"],
        inactive_revisions=revisions["INACTIVE"],
        older_revisions=[d for d in described if d is not None],
        history_truncated=len(candidates) > depth or any(d is None for d in described),
    )


def _revision_environment(ctx: CollectContext, family: str, revision: int, status: str) -> RevisionEnvironment | None:
    td = _describe_task_definition(ctx, f"{family}:{revision}", context="history")
    if td is None:
        return None
    return RevisionEnvironment(
        task_definition_arn=td.task_definition_arn,
        revision=td.revision,
        status=td.status or status,
        containers={c.name: list(c.environment) for c in td.container_definitions},
        images={c.name: c.image for c in td.container_definitions},
    )


def _capacity_providers(ctx: CollectContext, clusters: list[Cluster]) -> list[CapacityProvider]:
    names = sorted({p for c in clusters for p in c.capacity_providers} - FARGATE_PROVIDERS)
    providers: list[CapacityProvider] = []
    for batch in batched(names, CAPACITY_PROVIDER_BATCH):
        users = [c.cluster_arn for c in clusters if set(c.capacity_providers) & set(batch)]
        response = ctx.call(SERVICE, "DescribeCapacityProviders", resources=users, capacityProviders=batch)
        if not isinstance(response, dict):
            continue
        _record_failures(ctx, "DescribeCapacityProviders", response)
        for item in response.get("capacityProviders", []):
            provider = _validated(ctx, CapacityProvider, item, "DescribeCapacityProviders", item.get("name", ""))
            if provider is not None:
                providers.append(provider)
    return providers


def _account_settings(ctx: CollectContext) -> list[AccountSetting]:
    # One unfiltered call: filtering by name fails for names some endpoints do not know.
    items = ctx.paginate(SERVICE, "ListAccountSettings", "settings", effectiveSettings=True, PaginationConfig={"PageSize": 10})
    settings = []
    for item in items or []:
        setting = _validated(ctx, AccountSetting, item, "ListAccountSettings", "")
        if setting is not None:
            settings.append(setting)
    return settings
