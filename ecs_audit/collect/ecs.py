"""Amazon ECS: clusters, services, running tasks, in-use task definitions and their history,
capacity providers and account settings.

Cost per region: one paginated ListClusters, DescribeClusters per 100 clusters, per cluster a
paginated ListServices (100 a page) and DescribeServices per 10 services, a paginated ListTasks and
DescribeTasks per 100 tasks; ListTaskDefinitions over the whole region, ACTIVE and INACTIVE, 100
ARNs a page (it also names the ACTIVE families; see _plan_history for when it falls
back to listing per family); DescribeTaskDefinition once per distinct in-use revision, once per
other ACTIVE family (its latest revision) and once per other revision of an in-use family: newer
than the deployed one first, then older ones, each newest first, up to `history_depth` per family and
`history_region_budget` in all (_history_to_read). Only in clusters with an ECS Managed Instances
capacity provider: a paginated ListDaemons, DescribeDaemon per daemon and DescribeDaemonRevisions per
20 current revisions (their images: SECURITY-011). Independent calls run concurrently (CollectContext.parallel).

Order (the task-definition reads share one paced bucket, so the order decides who waits): the in-use
revisions as each cluster's services and tasks are described (then the IN_USE step); then the latest
revision of the other families and each service's rollback target (the previous ACTIVE revision of
its family), after which the other collectors get the DEFINITIONS step (ECR's images need no more);
then the rest of the history. The calls are the same in any order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.collect.pages import BatchDescribe, describe_batches, pages, validated
from ecs_audit.config import AuditConfig
from ecs_audit.interrupt import worker_pool
from ecs_audit.inventory.errors import NOT_SELECTED
from ecs_audit.inventory.parts import CLUSTERS, DEFINITIONS, IN_USE, LISTED, SERVICES, source_of
from ecs_audit.inventory.arns import family_arn
from ecs_audit.inventory.usage import in_use_arns, rollback_revision
from ecs_audit.inventory.ecs import (
    DAEMON_OPERATIONS,
    FARGATE_PROVIDERS,
    AccountSetting,
    CapacityProvider,
    Cluster,
    ContainerInstance,
    Daemon,
    DaemonRevision,
    DaemonRevisionImages,
    EcsInventory,
    FamilyHistory,
    RevisionEnvironment,
    Service,
    Task,
    TaskDefinition,
    managed_instances_clusters,
    provider_keys,
)

SOURCE = source_of("ecs")
SERVICE = SOURCE.client
CLUSTER_BATCH = 100  # DescribeClusters
SERVICE_BATCH = 10  # DescribeServices
TASK_BATCH = 100  # DescribeTasks
INSTANCE_BATCH = 100  # DescribeContainerInstances
# DescribeCapacityProviders takes 100 names but returns 10 a page: 10 names keep it to one call.
CAPACITY_PROVIDER_BATCH = 10
DAEMON_REVISION_BATCH = 20  # DescribeDaemonRevisions daemonRevisionArns


def collect_ecs(
    ctx: CollectContext,
    config: AuditConfig,
    *,
    on_step: Callable[[str, EcsInventory], None] | None = None,
    on_definition: Callable[[TaskDefinition], None] | None = None,
) -> EcsInventory:
    """`on_step` receives what is known after each step but the last (LISTED, CLUSTERS, SERVICES: see
    inventory/parts.py) as soon as it is known: collectors that need no more start then.
    `on_definition` receives each task definition in use as soon as it is described."""
    on_step = on_step or (lambda step, known: None)
    cluster_arns = ctx.paginate(SERVICE, "ListClusters", "clusterArns", PaginationConfig={"PageSize": 100})
    if cluster_arns == []:
        return EcsInventory()  # a region without clusters is recorded as empty after one call
    if cluster_arns:
        on_step(LISTED, EcsInventory())
    # Independent calls overlap: account settings while the clusters are described, then every
    # cluster's services, tasks and instances at once, with the capacity providers; a cluster's task
    # definitions in use are described as soon as its services (or tasks) are, whatever the others.
    clusters, settings = _run_all(ctx, lambda: _clusters(ctx, cluster_arns or []), lambda: _account_settings(ctx))
    on_step(CLUSTERS, EcsInventory(clusters=clusters))
    with worker_pool(max(ctx.max_workers, ctx.max_in_flight), "task-definition") as pool:
        described: dict[str, Future[TaskDefinition | None]] = {}
        lock = threading.Lock()

        def describe(arn: str) -> TaskDefinition | None:
            td = _describe_task_definition(ctx, arn)
            if td is not None and on_definition is not None:
                on_definition(td)
            return td

        def describe_in_use(services: list[Service], tasks: list[Task]) -> None:
            with lock:
                for arn in sorted(in_use_arns(services, tasks) - described.keys()):
                    described[arn] = pool.submit(describe, arn)

        def services_of(cluster: Cluster) -> list[Service]:
            found = _services(ctx, cluster)
            describe_in_use(found, [])
            return found

        def tasks_of(cluster: Cluster) -> list[Task]:
            found = _tasks(ctx, cluster)
            describe_in_use([], found)
            return found

        jobs: list[Callable[[], Any]] = [lambda: _capacity_providers(ctx, clusters)]
        for cluster in clusters:
            jobs += [
                lambda c=cluster: services_of(c),
                lambda c=cluster: tasks_of(c),
                lambda c=cluster: _container_instances(ctx, c),
            ]
        providers, *per_cluster = _run_all(ctx, *jobs)
        services = [s for found in per_cluster[0::3] for s in found]
        tasks = [t for found in per_cluster[1::3] for t in found]
        instances = {c.cluster_arn: found for c, found in zip(clusters, per_cluster[2::3]) if found}
        on_step(
            SERVICES,
            EcsInventory(
                clusters=clusters, services=services, tasks=tasks, container_instances=instances,
                capacity_providers=providers, account_settings=settings,
            ),
        )

        in_use = _in_use_arns(services, tasks)
        in_use_families = sorted({_family_of(arn) for arn in in_use})

        def first_reads() -> tuple[_HistoryPlan, list[TaskDefinition], dict[tuple[str, int], RevisionEnvironment | None]]:
            # What the other collectors read comes before the rest of the history: the latest revision
            # of the other families and the services' rollback targets (their images are ECR's).
            plan = _plan_history(ctx, in_use, in_use_families, config.history_depth, config.history_region_budget)
            targets = _rollback_targets(plan, services)
            # After the revisions in use, which share their bucket: IN_USE (ECR's images in use and
            # their scan findings, sent ahead) comes as early as the bucket allows.
            for arn in in_use:
                described[arn].exception()
            latest, read = _run_all(
                ctx,
                lambda: _latest_of(ctx, plan.other_families),
                lambda: _read_revisions(ctx, [w for w in plan.wanted if (w[0], w[1]) in targets]),
            )
            return plan, latest, read

        def in_use_described() -> list[TaskDefinition]:
            found = [td for td in (described[arn].result() for arn in in_use) if td]
            on_step(
                IN_USE,
                EcsInventory(
                    clusters=clusters, services=services, tasks=tasks, container_instances=instances,
                    capacity_providers=providers, account_settings=settings,
                    task_definitions=sorted(found, key=lambda td: (td.family, td.revision)),
                ),
            )
            return found

        in_use_definitions, (plan, latest_of_others, environments), daemons = _run_all(
            ctx, in_use_described, first_reads, lambda: _managed_daemons(ctx, clusters, providers)
        )

    known = EcsInventory(
        clusters=clusters,
        services=services,
        task_definitions=sorted(in_use_definitions + latest_of_others, key=lambda td: (td.family, td.revision)),
        tasks=tasks,
        container_instances=instances,
        capacity_providers=providers,
        account_settings=settings,
        families=_histories(plan, environments),
        daemons=daemons,
    )
    on_step(DEFINITIONS, known)
    environments.update(_read_revisions(ctx, [w for w in plan.wanted if (w[0], w[1]) not in environments]))
    return known.model_copy(update={"families": _histories(plan, environments)})


def _run_all(ctx: CollectContext, *steps: Callable[[], Any]) -> list[Any]:
    """Run independent steps concurrently; their results in order."""
    return ctx.parallel(lambda step: step(), steps)


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


DESCRIBE_CLUSTERS = BatchDescribe(
    SERVICE, "DescribeClusters", CLUSTER_BATCH, "clusters", "clusters", Cluster, item_arn="clusterArn",
    params={"include": ["SETTINGS", "CONFIGURATIONS", "TAGS", "STATISTICS"]}, on_response=_record_failures,
)
DESCRIBE_SERVICES = BatchDescribe(
    SERVICE, "DescribeServices", SERVICE_BATCH, "services", "services", Service, item_arn="serviceArn",
    params={"include": ["TAGS"]}, on_response=_record_failures,
)
# A failed DescribeTasks (or DescribeContainerInstances) leaves the cluster's list incomplete: it is
# recorded against the cluster.
DESCRIBE_TASKS = BatchDescribe(SERVICE, "DescribeTasks", TASK_BATCH, "tasks", "tasks", Task, on_response=_record_failures)
DESCRIBE_CONTAINER_INSTANCES = BatchDescribe(
    SERVICE, "DescribeContainerInstances", INSTANCE_BATCH, "containerInstances", "containerInstances", ContainerInstance,
    on_response=_record_failures,
)


def _clusters(ctx: CollectContext, arns: list[str]) -> list[Cluster]:
    return describe_batches(ctx, DESCRIBE_CLUSTERS, arns)


def _services(ctx: CollectContext, cluster: Cluster) -> list[Service]:
    arns = ctx.paginate(
        SERVICE,
        "ListServices",
        "serviceArns",
        resources=[cluster.cluster_arn],
        cluster=cluster.cluster_arn,
        PaginationConfig={"PageSize": 100},
    )
    return describe_batches(ctx, DESCRIBE_SERVICES, arns or [], parent=cluster.cluster_arn, cluster=cluster.cluster_arn)


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
    return describe_batches(ctx, DESCRIBE_TASKS, arns or [], parent=cluster.cluster_arn, cluster=cluster.cluster_arn)


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
    return describe_batches(ctx, DESCRIBE_CONTAINER_INSTANCES, arns or [], parent=cluster.cluster_arn, cluster=cluster.cluster_arn)


def _in_use_arns(services: list[Service], tasks: list[Task]) -> list[str]:
    return sorted(in_use_arns(services, tasks))


def _family_of(reference: str) -> str:
    """Family of an ARN or family:revision reference."""
    return reference.rsplit("/", 1)[-1].split(":", 1)[0]


def _revision_of(reference: str) -> int | None:
    """The revision of an ARN or family:revision reference; None for a bare family (AWS always answers
    full ARNs, but an endpoint that echoes what it was given, such as moto after UpdateService, does not)."""
    _, _, revision = reference.rsplit("/", 1)[-1].partition(":")
    return int(revision) if revision.isdigit() else None


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
    return validated(ctx, SERVICE, "DescribeTaskDefinition", TaskDefinition, item, [reference])


# A region-wide listing that ran out of its page budget.
_INCOMPLETE = object()
STATUSES = ("ACTIVE", "INACTIVE")


@dataclass
class _HistoryPlan:
    """What the region-wide listing found: the other ACTIVE families (their latest revision is read),
    the in-use families' revisions, and which of those to describe (`wanted`, with the limits that
    left others unread)."""

    other_families: list[str]
    revisions: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # status -> family -> revisions
    candidates: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # family -> (revision, status)
    wanted: list[tuple[str, int, str]] = field(default_factory=list)  # (family, revision, status)
    limits: dict[str, str] = field(default_factory=dict)


def _plan_history(ctx: CollectContext, in_use: list[str], in_use_families: list[str], depth: int, region_budget: int) -> _HistoryPlan:
    """The latest revision of every ACTIVE family that runs nowhere is to be read, and the revision
    history of the families in use (their other revisions described: see _history_to_read for which).

    The revisions are listed for the whole region (ListTaskDefinitions without familyPrefix, ACTIVE
    and INACTIVE side by side, 100 ARNs a page); the ACTIVE list also names every ACTIVE family. For
    most estates that is far fewer calls than two listings per in-use family plus
    ListTaskDefinitionFamilies. Each region-wide listing may take as many pages as the per-family
    way would cost; a region with more (long histories of families that run nowhere) is listed per
    family after that, so the listing never costs much more than about twice the per-family way."""
    if not in_use_families:
        return _HistoryPlan(other_families=_active_families(ctx) or [])
    scope = [ctx.arn(SERVICE, f"task-definition/{family}") for family in in_use_families]
    budgets = {"ACTIVE": len(in_use_families) + 1, "INACTIVE": len(in_use_families)}
    listed = dict(zip(STATUSES, _run_all(ctx, *(lambda s=status: _list_revisions(ctx, s, budgets[s], scope) for status in STATUSES))))

    revisions: dict[str, dict[str, list[int]]] = {status: {} for status in STATUSES}  # status -> family -> revisions
    missing: set[str] = set()  # families whose revisions could not be listed (failure recorded)
    for status, arns in listed.items():
        if isinstance(arns, list):
            by_family: dict[str, list[int]] = {family: [] for family in in_use_families}
            for arn in arns:
                revision = _revision_of(arn)
                if _family_of(arn) in by_family and revision is not None:
                    by_family[_family_of(arn)].append(revision)
            revisions[status] = {family: sorted(found) for family, found in by_family.items()}
        elif arns is None:
            missing.update(in_use_families)
        else:
            per_family = ctx.parallel(lambda family, s=status: _list_family_revisions(ctx, family, s), in_use_families)
            for family, found in zip(in_use_families, per_family):
                if found is None:
                    missing.add(family)
                else:
                    revisions[status][family] = found

    active = listed["ACTIVE"]
    families = sorted({_family_of(arn) for arn in active}) if isinstance(active, list) else _active_families(ctx)
    other_families = sorted(set(families or []) - set(in_use_families))

    in_use_revisions = {(_family_of(arn), revision) for arn in in_use if (revision := _revision_of(arn)) is not None}
    # A family referenced only without a revision counts as deployed at 0: all its revisions are newer.
    deployed = {family: max((r for f, r in in_use_revisions if f == family), default=0) for family in in_use_families}
    candidates: dict[str, list[tuple[int, str]]] = {}
    for family in in_use_families:
        if family in missing:
            continue
        older = sorted(
            ({r: "ACTIVE" for r in revisions["ACTIVE"][family]} | {r: "INACTIVE" for r in revisions["INACTIVE"][family]}).items(),
            reverse=True,
        )
        candidates[family] = [(r, status) for r, status in older if (family, r) not in in_use_revisions]
    if ctx.wants(f"{SERVICE}:ListTaskDefinitions") or ctx.wants(f"{SERVICE}:DescribeTaskDefinition"):
        wanted, limits = _history_to_read(candidates, deployed, depth, region_budget)
    else:
        # No selected check reads older revisions (SECURITY-017, CICD-006/007 need the listing).
        wanted, limits = [], {family: NOT_SELECTED for family, found in candidates.items() if found}
        if limits:
            ctx.not_collected(SERVICE, "DescribeTaskDefinition")
    return _HistoryPlan(other_families, revisions, candidates, wanted, limits)


def _rollback_targets(plan: _HistoryPlan, services: list[Service]) -> set[tuple[str, int]]:
    """The (family, revision) rollback targets of the services (inventory/usage.py), as ECR finds them
    in the families' histories."""
    active = plan.revisions.get("ACTIVE", {})
    found = (rollback_revision(s, lambda family: active.get(family) if family in plan.candidates else None) for s in services)
    return {target for target in found if target is not None}


