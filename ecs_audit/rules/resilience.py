"""Checks of the RESILIENCE area (see checks/resilience.yaml)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ecs_audit.evaluation.subjects import ClusterSubject, ServiceSubject, TaskDefSubject
from ecs_audit.evaluation.view import RegionView
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.autoscaling import ScalingInventory
from ecs_audit.inventory.ecs import FARGATE_PROVIDERS, AutoScalingGroupProvider, Service
from ecs_audit.semantics.image_in_use import is_local_ecr, parse_or_none, referenced_id, repository_arn
from ecs_audit.inventory.ec2 import ec2_arn
from ecs_audit.inventory.iam import role_arn, role_name
from ecs_audit.inventory.logs import awslogs_group, creates_group, log_group_arn
from ecs_audit.evaluation.subjects import TargetGroupSubject
from ecs_audit.inventory.arns import name_from_arn
from ecs_audit.inventory.elbv2 import DEREGISTRATION_DELAY
from ecs_audit.evaluation.network_evidence import service_zones
from ecs_audit.semantics.network_placement import service_placements, service_security_group_ids, service_subnet_ids
from ecs_audit.rules.registry import check
from ecs_audit.semantics.secret_reference import SECRETS_MANAGER, SSM, container_secret_refs

def _is_daemon(service: Service) -> bool:
    return service.scheduling_strategy == "DAEMON"


def _asg_providers(c: ClusterSubject) -> dict[str, AutoScalingGroupProvider]:
    """The cluster's Auto Scaling group capacity providers by name; EvidenceMissing for one not described."""
    providers: dict[str, AutoScalingGroupProvider] = {}
    for name in c.cluster.capacity_providers:
        if name in FARGATE_PROVIDERS:
            continue
        provider = c.estate.capacity_provider(name)
        if provider is None:
            raise EvidenceMissing(f"capacity provider {name} was not described")
        # ECS Managed Instances providers have no Auto Scaling group to manage.
        if provider.auto_scaling_group_provider is not None:
            providers[name] = provider.auto_scaling_group_provider
    return providers


def _latest_event(service: Service) -> str | None:
    # DescribeServices lists events newest first (the inventory keeps the first few).
    return service.events[0].message if service.events else None


# --- RESILIENCE-010: references to things that no longer exist ------------------------------------


class _References:
    """What RESILIENCE-010 found: broken references (by kind), how many were verified, and gaps."""

    def __init__(self) -> None:
        self.broken: dict[str, list[str]] = {}
        self.checked: Counter[str] = Counter()
        self.notes: list[str] = []
        self.gaps: list[EvidenceMissing] = []

    def missing(self, kind: str, what: str) -> None:
        if what not in self.broken.setdefault(kind, []):
            self.broken[kind].append(what)

    def gap(self, reason: str | EvidenceMissing) -> None:
        self.gaps.append(reason if isinstance(reason, EvidenceMissing) else EvidenceMissing(reason))


def _require(estate: RegionView, refs: _References, part: str) -> Any:
    try:
        return estate.require(part)
    except EvidenceMissing as gap:
        refs.gap(gap)
        return None


def _failed(estate: RegionView, refs: _References, action: str, resource: str) -> bool:
    try:
        estate.raise_if_failed(action, resource)
    except EvidenceMissing as gap:
        refs.gap(gap)
        return True
    return False


def _check_roles(t: TaskDefSubject, refs: _References) -> None:
    estate = t.estate
    td = t.task_definition
    for which, reference in (("task role", td.task_role_arn), ("execution role", td.execution_role_arn)):
        if not reference:
            continue
        iam = _require(estate, refs, "iam")
        if iam is None:
            return
        arn = role_arn(reference, estate.partition, estate.account_id)
        if arn in iam.missing_roles:
            refs.missing("roles", f"{which} {role_name(arn)}")
        elif iam.role(arn) is not None:
            refs.checked["roles"] += 1
        elif arn in iam.not_read:
            refs.gap(f"the {which} {arn} is in another account or partition and was not read")
        elif not _failed(estate, refs, "iam:GetRole", arn):
            refs.gap(f"the {which} {arn} was not read")


