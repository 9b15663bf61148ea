"""Checks of the NETWORK area (see checks/network.yaml)."""

from __future__ import annotations

from ecs_audit.catalogue import Severity
from ecs_audit.estate import AccountSubject, RegionView, ServiceSubject, TaskDefSubject, name_from_arn
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.ecs import NetworkConfiguration
from ecs_audit.rules.registry import check

_APPMESH_ENVOY_REPOSITORY = "aws-appmesh-envoy"


def _assign_public_ip(network: NetworkConfiguration | None) -> str | None:
    """ENABLED or DISABLED (the API default) for an awsvpc configuration; None without one."""
    if network is None or network.awsvpc_configuration is None:
        return None
    return network.awsvpc_configuration.assign_public_ip or "DISABLED"


def _repository(image: str) -> str:
    """An image reference without its digest and tag."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


@check("NETWORK-001")
def no_public_ips(s: ServiceSubject) -> Verdict:
    settings = {"service": _assign_public_ip(s.service.network_configuration)}
    for task_set in s.service.task_sets:
        settings[f"task set {task_set.id or task_set.task_set_arn}"] = _assign_public_ip(task_set.network_configuration)
    settings = {where: value for where, value in settings.items() if value is not None}
    if not settings:
        return na("the service has no awsvpc network configuration (bridge or host network mode)")
    public = sorted(where for where, value in settings.items() if value == "ENABLED")
    if public:
        return fail("public IPs are assigned (assignPublicIp ENABLED) on: " + ", ".join(public), {"assign_public_ip": settings})
    return ok("no public IPs are assigned", {"assign_public_ip": settings})


# Calls that list the services and tasks NETWORK-008 looks through.
_WORKLOAD_LISTING = ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks")


def _ec2_awsvpc_task_definitions(estate: RegionView) -> set[str]:
    """family:revision of awsvpc task definitions that ACTIVE services or running tasks run on EC2."""
    references = [
        service.task_definition
        for service in estate.services
        if service.status in (None, "ACTIVE")
        and service.task_definition
        and service.effective_launch_type == "EC2"
    ]
    if estate.has_ecs:
        references += [
            task.task_definition_arn
            for task in estate.ecs.tasks
            if task.task_definition_arn
            and task.effective_launch_type == "EC2"
        ]
    found: set[str] = set()
    unreadable: list[EvidenceMissing] = []
    for reference in references:
        try:
            td = estate.task_definition(reference)
        except EvidenceMissing as missing:
            unreadable.append(missing)
            continue
        if td.network_mode == "awsvpc":
            found.add(td.family_revision)
    if not found and unreadable:
        raise unreadable[0]
    return found


@check("NETWORK-008", needs=("ecs:ListAccountSettings", *_WORKLOAD_LISTING))
def eni_trunking_where_needed(a: AccountSubject) -> Verdict:
    estate = a.estate
    awsvpc = _ec2_awsvpc_task_definitions(estate) if "EC2" in estate.launch_types_in_use() else set()
    if not awsvpc:
        # A cluster whose services or tasks could not be listed may hide EC2 awsvpc tasks.
        for action in _WORKLOAD_LISTING:
            error = estate.error_for(action)
            if error is not None:
                raise EvidenceMissing(f"some services or tasks could not be read: {error.describe()}", error.action, error.error_code)
        if "EC2" not in estate.launch_types_in_use():
            return na("no EC2 launch type is in use")
        return na("no awsvpc tasks run on the EC2 launch type")
    setting = estate.account_setting("awsvpcTrunking")
    value = setting.value if setting else None
    evidence = {"awsvpc_trunking": value, "ec2_awsvpc_task_definitions": sorted(awsvpc)}
    if (value or "").lower() == "enabled":
        return ok("ENI trunking (awsvpcTrunking) is enabled", evidence)
    shown = value or "not set (defaults to disabled)"
    return warn(
        f"ENI trunking (awsvpcTrunking) is {shown} while EC2 runs awsvpc tasks ({', '.join(sorted(awsvpc))}): "
        "each instance can hold only a few tasks",
        evidence,
        severity=Severity.LOW,
    )


@check("NETWORK-009")
def no_app_mesh(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    proxy = td.proxy_configuration.type if td.proxy_configuration else None
    envoys = sorted(c.name for c in td.container_definitions if _APPMESH_ENVOY_REPOSITORY in _repository(c.image))
    evidence = {"proxy_configuration_type": proxy, "app_mesh_envoy_containers": envoys}
    signs = []
    if proxy == "APPMESH":
        signs.append("proxyConfiguration type APPMESH")
    if envoys:
        signs.append("App Mesh Envoy image in " + ", ".join(envoys))
    if signs:
        return fail(
            f"the task definition uses AWS App Mesh ({'; '.join(signs)}): App Mesh reached end of support on "
            "2026-09-30; migrate to Service Connect",
            evidence,
        )
    return ok("no App Mesh proxy configuration or Envoy image", evidence)


@check("NETWORK-010")
def private_service_to_service(s: ServiceSubject) -> Verdict:
    service = s.service
    connect = service.service_connect
    load_balancers = [*service.load_balancers, *(lb for ts in service.task_sets for lb in ts.load_balancers)]
    # Whether a load balancer is internal needs ELB data; until then it is named without the qualifier.
    mechanisms = []
    if connect is not None and connect.enabled:
        mechanisms.append(f"Service Connect (namespace {name_from_arn(connect.namespace)})" if connect.namespace else "Service Connect")
    if service.service_registries:
        mechanisms.append("Cloud Map")
    if load_balancers:
        mechanisms.append("load balancer")
    evidence = {
        "service_connect": bool(connect and connect.enabled),
        "service_registries": len(service.service_registries),
        "load_balancers": len(load_balancers),
    }
    if mechanisms:
        return ok("reachable through " + ", ".join(mechanisms), evidence)
    return warn(
        "no Service Connect, Cloud Map registry or load balancer is visible for service-to-service traffic",
        evidence,
        severity=Severity.INFO,
    )