def _read_revisions(ctx: CollectContext, items: list[tuple[str, int, str]]) -> dict[tuple[str, int], RevisionEnvironment | None]:
    """Describe these older revisions: (family, revision) -> what was read (None: failed, recorded)."""
    read = ctx.parallel(lambda item: _revision_environment(ctx, *item), items)
    return {(family, revision): environment for (family, revision, _), environment in zip(items, read)}


def _histories(plan: _HistoryPlan, environments: dict[tuple[str, int], RevisionEnvironment | None]) -> list[FamilyHistory]:
    """Each in-use family's history from the revisions read so far (`environments`); a wanted
    revision not read yet is neither described nor failed."""
    history = []
    wanted = {(family, r) for family, r, _ in plan.wanted}
    for family, found in plan.candidates.items():
        mine = [(f, r) for f, r, _ in plan.wanted if f == family and (f, r) in environments]
        failed = [r for f, r in mine if environments[(f, r)] is None]
        skipped = [r for r, _ in found if (family, r) not in wanted]
        history.append(
            FamilyHistory(
                family=family,
                active_revisions=plan.revisions["ACTIVE"][family],
                inactive_revisions=plan.revisions["INACTIVE"][family],
                older_revisions=[e for e in (environments[key] for key in mine) if e is not None],
                history_truncated=bool(skipped or failed),
                unread_revisions=sorted(failed + skipped),
                failed_revisions=sorted(failed),
                unread_limit=plan.limits.get(family, ""),
            )
        )
    return history


