"""Checks of the CLUSTER area (see checks/cluster.yaml)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ecs_audit.catalogue import Severity
from ecs_audit.evaluation.subjects import ClusterSubject
from ecs_audit.evaluation.view import RegionView
from ecs_audit.inventory.arns import name_from_arn
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.rules.registry import check
from ecs_audit.inventory.ec2 import ec2_arn
from ecs_audit.inventory.ecs import ContainerInstance
from ecs_audit.semantics.network_placement import is_external_instance
from ecs_audit.evaluation.network_evidence import cluster_instances
from ecs_audit.inventory.ecs import FARGATE_PROVIDERS

ENVIRONMENT_TAG = "environment"


# Amazon's ECS-optimised AMIs by name (Amazon Linux 1, 2 and 2023 with their GPU/Neuron/arm64 variants,
# Windows Server ..._ECS_Optimized-..., Bottlerocket's ECS variant), counted only when Amazon owns them.
ECS_OPTIMIZED_AMI_NAMES = (
    "amzn-ami-*-amazon-ecs-optimized*",
    "amzn2-ami-ecs-*",
    "al2023-ami-ecs-*",
    "*ecs-optimized*",
    "*ecs_optimized*",
    "bottlerocket-aws-ecs-*",
)


def _label(instance: ContainerInstance) -> str:
    return instance.ec2_instance_id or name_from_arn(instance.container_instance_arn)


def _ecs_optimized(estate: RegionView, ami: str) -> tuple[bool, str]:
    """(is an Amazon ECS-optimised or approved AMI, how to name it)."""
    ec2 = estate.require("ec2")
    image = ec2.image(ami)
    if image is None:
        if ami in ec2.missing_images:
            return False, "no longer available: deregistered or no longer shared"
        estate.raise_if_failed("ec2:DescribeImages", ec2_arn(estate.partition, estate.region, estate.account_id, "image", ami))
        raise EvidenceMissing(f"AMI {ami} was not collected")
    name = image.name or ""
    if any(fnmatchcase(name, pattern) for pattern in estate.config.approved_ami_names):
        return True, name
    by_amazon = image.image_owner_alias == "amazon"
    looks_optimized = any(fnmatchcase(name.lower(), pattern) for pattern in ECS_OPTIMIZED_AMI_NAMES)
    label = name or "unnamed"
    if looks_optimized and not by_amazon:
        label += f", owned by {image.owner_id or 'another account'}, not Amazon"
    return looks_optimized and by_amazon, label


# --- the checks, in id order ----------------------------------------------------------------------


@check("CLUSTER-001")
def ec2_capacity_uses_capacity_providers(c: ClusterSubject) -> Verdict:
    cluster = c.cluster
    instances = cluster.registered_container_instances_count
    ec2_providers = [p for p in cluster.capacity_providers if p not in FARGATE_PROVIDERS]
    evidence: dict[str, object] = {"registered_container_instances": instances, "capacity_providers": cluster.capacity_providers}
    described = c.estate.ecs.container_instances.get(cluster.cluster_arn)
    if described:
        # ECS Anywhere (mi-) instances are registered too, but are not EC2 capacity an Auto Scaling group could manage.
        external = [i for i in described if is_external_instance(i)]
        if external:
            evidence["external_instances"] = len(external)
            instances = max(0, instances - len(external)) if instances >= len(described) else len(described) - len(external)
            evidence["ec2_instances"] = instances
            if instances == 0:
                return na(f"only ECS Anywhere (External) instances are registered ({len(external)}): there is no EC2 capacity", evidence)
    if instances == 0:
        return na("no EC2 container instances are registered")
    if not ec2_providers:
        return fail(f"{instances} container instances are registered but the cluster has no Auto Scaling group capacity provider", evidence)
    return ok(f"{instances} container instances, with capacity providers {', '.join(ec2_providers)}", evidence)


@check("CLUSTER-002")
def ecs_optimized_amis_with_connected_agents(c: ClusterSubject) -> Verdict:
    estate = c.estate
    instances = [i for i in cluster_instances(estate, c.cluster.cluster_arn) if i.status not in ("INACTIVE", "DEREGISTERING")]
    if not instances:
        return na("no container instances are registered")
    disconnected = [_label(i) for i in instances if i.agent_connected is False]
    users: dict[str, list[str]] = {}
    unread: list[EvidenceMissing] = []
    for instance in instances:
        if is_external_instance(instance):
            continue  # ECS Anywhere: no AMI
        if not instance.ami_id:
            unread.append(EvidenceMissing(f"container instance {_label(instance)} reports no ecs.ami-id"))
            continue
        users.setdefault(instance.ami_id, []).append(_label(instance))
    names: dict[str, str] = {}
    other: list[str] = []
    for ami, labels in sorted(users.items()):
        try:
            optimized, name = _ecs_optimized(estate, ami)
        except EvidenceMissing as missing:
            unread.append(missing)
            continue
        names[ami] = name
        if not optimized:
            other.append(f"{ami} ({name}) on {', '.join(sorted(labels))}")
    evidence = {
        "instances": {_label(i): {"agent_connected": i.agent_connected, "ami": i.ami_id, "status": i.status} for i in instances},
        "amis": names,
    }
    if disconnected:
        extra = f"; other AMIs: {'; '.join(other)}" if other else ""
        return fail(f"the container agent is disconnected on {', '.join(sorted(disconnected))}{extra}", evidence)
    if unread:
        raise unread[0]
    if other:
        return warn("container instances run AMIs that are not ECS-optimised: " + "; ".join(other), evidence)
    shown = ", ".join(sorted(set(names.values()))) or "no AMI (ECS Anywhere)"
    counted = "1 container instance" if len(instances) == 1 else f"{len(instances)} container instances"
    return ok(f"{counted} with connected agents, on {shown}", evidence)


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
