"""Checks of the CLUSTER area (see checks/cluster.yaml)."""

from __future__ import annotations

from ecs_audit.catalogue import Severity
from ecs_audit.estate import ClusterSubject
from ecs_audit.findings import Verdict, fail, na, ok, warn
from ecs_audit.rules.registry import check
from ecs_audit.inventory.ecs import FARGATE_PROVIDERS

ENVIRONMENT_TAG = "environment"


@check("CLUSTER-001")
def ec2_capacity_uses_capacity_providers(c: ClusterSubject) -> Verdict:
    cluster = c.cluster
    instances = cluster.registered_container_instances_count
    ec2_providers = [p for p in cluster.capacity_providers if p not in FARGATE_PROVIDERS]
    evidence = {"registered_container_instances": instances, "capacity_providers": cluster.capacity_providers}
    if instances == 0:
        return na("no EC2 container instances are registered")
    if not ec2_providers:
        return fail(f"{instances} container instances are registered but the cluster has no Auto Scaling group capacity provider", evidence)
    return ok(f"{instances} container instances, with capacity providers {', '.join(ec2_providers)}", evidence)


@check("CLUSTER-003")
def single_environment(c: ClusterSubject) -> Verdict:
    services = [s for s in c.services if s.status != "INACTIVE"]
    if not services:
        return na("the cluster has no services")
    # Values are compared case-insensitively ("prod" and "Prod" are one environment).
    values: dict[str, set[str]] = {}
    for service in services:
        for key, value in service.tags.items():
            if key.lower() == ENVIRONMENT_TAG:
                values.setdefault(value.lower(), set()).add(service.service_name)
    evidence = {"environments": {env: sorted(names) for env, names in values.items()}}
    if not values:
        return na(f"none of the cluster's {len(services)} services carries an Environment tag")
    if len(values) >= 2:
        return warn(f"the cluster's services belong to {len(values)} environments: {', '.join(sorted(values))}", evidence)
    return ok(f"every tagged service is in environment {next(iter(values))}", evidence)


@check("CLUSTER-004")
def cluster_not_idle(c: ClusterSubject) -> Verdict:
    cluster = c.cluster
    evidence = {
        "active_services": cluster.active_services_count,
        "running_tasks": cluster.running_tasks_count,
        "pending_tasks": cluster.pending_tasks_count,
        "registered_container_instances": cluster.registered_container_instances_count,
    }
    if not any(evidence.values()):
        return warn("the cluster is idle: no services, tasks or container instances", evidence, severity=Severity.INFO)
    return ok(
        f"{cluster.active_services_count} active services, {cluster.running_tasks_count} running tasks, "
        f"{cluster.registered_container_instances_count} container instances",
        evidence,
    )