def _history_to_read(
    candidates: dict[str, list[tuple[int, str]]], deployed: dict[str, int], depth: int, region_budget: int
) -> tuple[list[tuple[str, int, str]], dict[str, str]]:
    """Which revisions to describe (family, revision, status), and per family the limit that left
    some unread. Each family's revisions are ranked: those newer than the deployed one first (newest
    first: the likeliest to be deployed next), then the older ones, newest first. At most `depth` per
    family are read, and all families together within `region_budget` DescribeTaskDefinition calls,
    shared round-robin by rank (every family's first revision before any family's second), so one
    long CI history cannot starve the other families. Newer revisions count like older ones: CI that
    registers every build while deploys lag can leave thousands above the deployed one. What is
    left over is named unread (SECURITY-017 WARNs naming it)."""
    ranked: list[tuple[int, str, int, str]] = []  # (rank, family, revision, status)
    limits: dict[str, list[str]] = {}
    for family, found in candidates.items():
        newer = sorted(((r, s) for r, s in found if r > deployed[family]), reverse=True)
        older = sorted(((r, s) for r, s in found if r <= deployed[family]), reverse=True)
        order = newer + older
        ranked += [(rank, family, r, s) for rank, (r, s) in enumerate(order[:depth])]
        if len(order) > depth:
            limits.setdefault(family, []).append(f"history_depth {depth}")
    ranked.sort(key=lambda item: (item[0], item[1]))
    wanted = [(family, r, s) for _, family, r, s in ranked[:region_budget]]
    for _, family, _, _ in ranked[region_budget:]:
        if f"history_region_budget {region_budget}" not in limits.setdefault(family, []):
            limits[family].append(f"history_region_budget {region_budget}")
    return wanted, {family: ", ".join(found) for family, found in limits.items()}


