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
from ecs_audit.inventory.ecs import FARGATE_PROVIDERS, MANAGED_INSTANCES

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
    estate = c.estate
    instances = cluster.registered_container_instances_count
    # An ECS Managed Instances capacity provider launches and manages only its own instances
    # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ManagedInstances.html): it is not a
    # capacity provider for self-managed EC2 instances.
    named = [p for p in cluster.capacity_providers if p not in FARGATE_PROVIDERS]
    managed_providers = [p for p in named if (found := estate.capacity_provider(p)) is not None and found.type == MANAGED_INSTANCES]
    ec2_providers = [p for p in named if p not in managed_providers]
    evidence: dict[str, object] = {"registered_container_instances": instances, "capacity_providers": cluster.capacity_providers}
    described = estate.ecs.container_instances.get(cluster.cluster_arn)
    if described:
        # ECS Anywhere (mi-) instances are registered too, but are not EC2 capacity an Auto Scaling group
        # could manage; ECS Managed Instances are managed by their own capacity provider.
        external = [i for i in described if is_external_instance(i)]
        managed = [i for i in described if not is_external_instance(i) and estate.is_managed_instance(i)]
        if external:
            evidence["external_instances"] = len(external)
        if managed:
            evidence["managed_instances"] = len(managed)
        if external or managed:
            others = len(external) + len(managed)
            instances = max(0, instances - others) if instances >= len(described) else len(described) - others
            evidence["ec2_instances"] = instances
            if instances == 0:
                only = " and ".join(
                    what for what, found in (("ECS Anywhere (External) instances", external), ("ECS Managed Instances", managed)) if found
                )
                return na(f"only {only} are registered ({others}): there is no self-managed EC2 capacity", evidence)
    elif instances and managed_providers and not ec2_providers:
        raise EvidenceMissing(
            f"the cluster's {instances} container instances were not read, so whether they are its ECS Managed Instances "
            f"({', '.join(managed_providers)}) is not known"
        )
    if instances == 0:
        return na("no EC2 container instances are registered")
    if not ec2_providers:
        return fail(f"{instances} container instances are registered but the cluster has no Auto Scaling group capacity provider", evidence)
    unread = [m for p in ec2_providers if estate.capacity_provider(p) is None and (m := estate.provider_unread(p, cluster.cluster_arn))]
    if unread and len(unread) == len(ec2_providers):
        raise unread[0]  # an undescribed provider may be a Managed Instances one, which does not manage these instances
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
    # ECS Managed Instances run an AMI that AWS chooses and patches (instances are replaced within 14-21
    # days): https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instances-patching.html
    managed: list[str] = []
    maybe_managed: dict[str, EvidenceMissing] = {}  # label -> why its capacity provider's type is unknown
    for instance in instances:
        if is_external_instance(instance):
            continue  # ECS Anywhere: no AMI
        if estate.is_managed_instance(instance):
            managed.append(_label(instance))
            continue
        if (missing := estate.instance_provider_unread(instance, c.cluster.cluster_arn)) is not None:
            maybe_managed[_label(instance)] = missing
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
            # An instance whose capacity provider was not described may be a Managed Instance (AMI not its owner's choice).
            unread += [maybe_managed[label] for label in labels if label in maybe_managed]
            labels = [label for label in labels if label not in maybe_managed]
            if labels:
                other.append(f"{ami} ({name}) on {', '.join(sorted(labels))}")
    evidence: dict[str, object] = {
        "instances": {_label(i): {"agent_connected": i.agent_connected, "ami": i.ami_id, "status": i.status} for i in instances},
        "amis": names,
    }
    if managed:
        evidence["managed_instances"] = sorted(managed)
    if disconnected:
        extra = f"; other AMIs: {'; '.join(other)}" if other else ""
        return fail(f"the container agent is disconnected on {', '.join(sorted(disconnected))}{extra}", evidence)
    if other:
        # Decided by the instances that were read; those that were not could only add to the list.
        not_read = f" (not judged: {'; '.join(sorted({m.reason for m in unread}))})" if unread else ""
        return warn("container instances run AMIs that are not ECS-optimised: " + "; ".join(other) + not_read, evidence)
    if unread:
        raise unread[0]
    kinds = [", ".join(sorted(set(names.values())))] if names else []
    if managed:
        kinds.append("AMIs AWS manages (ECS Managed Instances)")
    shown = " and ".join(kinds) or "no AMI (ECS Anywhere)"
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
