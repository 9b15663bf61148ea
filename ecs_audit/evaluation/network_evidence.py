"""Evidence helpers shared by the network, storage, resilience and cluster checks: a service's subnets,
security groups, Availability Zones and EFS file systems, each read from the EC2/EFS parts of the
inventory with EvidenceMissing whenever what decides a verdict was not collected.

No check is registered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecs_audit.evaluation.subjects import ServiceSubject
from ecs_audit.evaluation.view import RegionView
from ecs_audit.inventory.arns import name_from_arn
from ecs_audit.inventory.usage import service_task_definition_arns
from ecs_audit.findings import EvidenceMissing
from ecs_audit.inventory.ec2 import Ec2Inventory, Instance, SecurityGroup, Subnet, ec2_arn
from ecs_audit.inventory.ecs import ContainerInstance
from ecs_audit.inventory.efs import EfsInventory, MountTarget, file_system_arn
from ecs_audit.semantics.network_placement import instance_attribute, is_external_instance, service_placements


def arn(estate: RegionView, kind: str, resource_id: str) -> str:
    return ec2_arn(estate.partition, estate.region, estate.account_id, kind, resource_id)


def ec2_part(estate: RegionView) -> Ec2Inventory:
    return estate.require("ec2")


def efs_part(estate: RegionView) -> EfsInventory:
    return estate.require("efs")


def subnets_of(estate: RegionView, subnet_ids: list[str]) -> tuple[list[Subnet], list[str]]:
    """(subnets found, ids that no longer exist); EvidenceMissing for one that was not read."""
    ec2 = ec2_part(estate)
    found: list[Subnet] = []
    missing: list[str] = []
    for subnet_id in subnet_ids:
        subnet = ec2.subnet(subnet_id)
        if subnet is not None:
            found.append(subnet)
        elif subnet_id in ec2.missing_subnets:
            missing.append(subnet_id)
        else:
            estate.raise_if_failed("ec2:DescribeSubnets", arn(estate, "subnet", subnet_id))
            raise EvidenceMissing(f"subnet {subnet_id} was not collected")
    return found, missing


def security_group(estate: RegionView, group_id: str) -> SecurityGroup | None:
    """A security group; None when it no longer exists; EvidenceMissing when it was not read."""
    ec2 = ec2_part(estate)
    group = ec2.security_group(group_id)
    if group is not None:
        return group
    if group_id in ec2.missing_security_groups:
        return None
    estate.raise_if_failed("ec2:DescribeSecurityGroups", arn(estate, "security-group", group_id))
    raise EvidenceMissing(f"security group {group_id} was not collected")


@dataclass
class TaskGroups:
    """The security groups a service's tasks get: named ones, and VPC default groups where none is named."""

    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)  # VPC id -> default group id used


def service_security_groups(s: ServiceSubject) -> TaskGroups:
    estate = s.estate
    ec2 = ec2_part(estate)
    result = TaskGroups()
    for placement in service_placements(s.service):
        group_ids = list(placement.security_groups)
        if not group_ids:
            subnets, _ = subnets_of(estate, sorted(placement.subnets))
            for vpc in sorted({subnet.vpc_id for subnet in subnets if subnet.vpc_id}):
                default = ec2.default_security_groups.get(vpc)
                if default is None:
                    estate.raise_if_failed("ec2:DescribeSecurityGroups", arn(estate, "vpc", vpc))
                    raise EvidenceMissing(f"the default security group of {vpc} (used by {placement.where}, which names none) was not collected")
                result.defaults[vpc] = default
                group_ids.append(default)
        for group_id in group_ids:
            if group_id in result.groups or group_id in result.missing:
                continue
            group = security_group(estate, group_id)
            if group is None:
                result.missing.append(group_id)
            else:
                result.groups[group_id] = group
    return result


@dataclass
class ServiceZones:
    """The Availability Zones a service's tasks can run in, and what that was read from."""

    zones: dict[str, list[str]]  # AZ -> the subnets (or container instances) there
    basis: str  # "subnets" or "container instances"
    missing_subnets: list[str] = field(default_factory=list)