def _latest_of(ctx: CollectContext, families: list[str] | None) -> list[TaskDefinition]:
    """The latest ACTIVE revision of each family (DescribeTaskDefinition by family name)."""
    return [td for td in ctx.parallel(lambda family: _describe_task_definition(ctx, family), families or []) if td]


def _active_families(ctx: CollectContext) -> list[str] | None:
    return ctx.paginate(
        SERVICE,
        "ListTaskDefinitionFamilies",
        "families",
        # Without the list, task definitions outside the in-use set are unknown: a gap, not a PASS.
        resources=[ctx.arn(SERVICE, "task-definition/*")],
        status="ACTIVE",
        PaginationConfig={"PageSize": 100},
    )


def _list_revisions(ctx: CollectContext, status: str, budget: int, scope: list[str]) -> Any:
    """Every task definition ARN of `status` in the region; None after a recorded failure (against the
    in-use families, whose history it was for); _INCOMPLETE when `budget` pages did not cover it."""
    arns: list[str] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(budget):
        page = ctx.call(
            SERVICE, "ListTaskDefinitions", resources=scope, context="history", status=status, maxResults=100, **({"nextToken": token} if token else {})
        )
        if not isinstance(page, dict):
            return None
        arns.extend(page.get("taskDefinitionArns", []))
        token = page.get("nextToken")
        if not token:
            return arns
        if token in seen:
            ctx.record(SERVICE, "ListTaskDefinitions", "PaginationLoop", "the endpoint kept returning the same page token", scope, "history")
            return None
        seen.add(token)
    return _INCOMPLETE