def _check_secrets(t: TaskDefSubject, refs: _References) -> None:
    estate = t.estate
    for container in t.task_definition.container_definitions:
        for ref in container_secret_refs(container, estate.partition, estate.region, estate.account_id):
            label = f"{container.name}: {ref.field}" + (f" {ref.name}" if ref.name else "")
            if ref.kind not in (SSM, SECRETS_MANAGER):
                refs.gap(f"{label}: {ref.value_from} is neither an SSM parameter nor a Secrets Manager secret")
                continue
            if not ref.is_local(estate.region, estate.account_id):
                refs.gap(f"{label}: {ref.arn} is in another region or account and was not read")
                continue
            if ref.kind == SSM:
                ssm = _require(estate, refs, "ssm")
                if ssm is None or _failed(estate, refs, "ssm:DescribeParameters", ref.arn):
                    continue
                if ref.key in ssm.missing:
                    refs.missing("parameters", f"parameter {ref.key} ({label})")
                elif ssm.parameter(ref.key) is not None:
                    refs.checked["parameters"] += 1
                else:
                    refs.gap(f"parameter {ref.key} is not in the inventory")
            else:
                secrets = _require(estate, refs, "secretsmanager")
                if secrets is None or _failed(estate, refs, "secretsmanager:DescribeSecret", ref.key):
                    continue
                secret = secrets.secrets.get(ref.key)
                shown = ref.key.split(":secret:", 1)[-1]
                if ref.key in secrets.missing:
                    refs.missing("secrets", f"secret {shown} ({label})")
                elif secret is not None and secret.deleted_date is not None:
                    refs.missing("secrets", f"secret {shown} ({label}), scheduled for deletion on {secret.deleted_date.date()}")
                elif secret is not None:
                    refs.checked["secrets"] += 1
                else:
                    refs.gap(f"secret {shown} is not in the inventory")


def _check_log_groups(t: TaskDefSubject, refs: _References) -> None:
    estate = t.estate
    for container in t.task_definition.container_definitions:
        destination = awslogs_group(container, estate.region)
        if destination is None:
            continue
        name, region = destination
        if region != estate.region:
            refs.gap(f"{container.name}: log group {name} is in {region} and was not read")
            continue
        logs = _require(estate, refs, "logs")
        if logs is None or _failed(estate, refs, "logs:DescribeLogGroups", log_group_arn(name, estate.partition, region, estate.account_id)):
            continue
        if name in logs.missing:
            if creates_group(container):
                option = "awslogs-create-group" if container.log_configuration and container.log_configuration.log_driver == "awslogs" else "auto_create_group"
                refs.notes.append(f"log group {name} does not exist but {option} creates it")
            else:
                refs.missing("log_groups", f"log group {name} ({container.name})")
        elif logs.log_group(name) is not None:
            refs.checked["log_groups"] += 1
        else:
            refs.gap(f"log group {name} is not in the inventory")


def _check_images(t: TaskDefSubject, refs: _References) -> None:
    """Images in this account's ECR registry in this region, by the tag or digest the definition names.
    Images elsewhere (other registries, accounts or regions) are not read: noted, not verified."""
    estate = t.estate
    for container in t.task_definition.container_definitions:
        ref = parse_or_none(container.image)
        if ref is None or not is_local_ecr(ref, estate.account_id, estate.region):
            if ref is not None and ref.is_ecr:
                refs.notes.append(f"image {container.image} is in another account's or region's registry and was not verified")
            continue
        ecr = _require(estate, refs, "ecr")
        arn = repository_arn(estate.partition, estate.region, estate.account_id, ref.repository)
        if ecr is None or any(_failed(estate, refs, action, arn) for action in ("ecr:DescribeRepositories", "ecr:DescribeImages")):
            continue
        image = referenced_id(ref)
        if ecr.is_missing(ref.repository, tag=image.tag, digest=image.digest):
            gone = "repository" if ref.repository in ecr.missing_repositories else "image"
            refs.missing("images", f"{gone} {image.describe() if gone == 'image' else ref.repository} ({container.name})")
        elif ecr.find_image(ref.repository, tag=image.tag, digest=image.digest) is not None:
            refs.checked["images"] += 1
        else:
            refs.gap(f"image {image.describe()} is not in the inventory")