def service_zones(s: ServiceSubject) -> ServiceZones:
    """awsvpc services: the AZs of their subnets. Other network modes: the AZs of the cluster's
    container instances (the agent's ecs.availability-zone attribute)."""
    subnet_ids = sorted({subnet for p in service_placements(s.service) for subnet in p.subnets})
    if subnet_ids:
        subnets, missing = subnets_of(s.estate, subnet_ids)
        zones: dict[str, list[str]] = {}
        for subnet in subnets:
            if not subnet.availability_zone:
                raise EvidenceMissing(f"DescribeSubnets returned subnet {subnet.subnet_id} without its Availability Zone")
            zones.setdefault(subnet.availability_zone, []).append(subnet.subnet_id)
        return ServiceZones({az: sorted(ids) for az, ids in sorted(zones.items())}, "subnets", missing)
    instances = cluster_instances(s.estate, s.service.cluster_arn)
    zones = {}
    for instance in instances:
        if is_external_instance(instance):
            continue
        az = instance_attribute(instance, "ecs.availability-zone")
        if not az:
            raise EvidenceMissing(f"container instance {name_from_arn(instance.container_instance_arn)} reports no ecs.availability-zone")
        zones.setdefault(az, []).append(instance.ec2_instance_id or name_from_arn(instance.container_instance_arn))
    if not zones:
        raise EvidenceMissing(
            "the service does not use awsvpc and no EC2 container instance is registered, so the AZs it can use "
            "(its Auto Scaling group's subnets) are unknown"
        )
    return ServiceZones({az: sorted(ids) for az, ids in sorted(zones.items())}, "container instances")


def cluster_instances(estate: RegionView, cluster_arn: str) -> list[ContainerInstance]:
    """The cluster's container instances; EvidenceMissing when they were registered but not read."""
    instances = estate.ecs.container_instances.get(cluster_arn)
    if instances is not None:
        return list(instances)
    for action in ("ecs:ListContainerInstances", "ecs:DescribeContainerInstances"):
        estate.raise_if_failed(action, cluster_arn)
    cluster = estate.cluster(cluster_arn)
    if cluster is not None and cluster.registered_container_instances_count > 0:
        raise EvidenceMissing(
            f"the cluster reports {cluster.registered_container_instances_count} container instances but none were collected"
        )
    return []


def service_file_systems(s: ServiceSubject) -> dict[str, list[str]]:
    """EFS file system id -> the task definitions (family:rev/volume) of the service that mount it."""
    file_systems: dict[str, list[str]] = {}
    for reference in service_task_definition_arns(s.service):
        td = s.estate.task_definition(reference)
        for volume in td.volumes:
            config = volume.efs_volume_configuration
            if config is not None:
                file_systems.setdefault(config.file_system_id, []).append(f"{td.family_revision}/{volume.name or '?'}")
    return {fs: sorted(users) for fs, users in sorted(file_systems.items())}


def mount_targets_of(estate: RegionView, file_system_id: str) -> list[MountTarget] | None:
    """The file system's mount targets; None when the file system no longer exists."""
    efs = efs_part(estate)
    if file_system_id in efs.missing_file_systems:
        return None
    targets = efs.mount_targets.get(file_system_id)
    if targets is None:
        estate.raise_if_failed("elasticfilesystem:DescribeMountTargets", fs_arn(estate, file_system_id))
        raise EvidenceMissing(f"the mount targets of {file_system_id} were not collected")
    return targets


def fs_arn(estate: RegionView, file_system_id: str) -> str:
    return file_system_arn(estate.partition, estate.region, estate.account_id, file_system_id)


@dataclass
class ServiceHosts:
    """The EC2 instances whose network a bridge or host mode service's tasks use."""

    instances: dict[str, Instance]  # EC2 instance id -> DescribeInstances' answer
    basis: str  # "running tasks" or "cluster instances"
    gone: list[str] = field(default_factory=list)  # instance ids that no longer exist or are terminated/terminating

    def none_hosts(self) -> str:
        """Why a bridge or host mode check does not apply when no instance is left."""
        gone = f" (instances {', '.join(self.gone)} are terminated or no longer exist)" if self.gone else ""
        return "the service has no awsvpc network configuration and no EC2 container instance in a VPC hosts its tasks" + gone


def service_hosts(s: ServiceSubject) -> ServiceHosts:
    """The instances running the service's tasks; without a running task, every EC2 container instance
    of its cluster (where they would be placed). ECS Anywhere (mi-) instances are in no VPC and are left
    out. EvidenceMissing names DescribeInstances when an instance could not be read."""
    estate = s.estate
    instances = cluster_instances(estate, s.service.cluster_arn)
    by_arn = {i.container_instance_arn: i for i in instances}
    running = [by_arn[t.container_instance_arn] for t in estate.tasks_of(s.service) if t.container_instance_arn in by_arn]
    chosen, basis = (running, "running tasks") if running else (instances, "cluster instances")
    ids = sorted({i.ec2_instance_id for i in chosen if i.ec2_instance_id and not is_external_instance(i)})
    result = ServiceHosts({}, basis)
    if not ids:
        return result
    ec2 = ec2_part(estate)
    for instance_id in ids:
        found = ec2.instance(instance_id)
        if found is not None and not found.is_gone:
            result.instances[instance_id] = found
        elif found is not None or instance_id in ec2.missing_instances:
            result.gone.append(instance_id)
        else:
            estate.raise_if_failed("ec2:DescribeInstances", arn(estate, "instance", instance_id))
            raise EvidenceMissing(f"EC2 instance {instance_id} (a container instance of the service's cluster) was not collected", "ec2:DescribeInstances")
    return result