def _list_family_revisions(ctx: CollectContext, family: str, status: str) -> list[int] | None:
    arns = ctx.paginate(
        SERVICE,
        "ListTaskDefinitions",
        "taskDefinitionArns",
        resources=[ctx.arn(SERVICE, f"task-definition/{family}")],
        context="history",
        familyPrefix=family,
        status=status,
        PaginationConfig={"PageSize": 100},
    )
    if arns is None:
        return None
    # familyPrefix is documented as the full family name; filter anyway, ARNs are cheap to check.
    return sorted(r for a in arns if _family_of(a) == family and (r := _revision_of(a)) is not None)


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
    """The clusters' capacity providers (Fargate's aside), 10 names a call. An ECS Managed Instances
    provider belongs to one cluster and is returned only when asked with that cluster
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeCapacityProviders.html,
    `cluster`): a provider the first calls do not return is asked again with its cluster. One still not
    returned is recorded against its cluster, so where its tasks run is unknown, not taken for EC2."""
    names = sorted({p for c in clusters for p in c.capacity_providers} - FARGATE_PROVIDERS)
    providers: list[CapacityProvider] = []
    unanswered: set[str] = set()  # names whose call failed (recorded against their clusters)
    for batch in batched(names, CAPACITY_PROVIDER_BATCH):
        users = [c.cluster_arn for c in clusters if set(c.capacity_providers) & set(batch)]
        found = _describe_providers(ctx, users, capacityProviders=batch)
        if found is None:
            unanswered.update(batch)
        providers += found or []
    known = unanswered | provider_keys(providers)

    def of_cluster(cluster: Cluster) -> list[CapacityProvider]:
        missing = sorted(set(cluster.capacity_providers) - FARGATE_PROVIDERS - known)
        found: list[CapacityProvider] = []
        for batch in batched(missing, CAPACITY_PROVIDER_BATCH):
            found += _describe_providers(ctx, [cluster.cluster_arn], cluster=cluster.cluster_name, capacityProviders=batch) or []
        described = provider_keys(found)
        if absent := [name for name in missing if name not in described]:
            ctx.record(
                SERVICE, "DescribeCapacityProviders", "NotReturned",
                f"capacity provider {', '.join(absent)} of cluster {cluster.cluster_name} was not returned, even asked with the cluster",
                [cluster.cluster_arn],
            )
        return found

    for found in ctx.parallel(of_cluster, [c for c in clusters if set(c.capacity_providers) - FARGATE_PROVIDERS - known]):
        providers += found
    return providers


