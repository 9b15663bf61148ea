"""Checks of the RESILIENCE area (see checks/resilience.yaml)."""

from __future__ import annotations

from collections import Counter

from ecs_audit.estate import ClusterSubject, ServiceSubject
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.ecs import FARGATE_PROVIDERS, AutoScalingGroupProvider, Service
from ecs_audit.rules.registry import check

def _is_daemon(service: Service) -> bool:
    return service.scheduling_strategy == "DAEMON"


@check("RESILIENCE-002")
def replicas_run_at_least_two_tasks(s: ServiceSubject) -> Verdict:
    service = s.service
    if _is_daemon(service):
        return na("DAEMON service: one task per container instance")
    evidence = {"desired_count": service.desired_count}
    if service.desired_count == 0:
        return na("the service is parked (desiredCount 0)", evidence)
    # Only desiredCount is read so far; the scalable target's MinCapacity is not yet collected.
    if service.desired_count < 2:
        return fail(f"the service runs a single task (desiredCount {service.desired_count}): one failure takes it down", evidence)
    return ok(f"the service runs {service.desired_count} tasks", evidence)


@check("RESILIENCE-003", needs=("ecs:ListTasks", "ecs:DescribeTasks"))
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
    counts = dict(sorted(Counter(t.availability_zone for t in running).items()))
    # A service that never set availabilityZoneRebalancing has it DISABLED.
    rebalancing = service.availability_zone_rebalancing or "DISABLED"
    evidence = {"tasks_by_az": counts, "availability_zone_rebalancing": rebalancing}
    problems = []
    if len(counts) == 1 and len(running) >= 2:
        problems.append(f"all {len(running)} running tasks are in {next(iter(counts))}")
    elif max(counts.values()) - min(counts.values()) > 1:
        problems.append("running tasks are unevenly spread: " + ", ".join(f"{n} in {az}" for az, n in counts.items()))
    if rebalancing != "ENABLED":
        problems.append(f"AZ rebalancing is {rebalancing}")
    if problems:
        return warn("; ".join(problems), evidence)
    spread = ", ".join(f"{n} in {az}" for az, n in counts.items())
    return ok(f"running tasks are spread evenly ({spread}) and AZ rebalancing is ENABLED", evidence)


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


@check("RESILIENCE-008", needs=("ecs:DescribeCapacityProviders",))
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


def _latest_event(service: Service) -> str | None:
    # DescribeServices lists events newest first (the inventory keeps the first few).
    return service.events[0].message if service.events else None