def _check_network(t: TaskDefSubject, refs: _References) -> None:
    """The subnets and security groups of the services that run this definition."""
    estate = t.estate
    for service in t.services:
        subnets = service_subnet_ids(service)
        groups = service_security_group_ids(service)
        if not subnets and not groups:
            continue
        ec2 = _require(estate, refs, "ec2")
        if ec2 is None:
            return
        for kind, ids, action, missing, lookup in (
            ("subnet", subnets, "ec2:DescribeSubnets", ec2.missing_subnets, ec2.subnet),
            ("security-group", groups, "ec2:DescribeSecurityGroups", ec2.missing_security_groups, ec2.security_group),
        ):
            for resource_id in ids:
                if _failed(estate, refs, action, ec2_arn(estate.partition, estate.region, estate.account_id, kind, resource_id)):
                    continue
                label = "subnet" if kind == "subnet" else "security group"
                if resource_id in missing:
                    refs.missing("subnets" if kind == "subnet" else "security_groups", f"{label} {resource_id} (service {service.service_name})")
                elif lookup(resource_id) is not None:
                    refs.checked["subnets" if kind == "subnet" else "security_groups"] += 1
                else:
                    refs.gap(f"{label} {resource_id} is not in the inventory")


# --- RESILIENCE-004, RESILIENCE-005: service auto scaling -------------------------------------

# RESILIENCE-005: the highest CPU or memory target-tracking value that still leaves headroom.
_MAX_RESOURCE_TARGET = 75.0


def _spreads_across_azs(service: Service) -> bool | None:
    """EC2 placement: None without an explicit strategy (the scheduler balances AZs by default), else
    whether a spread over attribute:ecs.availability-zone is part of it."""
    if not service.placement_strategy:
        return None
    return any(
        (p.type or "").lower() == "spread" and (p.field or "").lower() == "attribute:ecs.availability-zone"
        for p in service.placement_strategy
    )


DEFAULT_DEREGISTRATION_DELAY = 300




# --- the checks, in id order ----------------------------------------------------------------------


@check("RESILIENCE-001")
def subnets_span_several_azs(s: ServiceSubject) -> Verdict:
    service = s.service
    if service.effective_launch_type == "EXTERNAL":
        return na("EXTERNAL (ECS Anywhere) service: its capacity is not in AWS Availability Zones")
    zones = service_zones(s)
    evidence: dict[str, Any] = {"azs": zones.zones, "azs_from": zones.basis, "missing_subnets": zones.missing_subnets}
    spread = _spreads_across_azs(service) if service.effective_launch_type == "EC2" else None
    if spread is not None:
        evidence["placement_strategy"] = [f"{p.type}:{p.field}" if p.field else p.type for p in service.placement_strategy]
    count = len(zones.zones)
    singular = zones.basis.removesuffix("s")
    where = ", ".join(f"{az} ({len(items)} {singular if len(items) == 1 else zones.basis})" for az, items in zones.zones.items())
    if count == 0:
        return fail(f"none of the service's subnets exists any more ({', '.join(zones.missing_subnets)}): it has no usable AZ", evidence)
    if count == 1:
        return fail(f"the service's {zones.basis} are all in one AZ ({where}): an AZ impairment takes it down", evidence)
    placement = " and its placement strategy does not spread tasks across AZs" if spread is False else ""
    if count == 2:
        return warn(f"the service's {zones.basis} span only 2 AZs ({where}){placement}: losing one AZ halves capacity", evidence)
    if spread is False:
        return warn(f"the service's {zones.basis} span {count} AZs ({where}), but its placement strategy does not spread tasks across them", evidence)
    return ok(f"the service's {zones.basis} span {count} AZs: {where}", evidence)


@check("RESILIENCE-002")
def replicas_run_at_least_two_tasks(s: ServiceSubject) -> Verdict:
    service = s.service
    if _is_daemon(service):
        return na("DAEMON service: one task per container instance")
    desired = service.desired_count
    evidence: dict[str, Any] = {"desired_count": desired}
    if desired == 0:
        return na("the service is parked (desiredCount 0)", evidence)
    scaling: ScalingInventory | None = s.estate.inventory.autoscaling
    if scaling is not None:
        target = scaling.target_for(service.cluster_arn, service.service_name)
        evidence["min_capacity"] = target.min_capacity if target else None
    if desired >= 2:
        # max(desiredCount, MinCapacity) >= desiredCount: the scalable target cannot change the outcome.
        return ok(f"the service runs {desired} tasks", evidence)
    scaling = s.estate.require("autoscaling")
    target = scaling.target_for(service.cluster_arn, service.service_name)
    if target is not None and target.min_capacity >= 2:
        return ok(f"auto scaling keeps at least {target.min_capacity} tasks (MinCapacity), above desiredCount {desired}", evidence)
    floor = f", and its scalable target's MinCapacity is {target.min_capacity}" if target else ", with no scalable target"
    return fail(f"the service runs a single task (desiredCount {desired}{floor}): one failure takes it down", evidence)