def _describe_providers(ctx: CollectContext, users: list[str], **params: Any) -> list[CapacityProvider] | None:
    """The capacity providers one call returns (None if it failed: recorded against `users`)."""
    response = ctx.call(SERVICE, "DescribeCapacityProviders", resources=users, **params)
    if not isinstance(response, dict):
        return None
    _record_failures(ctx, "DescribeCapacityProviders", response)
    found = []
    for item in response.get("capacityProviders", []):
        provider = validated(ctx, SERVICE, "DescribeCapacityProviders", CapacityProvider, item, [item.get("name", "")])
        if provider is not None:
            found.append(provider)
    return found


def _managed_daemons(ctx: CollectContext, clusters: list[Cluster], providers: list[CapacityProvider]) -> list[Daemon]:
    """The managed daemons of clusters with ECS Managed Instances capacity providers: GuardDuty Runtime
    Monitoring does not watch those instances, so an agent there runs as a daemon or in the task
    (SECURITY-011). No call for clusters without such a provider. A failure is recorded against the cluster."""
    targets = managed_instances_clusters(clusters, providers)
    if not targets or not ctx.collects(SERVICE, *DAEMON_OPERATIONS):
        return []

    def of_cluster(cluster: Cluster) -> list[Daemon]:
        summaries = pages(
            ctx, SERVICE, "ListDaemons", "daemonSummariesList", input_token="nextToken", output_token="nextToken",
            resources=[cluster.cluster_arn], clusterArn=cluster.cluster_arn,
        )
        arns = sorted({s["daemonArn"] for s in summaries or [] if isinstance(s, dict) and s.get("daemonArn")})
        details = [d for d in ctx.parallel(lambda arn: _daemon_detail(ctx, cluster, arn), arns) if d is not None]
        images = _revision_images(ctx, cluster, [r["arn"] for d in details for r in d.get("currentRevisions") or [] if r.get("arn")])
        return [_daemon(detail, images) for detail in details]

    return sorted((d for found in ctx.parallel(of_cluster, targets) for d in found), key=lambda d: d.daemon_arn)


