"""Which subnets, security groups and VPCs in-use ECS resources use.

One place for the rules, shared by the EC2 collector (what to fetch) and the network checks (what to
read), so both always agree on what a service's network is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecs_audit.inventory.ecs import ContainerInstance, NetworkConfiguration, Service, Task

# Deployments still running tasks; INACTIVE ones are history.
_LIVE_DEPLOYMENTS = (None, "PRIMARY", "ACTIVE")


@dataclass(frozen=True)
class Placement:
    """One awsvpc configuration of a service: its own, a live deployment's or a task set's."""

    where: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]


def _placement(where: str, network: NetworkConfiguration | None) -> Placement | None:
    if network is None or network.awsvpc_configuration is None:
        return None
    awsvpc = network.awsvpc_configuration
    return Placement(where, tuple(awsvpc.subnets), tuple(awsvpc.security_groups))


def service_placements(service: Service) -> list[Placement]:
    """The service's awsvpc configurations, without repeats (the primary deployment's usually equals
    the service's own). Empty for bridge and host network modes.

    Worked out once per service (about eight checks ask) and kept beside its fields, which
    serialization and equality ignore (as MonitoringInventory.alarm_index is); a copy of the
    service with other network settings works out its own."""
    sources = (service.network_configuration, service.deployments, service.task_sets)
    kept = service.__dict__.get("_placements")
    if kept is None or any(a is not b for a, b in zip(kept[0], sources)):
        kept = service.__dict__["_placements"] = (sources, _placements_of(service))
    return list(kept[1])


def _placements_of(service: Service) -> list[Placement]:
    candidates = [_placement("service", service.network_configuration)]
    for deployment in service.deployments:
        if deployment.status in _LIVE_DEPLOYMENTS:
            candidates.append(_placement(f"deployment {deployment.id or '?'}", deployment.network_configuration))
    for task_set in service.task_sets:
        candidates.append(_placement(f"task set {task_set.id or task_set.task_set_arn or '?'}", task_set.network_configuration))
    placements: list[Placement] = []
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for placement in candidates:
        if placement is None:
            continue
        key = (tuple(sorted(placement.subnets)), tuple(sorted(placement.security_groups)))
        if key not in seen:
            seen.add(key)
            placements.append(placement)
    return placements


def service_subnet_ids(service: Service) -> list[str]:
    return sorted({subnet for placement in service_placements(service) for subnet in placement.subnets})


def service_security_group_ids(service: Service) -> list[str]:
    return sorted({group for placement in service_placements(service) for group in placement.security_groups})


def uses_default_security_group(service: Service) -> bool:
    """An awsvpc configuration that names no security group gets its VPC's default group."""
    return any(not placement.security_groups for placement in service_placements(service))


def is_active(service: Service) -> bool:
    return service.status != "INACTIVE"


def task_subnet_ids(task: Task) -> list[str]:
    """The subnet of a running awsvpc task's network interface."""
    return sorted(
        {
            detail.value
            for attachment in task.attachments
            if attachment.type == "ElasticNetworkInterface"
            for detail in attachment.details
            if detail.name == "subnetId" and detail.value
        }
    )


def instance_attribute(instance: ContainerInstance, name: str) -> str | None:
    for attribute in instance.attributes:
        if attribute.name == name:
            return attribute.value
    return None


def is_external_instance(instance: ContainerInstance) -> bool:
    """ECS Anywhere instances (managed instance ids mi-...) have no AMI, VPC or AZ."""
    instance_id = instance.ec2_instance_id or ""
    return not instance_id.startswith("i-")
