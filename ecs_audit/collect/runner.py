"""Run the collectors over accounts and regions and assemble the inventory.

Per region, a graph rather than stages: every collector starts as soon as what its declaration
(inventory/parts.py) says it reads is known. ECS reads in steps and hands on what it knows after each:
that the region has clusters (GuardDuty needs no more), the described clusters, then services, tasks
and instances (load balancing, scaling, CodeDeploy, Compute Optimizer, then WAF and CloudWatch once
the load balancers are read), then the task definitions (in use, the latest of other families, and the services' rollback
targets: ECR, EFS, logs, parameters, secrets, then Inspector after ECR's digests and EC2 after the
load balancers and mount targets) while the rest of the revision history is still being read. Calls that depend
on nothing a collector waits for are sent ahead (`CollectContext.prefetch`): the ECR registry's
scanning configuration and Inspector's account status and configuration, as soon as a task
definition in use names an image of this account's registry here (then both collectors will ask). IAM is global: it runs once per account, as soon as every
region's task definitions are known (it needs their roles).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
from ecs_audit.collect.shards import Checkpoint
from ecs_audit.config import AuditConfig
from ecs_audit.interrupt import worker_pool
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.ecs import EcsInventory, TaskDefinition
from ecs_audit.inventory.parts import DEFINITIONS, ECS_STEPS, IN_USE, LISTED, SERVICES, SOURCES, PartSource
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


def _ecs(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> Any:
    return ecs.collect_ecs(ctx, config)  # collect_region calls collect_ecs itself, with its steps' hook


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

# Collectors with calls that depend on nothing they wait for: sent ahead once a task definition in use
# names an image of this account's registry in the region (ecr.uses_local_image).
_PREFETCH: dict[str, Callable[[CollectContext], None]] = {"ecr": ecr.prefetch, "inspector": inspector.prefetch}

REGION_COLLECTORS: tuple[RegionCollector, ...] = tuple(
    RegionCollector(source, _COLLECT[source.part]) for source in SOURCES if not source.account_wide
)


def _guarded(collector: RegionCollector, ctx: CollectContext, collect: Callable[[], Any]) -> Any:
    """A collector that crashes is recorded as an error of its service; the others go on."""
    try:
        return collect()
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
    amend_ecs: Callable[[Any], Any] | None = None,
    needed: frozenset[str] | None = None,
) -> RegionInventory:
    """One account and region, as a graph: each collector starts as soon as what it reads is known
    (the step of ECS's collection and the other parts its declaration names), so the calls that wait
    for nothing else overlap ECS's own. `on_ecs` receives the inventory (with its errors so far) as
    soon as its task definitions are known (ECS's DEFINITIONS step, else when ECS is done). `amend_ecs`
    may add to the ECS inventory from the step its services are known (SERVICES) on (`ecs-audit review
    --live`: the services and definitions under review, so what they refer to is collected). `needed`: the IAM actions the selected checks need (None:
    all); optional calls no selected check needs are left out and listed in `not_collected`."""
    ctx = CollectContext(
        clients, account_id, region, partition=partition, max_workers=max_workers, max_in_flight=max_in_flight, needed=needed
    )
    base = RegionInventory(account_id=account_id, region=region)
    known = _Known([*ECS_STEPS, *(c.field for c in REGION_COLLECTORS if c.field != "ecs")])

    def worth_following(ecs_part: EcsInventory | None) -> bool:
        # Nothing is in use here (or ECS failed, which is recorded): nothing to follow up.
        return ecs_part is not None and bool(ecs_part.clusters or ctx.errors or amend_ecs is not None)

    told = threading.Event()  # on_ecs has been called

    def tell(ecs_part: EcsInventory | None) -> None:
        if on_ecs is not None and not told.is_set():
            told.set()
            on_ecs(base.model_copy(update={"ecs": ecs_part, "errors": list(ctx.errors)}))

    def step_known(step: str, ecs_part: EcsInventory) -> None:
        if step in (SERVICES, IN_USE, DEFINITIONS) and amend_ecs is not None:
            # The services under review are known from SERVICES on (load balancing, scaling, CodeDeploy
            # and Compute Optimizer read their target groups and names); the definitions under review
            # are in use from IN_USE on: ECR's images in use, sent ahead then, include theirs (else the
            # collector, seeing other batches, describes them all again).
            ecs_part = amend_ecs(ecs_part)
            for td in ecs_part.task_definitions if step == IN_USE else []:
                if td.task_definition_arn in ecs_part.under_review:
                    definition_known(td)
        # LISTED is handed on only where ListClusters named clusters: always worth following.
        known.set(step, ecs_part if step == LISTED or worth_following(ecs_part) else _SKIP)
        if step == DEFINITIONS:
            tell(ecs_part)  # IAM needs no more than the task definitions
        if step == IN_USE and worth_following(ecs_part):
            ctx.send_ahead(lambda: ecr.prefetch_in_use_images(ctx, ecs_part), "ECR images in use")

    prefetch = [_PREFETCH[c.field] for c in REGION_COLLECTORS if c.field in _PREFETCH]
    prefetched = threading.Event()

    def definition_known(td: TaskDefinition) -> None:
        if prefetch and not prefetched.is_set() and ecr.uses_local_image(td, account_id, region):
            prefetched.set()
            for send in prefetch:
                send(ctx)

    def run_ecs(collector: RegionCollector) -> Any:
        found = None
        try:
            found = _guarded(collector, ctx, lambda: ecs.collect_ecs(ctx, config, on_step=step_known, on_definition=definition_known))
            if amend_ecs is not None and found is not None:
                found = amend_ecs(found)
        finally:
            # Steps not reached release their readers: DEFINITIONS's as the whole ECS inventory's (ECS
            # ended early, e.g. no cluster but definitions under review), the earlier ones' unrun.
            known.set(DEFINITIONS, found if worth_following(found) else _SKIP)
            if amend_ecs is not None:
                known.set(SERVICES, found if worth_following(found) else _SKIP)  # the services under review
            for step in ECS_STEPS[:-1]:
                known.set(step, _SKIP)
            known.set("ecs", found if worth_following(found) else _SKIP)
        tell(found)
        return found

    def run(collector: RegionCollector) -> Any:
        if collector.field == "ecs":
            return run_ecs(collector)
        result = None
        try:
            inputs = {name: known.wait(name) for name in collector.source.reads}
            if not any(value is _SKIP for value in inputs.values()):
                ecs_part = next((inputs[step] for step in reversed(ECS_STEPS) if step in inputs), None)
                parts = {name: value for name, value in inputs.items() if name not in ECS_STEPS}
                view = base.model_copy(update={**parts, "ecs": ecs_part})
                result = _guarded(collector, ctx, lambda: collector.collect(ctx, config, view))
        finally:
            known.set(collector.field, result)
        return result

    # One thread per collector: most of them wait for their inputs; the in-flight cap limits the calls.
    with worker_pool(len(REGION_COLLECTORS), "collector") as pool:
        results = dict(zip((c.field for c in REGION_COLLECTORS), pool.map(run, REGION_COLLECTORS)))
    ctx.settle()
    if results["ecs"] is None:
        results = {"ecs": None}  # nothing is kept beside a failed ECS collection
    inventory = base.model_copy(update=results)
    if inventory.ecs is None and not any(e.service == "ecs" for e in ctx.errors):
        ctx.record("ecs", "ListClusters", "CollectorError", "ECS data could not be collected")
    errors = sorted(ctx.errors, key=lambda e: (e.service, e.operation, e.error_code, e.resources, e.message))
    skipped = sorted(ctx.skipped, key=lambda e: (e.service, e.operation))
    return inventory.model_copy(update={"errors": errors, "not_collected": skipped})


_SKIP = object()  # an input that will not come: its readers are not run


class _Known:
    """What one region's collection knows so far: each ECS step and each part, once set (once)."""

    def __init__(self, names: list[str]) -> None:
        self._set = {name: threading.Event() for name in names}
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def set(self, name: str, value: Any) -> None:
        with self._lock:
            if self._set[name].is_set():
                return
            self._values[name] = value
            self._set[name].set()

    def wait(self, name: str) -> Any:
        self._set[name].wait()
        return self._values[name]


def collect_targets(
    targets: list[Target],
    config: AuditConfig,
    *,
    partition: str,
    max_workers: int = 8,
    max_in_flight: int = 16,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
    needed: frozenset[str] | None = None,
) -> list[AccountInventory]:
    """Every reachable (account, region) pair on one bounded pool; each account's IAM on another, from
    the moment every region of the account has its ECS inventory (the roles to read come from it).
    With `checkpoint`, finished parts are loaded from it instead of collected, and saved to it.
    `needed`: the IAM actions the selected checks need (collect_region); None: every check's."""
    progress = progress or NoProgress()
    pairs = [(t, region) for t in targets if t.clients is not None for region in t.regions]
    progress.start(len(pairs) + sum(1 for t in targets if t.clients is not None))
    lock = threading.Lock()
    ecs_parts: dict[int, dict[str, RegionInventory]] = {id(t): {} for t in targets}
    iam_parts: dict[int, Any] = {}

    def account_wide(target: Target) -> AccountInventory:
        assert target.clients is not None
        regions = [ecs_parts[id(target)][region] for region in target.regions]
        result = checkpoint.load_account(target.account_id) if checkpoint else None
        if result is None:
            result = collect_account_wide(
                target.clients, target.account_id, partition, config, regions, max_workers, max_in_flight=max_in_flight
            )
            if checkpoint:
                checkpoint.save_account(result)
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
                result = checkpoint.load_region(target.account_id, region) if checkpoint else None
                if result is not None:
                    ecs_done(target, result)
                else:
                    result = collect_region(
                        target.clients, target.account_id, region, config, partition=partition, max_workers=max_workers,
                        max_in_flight=max_in_flight, on_ecs=lambda inventory: ecs_done(target, inventory), needed=needed,
                    )
                    if checkpoint:
                        checkpoint.save_region(result)
                progress.advance(f"{target.account_id} {region}")
                return result

            for target in targets:
                if target.clients is not None and not target.regions:
                    iam_parts[id(target)] = account_pool.submit(account_wide, target)
            by_pair = list(pool.map(one_region, pairs))
            accounts: list[AccountInventory] = []
            for target in targets:
                if target.clients is None:
                    accounts.append(
                        AccountInventory(account_id=target.account_id, name=target.name, errors=[target.error] if target.error else [])
                    )
                    continue
                regions = [inv for (t, _), inv in zip(pairs, by_pair) if t is target]
                # IAM was collected from the regions' ECS inventories; the account keeps the complete ones.
                accounts.append(iam_parts[id(target)].result().model_copy(update={"regions": regions, "name": target.name}))
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