def _rebalancing_unavailable(service: Service) -> str | None:
    """Why AZ rebalancing cannot be turned on for the service, if it cannot (service-rebalancing.html)."""
    if service.controller_type in ("CODE_DEPLOY", "EXTERNAL"):
        return f"{service.controller_type} deployment controller"
    if any((p.type or "").lower() == "binpack" for p in service.placement_strategy):
        return "binpack placement strategy"
    return None


@check("RESILIENCE-003")
def tasks_spread_across_azs(s: ServiceSubject) -> Verdict:
    service = s.service
    if _is_daemon(service):
        return na("DAEMON service: placement follows the container instances")
    running = [t for t in s.tasks if t.last_status == "RUNNING"]
    if not running:
        if service.running_count > 0:
            raise EvidenceMissing(f"the service reports {service.running_count} running tasks but none were collected")
        return na("the service has no running tasks")
    if any(not t.availability_zone for t in running):
        raise EvidenceMissing("DescribeTasks returned a running task without its availabilityZone")
    observed = Counter(t.availability_zone for t in running)
    # The zones the service can use (its subnets' or container instances'): a zone without a task is skew too.
    zone_gap: EvidenceMissing | None = None
    try:
        usable = list(service_zones(s).zones)
    except EvidenceMissing as missing:
        usable, zone_gap = [], missing
    counts = {az: observed.get(az, 0) for az in sorted(set(usable) | set(observed))}
    # A service that never set availabilityZoneRebalancing has it DISABLED.
    rebalancing = service.availability_zone_rebalancing or "DISABLED"
    not_available = _rebalancing_unavailable(service)
    evidence: dict[str, Any] = {"tasks_by_az": counts, "availability_zone_rebalancing": rebalancing}
    if not_available:
        evidence["rebalancing_not_available"] = not_available
    problems = []
    occupied = [az for az, n in counts.items() if n]
    if len(occupied) == 1 and len(running) >= 2:
        empty = [az for az, n in counts.items() if not n]
        problems.append(f"all {len(running)} running tasks are in {occupied[0]}" + (f" (none in {', '.join(empty)})" if empty else ""))
    elif len(running) >= len(counts) and max(counts.values()) - min(counts.values()) > 1:
        problems.append("running tasks are unevenly spread: " + ", ".join(f"{n} in {az}" for az, n in counts.items()))
    elif len(running) >= len(counts) and 0 in counts.values():
        problems.append("running tasks are unevenly spread: " + ", ".join(f"{n} in {az}" for az, n in counts.items()))
    if rebalancing != "ENABLED" and not not_available:
        problems.append(f"AZ rebalancing is {rebalancing}")
    if problems:
        return warn("; ".join(problems), evidence)
    if zone_gap is not None and any(p.subnets for p in service_placements(service)):
        raise zone_gap  # the service's own zones decide whether a zone was left empty
    spread = ", ".join(f"{n} in {az}" for az, n in counts.items())
    rebalance = f"AZ rebalancing is not available to it ({not_available})" if not_available else "AZ rebalancing is ENABLED"
    return ok(f"running tasks are spread evenly ({spread}) and {rebalance}", evidence)


@check("RESILIENCE-004")
def service_auto_scaling_active(s: ServiceSubject) -> Verdict:
    service = s.service
    if _is_daemon(service):
        return na("DAEMON service: one task per container instance, it cannot be scaled")
    scaling: ScalingInventory = s.estate.require("autoscaling")
    target = scaling.target_for(service.cluster_arn, service.service_name)
    if target is None:
        if service.desired_count == 0:
            return na("the service is parked (desiredCount 0) and has no scalable target")
        return fail(f"the service has no scalable target: its task count stays at desiredCount {service.desired_count}", {"scalable_target": None})
    policies = scaling.policies_for(service.cluster_arn, service.service_name)
    evidence: dict[str, Any] = {
        "min_capacity": target.min_capacity,
        "max_capacity": target.max_capacity,
        "suspended": target.suspended,
        "policies": {p.policy_name: p.policy_type for p in policies},
    }
    problems = []
    if not policies:
        problems.append("the scalable target has no scaling policy")
    if target.max_capacity <= target.min_capacity:
        problems.append(f"MaxCapacity {target.max_capacity} is not above MinCapacity {target.min_capacity}")
    dynamic = [kind for kind in target.suspended if kind.startswith("dynamic")]
    if dynamic:
        problems.append(f"{' and '.join(dynamic)} {'is' if len(dynamic) == 1 else 'are'} suspended")
    if problems:
        return fail("auto scaling never acts: " + "; ".join(problems), evidence)
    kinds = ", ".join(sorted({p.policy_type or "unknown" for p in policies}))
    note = " (scheduled scaling is suspended)" if "scheduled scaling" in target.suspended else ""
    return ok(
        f"auto scaling is active between {target.min_capacity} and {target.max_capacity} tasks with {len(policies)} "
        f"polic{'y' if len(policies) == 1 else 'ies'} ({kinds}){note}",
        evidence,
    )


