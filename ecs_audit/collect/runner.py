"""Run the collectors over accounts and regions and assemble the inventory.

Per region, ECS runs first (it decides what is in use); collectors that need only the region's
clusters (GuardDuty) start as soon as ECS has described them; then every other collector at once,
each starting as soon as the collectors it reads (`after`) are done: Inspector needs ECR's image digests,
WAF and EC2 the load balancers (EC2 also the EFS mount targets), CloudWatch service and load-balancer
names. IAM is global: it runs once per account, as soon as every region's ECS collection is done
(it needs their task definitions' roles), alongside the regions' other collectors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ecs_audit import __version__
from ecs_audit.collect import (
    autoscaling,
    cloudwatch,
    codedeploy,
    compute_optimizer,
    ec2,
    ecr,
    ecs,
    efs,
    elbv2,
    guardduty,
    iam,
    inspector,
    logs,
    secretsmanager,
    ssm,
    wafv2,
)
from ecs_audit.collect.accounts_regions import Target
from ecs_audit.collect.base import CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.interrupt import worker_pool
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.ecs import Cluster, EcsInventory
from ecs_audit.inventory.parts import CLUSTERS, SOURCES, PartSource
from ecs_audit.inventory.snapshot import AccountInventory, CallerIdentity, Inventory, RegionInventory
from ecs_audit.progress import NoProgress, Progress
from ecs_audit.session import ClientFactory, partition_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegionCollector:
    source: PartSource  # its declaration: part, client, operations, what it reads
    collect: Callable[[CollectContext, AuditConfig, RegionInventory], Any]

    @property
    def field(self) -> str:
        return self.source.part

    @property
    def service(self) -> str:
        return self.source.client

    @property
    def after(self) -> tuple[str, ...]:
        """The parts it reads beyond ECS (every collector but ECS's reads what is in use)."""
        return tuple(part for part in self.source.reads if part not in ("ecs", CLUSTERS))

    @property
    def stage(self) -> int:
        """0: reads only the region's clusters; 1: ECS; 2: reads only ECS; 3: also reads the collectors
        in `after`."""
        if self.source.reads == (CLUSTERS,):
            return 0
        return 1 if not self.source.reads else 3 if self.after else 2


def _ecs(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> Any:
    return ecs.collect_ecs(ctx, config)




_COLLECT: dict[str, Callable[[CollectContext, AuditConfig, RegionInventory], Any]] = {
    "ecs": _ecs,
    "ecr": ecr.collect,
    "elbv2": elbv2.collect,
    "efs": efs.collect,
    "autoscaling": autoscaling.collect,
    "codedeploy": codedeploy.collect,
    "guardduty": guardduty.collect,
    "compute_optimizer": compute_optimizer.collect,
    "logs": logs.collect,
    "ssm": ssm.collect,
    "secretsmanager": secretsmanager.collect,
    "inspector": inspector.collect,
    "wafv2": wafv2.collect,
    "ec2": ec2.collect,
    "cloudwatch": cloudwatch.collect,
}

REGION_COLLECTORS: tuple[RegionCollector, ...] = tuple(
    RegionCollector(source, _COLLECT[source.part]) for source in SOURCES if not source.account_wide
)


def _run_collector(collector: RegionCollector, ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> Any:
    """A collector that crashes is recorded as an error of its service; the others go on."""
    try:
        return collector.collect(ctx, config, region)
    except Exception as exc:
        log.warning("%s collection crashed in %s: %s: %s", collector.field, ctx.region, type(exc).__name__, exc)
        log.debug("traceback", exc_info=True)
        ctx.record(collector.service, "*", "CollectorError", f"collection stopped: {type(exc).__name__}: {exc}")
        return None


def collect_region(
    clients: ClientFactory,
    account_id: str,
    region: str,
    config: AuditConfig,
    *,
    partition: str,
    max_workers: int = 8,
    max_in_flight: int = 16,
    on_ecs: Callable[[RegionInventory], None] | None = None,
) -> RegionInventory:
    """One account and region. `on_ecs` receives the inventory (with its errors so far) as soon as
    the ECS collection is done, before the other collectors run."""
    ctx = CollectContext(
        clients, account_id, region, partition=partition, max_workers=max_workers, max_in_flight=max_in_flight
    )
    inventory = RegionInventory(account_id=account_id, region=region)
    early = [c for c in REGION_COLLECTORS if c.stage == 0]
    with worker_pool(len(early), "early") as early_pool:
        started: dict[str, Future[Any]] = {}

        def clusters_known(clusters: list[Cluster]) -> None:
            # Calls that need only the region's clusters start now, beside the rest of ECS's.
            if clusters:
                known = inventory.model_copy(update={"ecs": EcsInventory(clusters=clusters)})
                for collector in early:
                    started[collector.field] = early_pool.submit(_run_collector, collector, ctx, config, known)

        ecs_collector = next(c for c in REGION_COLLECTORS if c.stage == 1)
        found = _run_collector(
            RegionCollector(ecs_collector.source, lambda c, cfg, _: ecs.collect_ecs(c, cfg, on_clusters=clusters_known)),
            ctx, config, inventory,
        )
        inventory = inventory.model_copy(update={"ecs": found})
        if on_ecs is not None:
            on_ecs(inventory.model_copy(update={"errors": list(ctx.errors)}))
        # Nothing is in use here (or ECS failed, which is recorded): nothing to follow up.
        if inventory.ecs is not None and (inventory.ecs.clusters or ctx.errors):
            inventory = _follow_up(ctx, config, inventory, [c for c in REGION_COLLECTORS if c.stage > 1])
        early_results = {field: future.result() for field, future in started.items()}
        if inventory.ecs is not None:  # as for the others: nothing is kept beside a failed ECS collection
            inventory = inventory.model_copy(update=early_results)
    if inventory.ecs is None and not any(e.service == "ecs" for e in ctx.errors):
        ctx.record("ecs", "ListClusters", "CollectorError", "ECS data could not be collected")
    errors = sorted(ctx.errors, key=lambda e: (e.service, e.operation, e.error_code, e.resources, e.message))
    return inventory.model_copy(update={"errors": errors})


def _follow_up(ctx: CollectContext, config: AuditConfig, base: RegionInventory, collectors: list[RegionCollector]) -> RegionInventory:
    """Run `collectors` concurrently, each once the collectors in its `after` are done; a collector
    sees `base` plus the results of those it is after."""
    results: dict[str, Any] = {}
    done = {c.field: threading.Event() for c in collectors}

    def run(collector: RegionCollector) -> Any:
        for field in collector.after:
            done[field].wait()
        snapshot = base.model_copy(update={field: results[field] for field in collector.after})
        try:
            results[collector.field] = _run_collector(collector, ctx, config, snapshot)
        finally:
            done[collector.field].set()
        return results[collector.field]

    # Stage 2 (no `after`) first: a pool smaller than the list then never waits on work it has not started.
    ordered = sorted(collectors, key=lambda c: c.stage)
    values = ctx.parallel(run, ordered)
    return base.model_copy(update={c.field: value for c, value in zip(ordered, values)})


def collect_targets(
    targets: list[Target],
    config: AuditConfig,
    *,
    partition: str,
    max_workers: int = 8,
    max_in_flight: int = 16,
    progress: Progress | None = None,
) -> list[AccountInventory]:
    """Every reachable (account, region) pair on one bounded pool; each account's IAM on another, from
    the moment every region of the account has its ECS inventory (the roles to read come from it)."""
    progress = progress or NoProgress()
    pairs = [(t, region) for t in targets if t.clients is not None for region in t.regions]
    progress.start(len(pairs) + sum(1 for t in targets if t.clients is not None))
    lock = threading.Lock()
    ecs_parts: dict[int, dict[str, RegionInventory]] = {id(t): {} for t in targets}
    iam_parts: dict[int, Any] = {}

    def account_wide(target: Target) -> AccountInventory:
        assert target.clients is not None
        regions = [ecs_parts[id(target)][region] for region in target.regions]
        result = collect_account_wide(
            target.clients, target.account_id, partition, config, regions, max_workers, max_in_flight=max_in_flight
        )
        progress.advance(f"{target.account_id} IAM")
        return result

    try:
        with worker_pool(max_workers, "account") as account_pool, worker_pool(max_workers, "region") as pool:

            def ecs_done(target: Target, region: RegionInventory) -> None:
                with lock:
                    parts = ecs_parts[id(target)]
                    parts[region.region] = region
                    ready = len(parts) == len(set(target.regions)) and id(target) not in iam_parts
                    if ready:
                        iam_parts[id(target)] = None  # claimed: submitted once
                if ready:
                    iam_parts[id(target)] = account_pool.submit(account_wide, target)

            def one_region(pair: tuple[Target, str]) -> RegionInventory:
                target, region = pair
                assert target.clients is not None
                result = collect_region(
                    target.clients, target.account_id, region, config, partition=partition, max_workers=max_workers,
                    max_in_flight=max_in_flight, on_ecs=lambda inventory: ecs_done(target, inventory),
                )
                progress.advance(f"{target.account_id} {region}")
                return result

            for target in targets:
                if target.clients is not None and not target.regions:
                    iam_parts[id(target)] = account_pool.submit(account_wide, target)
            by_pair = list(pool.map(one_region, pairs))
            accounts: list[AccountInventory] = []
            for target in targets:
                if target.clients is None:
                    accounts.append(AccountInventory(account_id=target.account_id, errors=[target.error] if target.error else []))
                    continue
                regions = [inv for (t, _), inv in zip(pairs, by_pair) if t is target]
                # IAM was collected from the regions' ECS inventories; the account keeps the complete ones.
                accounts.append(iam_parts[id(target)].result().model_copy(update={"regions": regions}))
    finally:
        progress.stop()
    return accounts


def collect_account(
    clients: ClientFactory,
    caller: CallerIdentity,
    regions: list[str],
    config: AuditConfig,
    *,
    max_workers: int = 8,
) -> Inventory:
    """One account (the caller's) over `regions`."""
    partition = partition_of(caller.arn)
    accounts = collect_targets([Target(caller.account_id, clients, tuple(regions))], config, partition=partition, max_workers=max_workers)
    return Inventory(
        tool_version=__version__,
        collected_at=datetime.now(timezone.utc),
        caller=caller,
        partition=partition,
        accounts=accounts,
    )


def collect_account_wide(
    clients: ClientFactory,
    account_id: str,
    partition: str,
    config: AuditConfig,
    regions: list[RegionInventory],
    max_workers: int,
    *,
    max_in_flight: int = 16,
) -> AccountInventory:
    """IAM (global): once per account, for the roles of every region. Its calls have their own
    in-flight cap (IAM's rate limits are the account's, not a region's)."""
    home = regions[0].region if regions else "us-east-1"
    ctx = CollectContext(clients, account_id, home, partition=partition, max_workers=max_workers, max_in_flight=max_in_flight)
    iam_inventory = None
    if any(r.ecs is not None and not r.is_empty for r in regions):
        try:
            iam_inventory = iam.collect(ctx, config, regions)
        except Exception as exc:
            log.warning("IAM collection crashed: %s: %s", type(exc).__name__, exc)
            log.debug("traceback", exc_info=True)
            ctx.record("iam", "*", "CollectorError", f"collection stopped: {type(exc).__name__}: {exc}")
    errors: list[ApiError] = sorted(ctx.errors, key=lambda e: (e.service, e.operation, e.error_code, e.resources, e.message))
    return AccountInventory(account_id=account_id, regions=regions, iam=iam_inventory, errors=errors)