def _daemon_detail(ctx: CollectContext, cluster: Cluster, arn: str) -> dict[str, Any] | None:
    response = ctx.call(SERVICE, "DescribeDaemon", resources=[cluster.cluster_arn], daemonArn=arn)
    detail = response.get("daemon") if isinstance(response, dict) else None
    return detail if isinstance(detail, dict) and detail.get("daemonArn") else None


DESCRIBE_DAEMON_REVISIONS = BatchDescribe(
    SERVICE, "DescribeDaemonRevisions", DAEMON_REVISION_BATCH, "daemonRevisionArns", "daemonRevisions", DaemonRevisionImages,
)


def _revision_images(ctx: CollectContext, cluster: Cluster, arns: list[str]) -> dict[str, list[str]]:
    """Each daemon revision's container images, 20 revisions a call. A revision not described (a failed
    call, a reported failure, even MISSING) is recorded against the cluster: its images are unknown, so
    the cluster's daemons are not fully known (the rules ask by cluster)."""

    def against_cluster(ctx: CollectContext, operation: str, response: dict[str, Any]) -> None:
        for failure in response.get("failures") or []:
            detail = f"daemon revision {failure.get('arn') or '?'}: {failure.get('detail') or failure.get('reason') or 'not described'}"
            ctx.record(SERVICE, operation, f"Failure:{failure.get('reason', 'unknown')}", detail, [cluster.cluster_arn])

    spec = replace(DESCRIBE_DAEMON_REVISIONS, on_response=against_cluster)
    found = describe_batches(ctx, spec, set(arns), parent=cluster.cluster_arn)
    return {revision.daemon_revision_arn: sorted(i.image for i in revision.container_images if i.image) for revision in found}


def _daemon(detail: dict[str, Any], images: dict[str, list[str]]) -> Daemon:
    revisions = [
        DaemonRevision(
            arn=r["arn"],
            capacity_providers=sorted(p["arn"] for p in r.get("capacityProviders") or [] if p.get("arn")),
            instances_without={p["arn"]: p["withoutDaemonCount"] for p in r.get("capacityProviders") or [] if p.get("arn") and p.get("withoutDaemonCount")},
            images=images.get(r["arn"], []),
        )
        for r in detail.get("currentRevisions") or []
        if r.get("arn")
    ]
    return Daemon(daemon_arn=detail["daemonArn"], cluster_arn=detail.get("clusterArn"), status=detail.get("status"), revisions=revisions)


def _account_settings(ctx: CollectContext) -> list[AccountSetting]:
    # One unfiltered call: filtering by name fails for names some endpoints do not know.
    items = ctx.paginate(SERVICE, "ListAccountSettings", "settings", effectiveSettings=True, PaginationConfig={"PageSize": 10})
    settings = []
    for item in items or []:
        setting = validated(ctx, SERVICE, "ListAccountSettings", AccountSetting, item, [""])
        if setting is not None:
            settings.append(setting)
    return settings