@check("RESILIENCE-005")
def scaling_targets_leave_headroom(s: ServiceSubject) -> Verdict:
    service = s.service
    if _is_daemon(service):
        return na("DAEMON service: it cannot be scaled")
    scaling: ScalingInventory = s.estate.require("autoscaling")
    tracking = {
        p.policy_name: p.target_tracking_scaling_policy_configuration
        for p in scaling.policies_for(service.cluster_arn, service.service_name)
        if p.policy_type == "TargetTrackingScaling"
        and p.target_tracking_scaling_policy_configuration is not None
        and p.target_tracking_scaling_policy_configuration.resource_metric is not None
    }
    if not tracking:
        return na("the service has no target-tracking policy on CPU or memory")
    evidence = {name: {"metric": c.metric_label, "target_value": c.target_value} for name, c in tracking.items() if c}
    high = [
        f"{name} keeps {c.resource_metric} at {c.target_value:g}%"
        for name, c in tracking.items()
        if c is not None and c.target_value > _MAX_RESOURCE_TARGET
    ]
    if high:
        return warn(
            "; ".join(high) + f": above {_MAX_RESOURCE_TARGET:g}% there is little headroom while new tasks start",
            {"target_tracking": evidence},
        )
    shown = ", ".join(f"{c.resource_metric} {c.target_value:g}%" for c in tracking.values() if c)
    return ok(f"target-tracking targets leave headroom ({shown})", {"target_tracking": evidence})


@check("RESILIENCE-006")
def grace_period_behind_load_balancer(s: ServiceSubject) -> Verdict:
    if not s.service.all_load_balancers:
        return na("the service has no load balancer")
    grace = s.service.health_check_grace_period_seconds
    evidence = {"health_check_grace_period_seconds": grace}
    if not grace:
        return warn(
            f"no health-check grace period ({'0 seconds' if grace == 0 else 'not set'}): slow-starting tasks can be "
            "killed by failing load balancer health checks",
            evidence,
        )
    return ok(f"health-check grace period is {grace} seconds", evidence)


@check("RESILIENCE-007")
def target_group_tuning(t: TargetGroupSubject) -> Verdict:
    tg = t.target_group
    estate = t.estate
    config = estate.config
    attributes = estate.require("elbv2").target_group_attributes.get(tg.target_group_arn)
    if attributes is None:
        estate.raise_if_failed("elasticloadbalancing:DescribeTargetGroupAttributes", tg.target_group_arn)
        raise EvidenceMissing(f"the attributes of target group {tg.target_group_name} were not collected")
    drain = int(attributes.get(DEREGISTRATION_DELAY) or DEFAULT_DEREGISTRATION_DELAY)
    interval, healthy = tg.health_check_interval_seconds, tg.healthy_threshold_count
    if interval is None or healthy is None:
        raise EvidenceMissing("DescribeTargetGroups returned no health-check interval or healthy threshold")
    to_healthy = interval * healthy
    problems: list[str] = []
    if to_healthy > config.target_group_max_seconds_to_healthy:
        problems.append(
            f"a new task needs {to_healthy}s of passing health checks (interval {interval}s x healthy threshold {healthy}; "
            f"aim for at most {config.target_group_max_seconds_to_healthy}s)"
        )
    if drain > config.target_group_max_deregistration_delay:
        problems.append(
            f"deregistration delay is {drain}s (aim for at most {config.target_group_max_deregistration_delay}s)"
        )
    # ECS waits for deregistration (the drain) to finish before it stops a task's containers, so
    # stopTimeout is not compared with the drain (load-balancer-connection-draining.html).
    evidence = {
        "health_check_interval_seconds": interval,
        "healthy_threshold_count": healthy,
        "unhealthy_threshold_count": tg.unhealthy_threshold_count,
        "seconds_to_healthy": to_healthy,
        "deregistration_delay_seconds": drain,
    }
    if problems:
        return warn("; ".join(problems), evidence)
    return ok(f"healthy after {to_healthy}s and drains in {drain}s", evidence)


@check("RESILIENCE-008")
def capacity_providers_are_managed(c: ClusterSubject) -> Verdict:
    providers = _asg_providers(c)
    if not providers:
        return na("the cluster has no EC2 Auto Scaling group capacity providers")
    failures: list[str] = []
    warnings: list[str] = []
    evidence: dict[str, dict[str, str]] = {}
    for name, asg in providers.items():
        scaling = (asg.managed_scaling.status if asg.managed_scaling else None) or "not set"
        # API defaults: termination protection is off unless set; draining is on unless set.
        protection = asg.managed_termination_protection or "DISABLED"
        draining = asg.managed_draining or "ENABLED"
        evidence[name] = {
            "managed_scaling": scaling,
            "managed_termination_protection": protection,
            "managed_draining": draining,
        }
        if scaling != "ENABLED":
            failures.append(f"{name}: managed scaling {scaling}")
        if protection != "ENABLED":
            warnings.append(f"{name}: managed termination protection {protection}")
        if draining != "ENABLED":
            warnings.append(f"{name}: managed draining {draining}")
    if failures:
        return fail("; ".join(failures + warnings), {"capacity_providers": evidence})
    if warnings:
        return warn("; ".join(warnings), {"capacity_providers": evidence})
    names = ", ".join(providers)
    return ok(f"managed scaling, termination protection and draining are enabled on {names}", {"capacity_providers": evidence})


@check("RESILIENCE-009")
def service_at_steady_state(s: ServiceSubject) -> Verdict:
    service = s.service
    evidence: dict[str, object] = {
        "desired_count": service.desired_count,
        "running_count": service.running_count,
        "pending_count": service.pending_count,
    }
    latest = _latest_event(service)
    if latest:
        evidence["latest_event"] = latest
    failed = [d for d in service.deployments if d.rollout_state == "FAILED"]
    if failed:
        evidence["failed_deployments"] = [
            {"id": d.id, "task_definition": d.task_definition, "reason": d.rollout_state_reason} for d in failed
        ]
        reason = failed[0].rollout_state_reason
        return fail("a deployment rollout FAILED" + (f": {reason}" if reason else ""), evidence)
    counts = f"{service.running_count} of {service.desired_count} desired tasks running"
    if service.running_count < service.desired_count:
        return warn(f"only {counts} ({service.pending_count} pending)", evidence)
    return ok(counts, evidence)


@check("RESILIENCE-010")
def references_exist(t: TaskDefSubject) -> Verdict:
    if not t.in_use:
        # Running standalone tasks make a definition in use: unlisted tasks leave that open.
        for action in ("ecs:ListTasks", "ecs:DescribeTasks"):
            error = t.estate.error_for(action)
            if error is not None:
                raise EvidenceMissing(f"whether the task definition is in use is unknown: {error.describe()}", error.action, error.error_code)
        return na("the task definition is not in use (no active service or running task references it)")
    refs = _References()
    _check_roles(t, refs)
    _check_secrets(t, refs)
    _check_log_groups(t, refs)
    _check_images(t, refs)
    _check_network(t, refs)
    evidence: dict[str, object] = {"missing": refs.broken, "verified": dict(sorted(refs.checked.items()))}
    if refs.notes:
        evidence["notes"] = refs.notes
    if refs.broken:
        listed = "; ".join(item for items in refs.broken.values() for item in items)
        unread = f" ({len(refs.gaps)} other reference{'s' if len(refs.gaps) != 1 else ''} could not be verified)" if refs.gaps else ""
        return fail(f"references to deleted resources (the next deployment or scale-out will fail): {listed}{unread}", evidence)
    if refs.gaps:
        first = refs.gaps[0]
        more = f" (and {len(refs.gaps) - 1} more)" if len(refs.gaps) > 1 else ""
        raise EvidenceMissing(first.reason + more, first.operation, first.error_code)
    note = f"; {'; '.join(refs.notes)}" if refs.notes else ""
    if not refs.checked:
        if refs.notes:
            return ok("no reference is broken: " + "; ".join(refs.notes), evidence)
        return ok(
            "the task definition references no roles, secrets, parameters, log groups, images in this registry, subnets or "
            "security groups",
            evidence,
        )
    counted = ", ".join(f"{n} {kind.replace('_', ' ').removesuffix('s' if n == 1 else '')}" for kind, n in sorted(refs.checked.items()))
    return ok(f"every reference exists ({counted}){note}", evidence)
