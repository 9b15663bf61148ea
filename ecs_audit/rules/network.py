"""Checks of the NETWORK area (see checks/network.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ecs_audit.catalogue import Severity
from ecs_audit.evaluation.subjects import AccountSubject, LoadBalancerSubject, ServiceSubject, TaskDefSubject
from ecs_audit.evaluation.view import RegionView
from ecs_audit.inventory.arns import name_from_arn
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, unknown, warn
from ecs_audit.inventory.ecs import MANAGED_INSTANCES, NetworkConfiguration, Service, Task
from ecs_audit.inventory.ec2 import SecurityGroup, Subnet
from ecs_audit.inventory.elbv2 import Listener, LoadBalancerV2
from ecs_audit.semantics.network_placement import instance_attribute, is_active, is_external_instance, service_placements, task_subnet_ids
from ecs_audit.evaluation.network_evidence import arn as ec2_resource_arn
from ecs_audit.evaluation.network_evidence import (
    ServiceHosts,
    cluster_instances,
    ec2_part,
    security_group,
    service_hosts,
    service_security_groups,
    subnets_of,
)
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


# Calls that list the services and tasks NETWORK-008 looks through.
_WORKLOAD_LISTING = ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks")


def _ec2_awsvpc_workloads(estate: RegionView) -> tuple[dict[str, set[str]], list[EvidenceMissing]]:
    """family:revision of awsvpc task definitions that ACTIVE services or running tasks run on self-managed
    EC2, by the cluster they run in, and why the others could not be told apart. ECS Managed Instances are left out: they get a trunk network interface
    at launch whenever the instance type supports it, without the awsvpcTrunking setting
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instances-awsvpc-mode.html). A
    service or task whose capacity provider could not be described counts as unread, like an unread
    task definition."""
    workloads: list[Service | Task] = [s for s in estate.services if s.status in (None, "ACTIVE") and s.task_definition]
    workloads += [t for t in (estate.ecs.tasks if estate.has_ecs else []) if t.task_definition_arn]
    references: list[tuple[str | None, str]] = []
    unreadable: list[EvidenceMissing] = []
    for workload in workloads:
        try:
            places = estate.service_placements(workload) if isinstance(workload, Service) else estate.task_placements(workload)
        except EvidenceMissing as missing:
            unreadable.append(missing)
            continue
        if any(place.kind == "EC2" for place in places):
            reference = workload.task_definition if isinstance(workload, Service) else workload.task_definition_arn
            references.append((workload.cluster_arn, reference or ""))
    found: dict[str, set[str]] = {}
    for cluster, reference in references:
        try:
            td = estate.task_definition(reference)
        except EvidenceMissing as missing:
            unreadable.append(missing)
            continue
        if td.network_mode == "awsvpc":
            found.setdefault(cluster or "", set()).add(td.family_revision)
    return found, unreadable


# Present on a container instance that has a trunk network interface
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html#attributes).
TRUNK_ATTRIBUTE = "ecs.awsvpc-trunk-id"


def _instance_principal(estate: RegionView, instance_id: str) -> str:
    """The instance profile whose role registered the container instance (the principal whose
    awsvpcTrunking setting decided), from DescribeInstances; a note when it was not read."""
    ec2 = estate.inventory.ec2
    instance = ec2.instance(instance_id) if ec2 is not None else None
    if instance is None:
        return "instance profile not read (ec2:DescribeInstances)"
    profile = instance.iam_instance_profile
    return profile.arn if profile is not None and profile.arn else "no instance profile"


@dataclass
class _Fronts:
    """The load balancers in front of a service, by scheme (names)."""

    internal: list[str] = field(default_factory=list)
    internet_facing: list[str] = field(default_factory=list)
    classic: list[str] = field(default_factory=list)


def _fronting_load_balancers(s: ServiceSubject) -> _Fronts:
    estate = s.estate
    elbv2 = estate.require("elbv2")
    fronts = _Fronts()
    for entry in s.service.all_load_balancers:
        if not entry.target_group_arn:
            if entry.load_balancer_name and entry.load_balancer_name not in fronts.classic:
                fronts.classic.append(entry.load_balancer_name)
            continue
        target_group = elbv2.target_group(entry.target_group_arn)
        if target_group is None:
            if entry.target_group_arn in elbv2.missing_target_groups:
                continue  # deleted: fronts nothing
            estate.raise_if_failed("elasticloadbalancing:DescribeTargetGroups", entry.target_group_arn)
            raise EvidenceMissing(f"target group {name_from_arn(entry.target_group_arn)} was not collected")
        for arn in target_group.load_balancer_arns:
            load_balancer = _load_balancer(estate, arn)
            bucket = fronts.internal if load_balancer.scheme == "internal" else fronts.internet_facing
            if load_balancer.load_balancer_name not in bucket:
                bucket.append(load_balancer.load_balancer_name)
    return fronts


def _load_balancer(estate: RegionView, arn: str) -> LoadBalancerV2:
    load_balancer = estate.require("elbv2").load_balancer(arn)
    if load_balancer is None:
        estate.raise_if_failed("elasticloadbalancing:DescribeLoadBalancers", arn)
        raise EvidenceMissing(f"load balancer {name_from_arn(arn)} was not collected")
    return load_balancer


# --- NETWORK-002 .. NETWORK-007: subnets, security groups, load balancers, flow logs ----------


def _listeners(s: LoadBalancerSubject) -> list[Listener]:
    estate = s.estate
    listeners = estate.require("elbv2").listeners.get(s.load_balancer.load_balancer_arn)
    if listeners is None:
        estate.raise_if_failed("elasticloadbalancing:DescribeListeners", s.load_balancer.load_balancer_arn)
        raise EvidenceMissing(f"the listeners of {s.load_balancer.load_balancer_name} were not collected")
    return listeners


def _kind(lb: LoadBalancerV2) -> str:
    return {"application": "ALB", "network": "NLB", "gateway": "Gateway Load Balancer"}.get(lb.type or "", lb.type or "load balancer")


def _action_summary(listener: Listener) -> str:
    if listener.redirects_to_https:
        return "redirect to HTTPS"
    actions = sorted(listener.default_actions, key=lambda a: a.order if a.order is not None else 50001)
    return actions[-1].type if actions else "no default action"


# Predefined ELB security policies that still allow TLS 1.0 or 1.1, with the oldest version each allows
# ("Security policies for your Application Load Balancer" and "... Network Load Balancer": protocols by
# policy). Every other predefined policy's name states its minimum version after TLS13-, TLS- or FS-
# (e.g. ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 allows TLS 1.2 and 1.3).
LEGACY_TLS_POLICIES: dict[str, str] = {
    "ELBSecurityPolicy-2016-08": "1.0",
    "ELBSecurityPolicy-2015-05": "1.0",
    "ELBSecurityPolicy-TLS-1-0-2015-04": "1.0",
    "ELBSecurityPolicy-FS-2018-06": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-2021-06": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09": "1.0",
    "ELBSecurityPolicy-TLS-1-1-2017-01": "1.1",
    "ELBSecurityPolicy-FS-1-1-2019-08": "1.1",
    "ELBSecurityPolicy-TLS13-1-1-2021-06": "1.1",
    "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04": "1.1",
}
_POLICY_MINIMUM = re.compile(r"^ELBSecurityPolicy-(?:TLS13|TLS|FS)-1-([0-3])-")


def minimum_tls_version(policy: str) -> str | None:
    """The oldest TLS version a predefined policy allows ("1.0" .. "1.3"); None if unrecognised."""
    if policy in LEGACY_TLS_POLICIES:
        return LEGACY_TLS_POLICIES[policy]
    match = _POLICY_MINIMUM.match(policy)
    return f"1.{match.group(1)}" if match else None


# The calls that list what runs in the region's VPCs: a gap may hide a VPC.
_TASK_LISTING = (
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:ListContainerInstances",
    "ecs:DescribeContainerInstances",
)


# --- the checks, in id order ----------------------------------------------------------------------


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


def _route_summary(subnet: Subnet, estate: RegionView) -> tuple[str, list[str]]:
    """How a subnet reaches the internet: its default routes (IPv4 and IPv6) as text, and the internet
    gateways among them (with the table), which make it a public subnet."""
    ec2 = ec2_part(estate)
    # An unread explicit association must not fall back to the VPC's main table.
    estate.raise_if_failed("ec2:DescribeRouteTables", ec2_resource_arn(estate, "subnet", subnet.subnet_id))
    # A subnet without an explicit association uses its VPC's main route table (route_table_for).
    table = ec2.route_table_for(subnet)
    if table is None:
        if subnet.vpc_id:
            estate.raise_if_failed("ec2:DescribeRouteTables", ec2_resource_arn(estate, "vpc", subnet.vpc_id))
        raise EvidenceMissing(f"the route table of subnet {subnet.subnet_id} was not collected")
    routes = table.default_routes()
    public = [f"{route.destination} -> {route.gateway_id} via {table.route_table_id}" for route in routes if route.is_default_to_internet_gateway]
    if not routes:
        return "no default route", []
    if public:
        return ", ".join(f"{r.destination} -> {r.target} ({table.route_table_id})" for r in routes), public
    return ", ".join(f"{r.destination} -> {r.target}" for r in routes), []


def _host_network(s: ServiceSubject) -> tuple[ServiceHosts, dict[str, list[str]]]:
    """The instances a bridge or host mode service's tasks use, and subnet -> those instances with an
    interface in it (a secondary interface named after the instance: Instance.host_interfaces)."""
    hosts = service_hosts(s)
    subnets: dict[str, list[str]] = {}
    for instance_id, instance in hosts.instances.items():
        for interface in instance.host_interfaces():
            if not interface.subnet_id:
                raise EvidenceMissing(f"DescribeInstances returned {interface.label(instance_id)} without its subnet")
            subnets.setdefault(interface.subnet_id, []).append(interface.label(instance_id))
    return hosts, subnets


@check("NETWORK-002")
def tasks_in_private_subnets(s: ServiceSubject) -> Verdict:
    estate = s.estate
    users: dict[str, list[str]] = {}  # subnet -> the instances there (bridge and host modes)
    hosts: ServiceHosts | None = None
    if service_placements(s.service):
        subnet_ids = sorted({subnet for p in service_placements(s.service) for subnet in p.subnets})
    else:
        # Bridge and host mode tasks share their container instance's network interface.
        hosts, users = _host_network(s)
        if not users:
            return na(hosts.none_hosts())
        subnet_ids = sorted(users)
    subnets, missing = subnets_of(estate, subnet_ids)
    routes: dict[str, str] = {}
    public: list[str] = []
    for subnet in subnets:
        summary, gateways = _route_summary(subnet, estate)
        routes[subnet.subnet_id] = summary
        if gateways:
            on = f" [{', '.join(users[subnet.subnet_id])}]" if subnet.subnet_id in users else ""
            public.append(f"{subnet.subnet_id} ({'; '.join(gateways)}){on}")
    evidence: dict[str, object] = {"subnets": routes, "missing_subnets": missing}
    where = "task subnets"
    if hosts is not None:
        evidence.update(network="container instance (bridge or host mode)", instances=users, instances_basis=hosts.basis)
        where = f"the subnets of the container instances its tasks use ({hosts.basis})"
    if public:
        if hosts is not None:
            return fail(
                "tasks use the network of container instances in public subnets whose default route goes to an "
                "internet gateway: " + ", ".join(public),
                evidence,
            )
        return fail("tasks run in public subnets whose default route goes to an internet gateway: " + ", ".join(public), evidence)
    if not subnets:
        return na(f"none of the service's subnets exists any more ({', '.join(missing)}); see RESILIENCE-010", evidence)
    shown = ", ".join(f"{subnet} ({route})" for subnet, route in routes.items())
    if hosts is not None:
        return ok(f"every one of {where} is private: {shown}", evidence)
    return ok(f"every task subnet is private: {shown}", evidence)


def _open_rules(groups: dict[str, SecurityGroup]) -> list[str]:
    found: list[str] = []
    for group_id, group in groups.items():
        for permission in group.ip_permissions:
            sources = permission.open_to_anywhere
            if sources:
                label = f"{group_id} ({group.group_name})" if group.group_name else group_id
                found.append(f"{label} admits {permission.ports} from {' and '.join(sources)}")
    return found


def _host_groups_closed(s: ServiceSubject) -> Verdict:
    """Bridge and host mode: the security groups of the container instances' interfaces its tasks are
    reached through, the primary and those a user attached (Instance.host_interfaces)."""
    hosts = service_hosts(s)
    if not hosts.instances:
        return na(hosts.none_hosts())
    users: dict[str, list[str]] = {}
    for instance_id, instance in hosts.instances.items():
        for interface in instance.host_interfaces():
            for group_id in interface.group_ids:
                users.setdefault(group_id, []).append(interface.label(instance_id))
    groups: dict[str, SecurityGroup] = {}
    missing: list[str] = []
    for group_id in sorted(users):
        group = security_group(s.estate, group_id)
        if group is None:
            missing.append(group_id)
        else:
            groups[group_id] = group
    open_rules = _open_rules(groups)
    evidence = {
        "network": "container instance (bridge or host mode)",
        "instances_basis": hosts.basis,
        "instance_security_groups": {g: sorted(ids) for g, ids in sorted(users.items())},
        "missing_security_groups": missing,
        "open_to_internet": open_rules,
    }
    if open_rules:
        return fail(
            f"the container instances its tasks use ({', '.join(sorted(hosts.instances))}) admit the internet: " + "; ".join(open_rules),
            evidence,
        )
    if not groups:
        return na(f"none of the container instances' security groups exists any more ({', '.join(missing)})", evidence)
    return ok(
        f"no security group of the container instances its tasks use ({hosts.basis}: {', '.join(sorted(hosts.instances))}) "
        f"admits 0.0.0.0/0 or ::/0: {', '.join(sorted(groups))}",
        evidence,
    )


@check("NETWORK-003")
def task_groups_closed_to_internet(s: ServiceSubject) -> Verdict:
    if not service_placements(s.service):
        # Bridge and host mode tasks are reached through their container instance's security groups.
        return _host_groups_closed(s)
    task_groups = service_security_groups(s)
    open_rules = _open_rules(task_groups.groups)
    evidence = {
        "security_groups": sorted(task_groups.groups),
        "vpc_default_groups_used": task_groups.defaults,
        "missing_security_groups": task_groups.missing,
        "open_to_internet": open_rules,
    }
    if open_rules:
        return fail("task security groups admit the internet: " + "; ".join(open_rules), evidence)
    if not task_groups.groups:
        if not task_groups.missing:
            return na("none of the service's subnets exists any more, so no security group applies", evidence)
        return na(f"none of the service's security groups exists any more ({', '.join(task_groups.missing)})", evidence)
    defaults = f" (including VPC default group {', '.join(task_groups.defaults.values())}, as a configuration names none)" if task_groups.defaults else ""
    return ok(f"no task security group admits 0.0.0.0/0 or ::/0: {', '.join(sorted(task_groups.groups))}{defaults}", evidence)


@check("NETWORK-004")
def internet_facing_tls_only(s: LoadBalancerSubject) -> Verdict:
    lb = s.load_balancer
    if not lb.is_internet_facing:
        return na(f"{lb.scheme or 'internal'} load balancer: not reachable from the internet")
    if lb.type not in ("application", "network"):
        return na(f"{_kind(lb)}: has no HTTP or TCP listeners to check")
    listeners = _listeners(s)
    if not listeners:
        return na(f"internet-facing {_kind(lb)} without listeners")
    plain_http = [l for l in listeners if lb.type == "application" and l.protocol == "HTTP" and not l.redirects_to_https]
    plain_tcp = [l for l in listeners if lb.type == "network" and l.protocol in ("TCP", "TCP_UDP")]
    evidence = {
        "type": lb.type,
        "scheme": lb.scheme,
        "listeners": {l.label: _action_summary(l) for l in listeners},
    }
    if plain_http:
        shown = ", ".join(f"{l.label} ({_action_summary(l)})" for l in plain_http)
        return fail(f"internet-facing ALB serves plain HTTP without redirecting to HTTPS: {shown}", evidence)
    if plain_tcp:
        shown = ", ".join(l.label for l in plain_tcp)
        return warn(f"internet-facing NLB has plain TCP listeners ({shown}); TLS passthrough to the targets cannot be verified", evidence)
    shown = ", ".join(f"{l.label}" + (" (redirects to HTTPS)" if l.protocol == "HTTP" else "") for l in listeners)
    return ok(f"every listener serves TLS or redirects to HTTPS: {shown}", evidence)


@check("NETWORK-005")
def current_tls_policies(s: LoadBalancerSubject) -> Verdict:
    tls = [l for l in _listeners(s) if l.protocol in ("HTTPS", "TLS")]
    if not tls:
        return na("no HTTPS or TLS listeners")
    evidence = {"ssl_policies": {l.label: l.ssl_policy for l in tls}}
    legacy: list[str] = []
    unrecognised: list[str] = []
    for listener in tls:
        minimum = minimum_tls_version(listener.ssl_policy or "")
        if minimum is None:
            unrecognised.append(f"{listener.label} ({listener.ssl_policy or 'no policy reported'})")
        elif minimum in ("1.0", "1.1"):
            legacy.append(f"{listener.label} uses {listener.ssl_policy} (allows TLS {minimum})")
    if legacy:
        return fail("TLS listeners allow TLS 1.0/1.1: " + "; ".join(legacy), evidence)
    if unrecognised:
        return unknown(
            "security policy not recognised, so its TLS versions are unknown (check with aws elbv2 describe-ssl-policies): "
            + ", ".join(unrecognised),
            evidence,
        )
    shown = ", ".join(f"{l.label} ({l.ssl_policy})" for l in tls)
    return ok(f"every TLS listener allows only TLS 1.2 or later: {shown}", evidence)


@check("NETWORK-006")
def internet_facing_alb_has_waf(s: LoadBalancerSubject) -> Verdict:
    lb = s.load_balancer
    if lb.type != "application":
        return na(f"{_kind(lb)}: AWS WAF protects Application Load Balancers only")
    if not lb.is_internet_facing:
        return na("internal ALB: not reachable from the internet")
    waf = s.estate.require("wafv2")
    if lb.load_balancer_arn not in waf.web_acls:
        s.estate.raise_if_failed("wafv2:GetWebACLForResource", lb.load_balancer_arn)
        raise EvidenceMissing(f"the web ACL of {lb.load_balancer_name} was not collected")
    web_acl = waf.web_acls[lb.load_balancer_arn]
    if web_acl is None:
        return fail("no AWS WAF web ACL is associated with this internet-facing ALB", {"web_acl": None})
    return ok(f"AWS WAF web ACL {web_acl.name} is associated", {"web_acl": web_acl.name, "web_acl_arn": web_acl.arn})


@check("NETWORK-007")
def vpc_flow_logs(a: AccountSubject) -> Verdict:
    estate = a.estate
    ec2 = ec2_part(estate)
    sources: dict[str, set[str]] = {}
    task_subnets: dict[str, set[str]] = {}  # VPC id -> the subnets tasks use in it
    instance_vpcs: set[str] = set()  # VPCs with container instances (bridge/host traffic: whole VPC)
    shared: dict[str, str] = {}  # VPC id -> owner, for VPCs shared from another account
    unread: list[EvidenceMissing] = []

    def add_subnets(subnet_ids: list[str], user: str) -> None:
        try:
            subnets, _ = subnets_of(estate, subnet_ids)
        except EvidenceMissing as missing:
            unread.append(missing)
            return
        for subnet in subnets:
            if subnet.vpc_id:
                sources.setdefault(subnet.vpc_id, set()).add(user)
                task_subnets.setdefault(subnet.vpc_id, set()).add(subnet.subnet_id)
                if subnet.owner_id and subnet.owner_id != estate.account_id:
                    shared[subnet.vpc_id] = subnet.owner_id

    for service in estate.services:
        if is_active(service):
            add_subnets(sorted({x for p in service_placements(service) for x in p.subnets}), f"service {service.service_name}")
    for task in estate.ecs.tasks if estate.has_ecs else []:
        add_subnets(task_subnet_ids(task), "running tasks")
    for cluster_arn, instances in (estate.ecs.container_instances.items() if estate.has_ecs else []):
        for instance in instances:
            vpc = instance_attribute(instance, "ecs.vpc-id")
            if vpc and not is_external_instance(instance):
                sources.setdefault(vpc, set()).add(f"container instances of {name_from_arn(cluster_arn)}")
                instance_vpcs.add(vpc)

    active: dict[str, list[str]] = {}
    without: list[str] = []
    # VPCs whose only ACTIVE flow logs fail to deliver (DeliverLogsStatus FAILED: "Access error" when the
    # role cannot publish, "Rate limited"): the log exists but records may be missing.
    undelivered: dict[str, list[str]] = {}

    def delivering(resource: str) -> list[str]:
        return [log.flow_log_id for log in ec2.flow_logs_of(resource) if log.flow_log_status == "ACTIVE" and log.deliver_logs_status != "FAILED"]

    def failing(resource: str) -> list[str]:
        return [
            f"{log.flow_log_id} ({log.deliver_logs_error_message or 'delivery FAILED'})"
            for log in ec2.flow_logs_of(resource)
            if log.flow_log_status == "ACTIVE" and log.deliver_logs_status == "FAILED"
        ]

    for vpc in sorted(sources):
        if vpc not in ec2.flow_log_vpcs:
            try:
                estate.raise_if_failed("ec2:DescribeFlowLogs", ec2_resource_arn(estate, "vpc", vpc))
                raise EvidenceMissing(f"the flow logs of {vpc} were not collected")
            except EvidenceMissing as missing:
                unread.append(missing)
                continue
        logs = delivering(vpc)
        if logs:
            active[vpc] = logs
            continue
        # Subnet-level flow logs capture the traffic of the tasks in those subnets
        # (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html): enough when every subnet
        # tasks use has one and no container instance (whose traffic spans the VPC) runs there.
        subnets = sorted(task_subnets.get(vpc, set()))
        subnet_logs = {s: delivering(s) for s in subnets if s in ec2.flow_log_vpcs}
        if subnets and vpc not in instance_vpcs and all(subnet_logs.get(s) for s in subnets):
            active[vpc] = sorted({f"{log} ({s})" for s, found in subnet_logs.items() for log in found})
            continue
        failed = [e for s in subnets if (e := estate.error_for("ec2:DescribeFlowLogs", ec2_resource_arn(estate, "subnet", s)))]
        if failed and vpc not in instance_vpcs:
            unread.append(EvidenceMissing(f"the subnet flow logs of {vpc} could not be read: {failed[0].describe()}", failed[0].action, failed[0].error_code))
            continue
        broken = failing(vpc) + [f for s in subnets if s in ec2.flow_log_vpcs for f in failing(s)]
        if broken:
            undelivered[vpc] = broken
            continue
        if vpc in shared:
            # The owner's flow logs are not visible to a participant account.
            unread.append(EvidenceMissing(f"{vpc} is shared by account {shared[vpc]}: its flow logs are visible only there"))
        else:
            without.append(vpc)
    evidence = {
        "vpcs": {vpc: sorted(users) for vpc, users in sorted(sources.items())},
        "active_flow_logs": active,
        "vpcs_without_active_flow_log": without,
        **({"flow_logs_failing_delivery": undelivered} if undelivered else {}),
    }
    if without:
        return fail("VPCs running tasks have no ACTIVE flow log: " + ", ".join(without), evidence)
    if undelivered:
        listed = "; ".join(f"{vpc}: {', '.join(logs)}" for vpc, logs in undelivered.items())
        return warn(f"flow logs are ACTIVE but fail to deliver (DeliverLogsStatus FAILED), so records may be missing: {listed}", evidence)
    if unread:
        raise unread[0]
    # Services, tasks or instances that could not be listed may run in another VPC.
    for action in _TASK_LISTING:
        error = estate.error_for(action)
        if error is not None:
            raise EvidenceMissing(f"some services, tasks or instances could not be read: {error.describe()}", error.action, error.error_code)
    if not sources:
        return na("no tasks or container instances run in a VPC (no awsvpc services or tasks, no EC2 container instances)")
    shown = ", ".join(f"{vpc} ({', '.join(logs)})" for vpc, logs in active.items())
    return ok(f"every VPC running tasks has an ACTIVE flow log: {shown}", evidence)


@check("NETWORK-008")
def eni_trunking_where_needed(a: AccountSubject) -> Verdict:
    """awsvpcTrunking is a per-principal setting: what counts is the effective value for the role that
    registers the container instances (their instance profile's role), not the audit principal's
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-eni.html). A
    registered instance shows the outcome itself: it has a trunk network interface exactly when it
    carries the ecs.awsvpc-trunk-id attribute, so instances are judged by it. The role's own setting is
    not read: ListAccountSettings with another principal's principalArn is for that principal or the
    root user only (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListAccountSettings.html)."""
    estate = a.estate
    # UNKNOWN: a capacity provider that could not be described may be an EC2 one.
    workloads, unread = _ec2_awsvpc_workloads(estate) if {"EC2", "UNKNOWN"} & estate.launch_types_in_use() else ({}, [])
    if not workloads and unread:
        raise unread[0]
    if not workloads:
        # A cluster whose services or tasks could not be listed may hide EC2 awsvpc tasks.
        for action in _WORKLOAD_LISTING:
            error = estate.error_for(action)
            if error is not None:
                raise EvidenceMissing(f"some services or tasks could not be read: {error.describe()}", error.action, error.error_code)
        kinds = estate.launch_types_in_use()
        managed = " (ECS Managed Instances get a trunk network interface from AWS)" if MANAGED_INSTANCES in kinds else ""
        if "EC2" not in kinds:
            return na("no EC2 launch type is in use" + managed)
        return na("no awsvpc tasks run on the EC2 launch type" + managed)
    awsvpc = sorted({td for tds in workloads.values() for td in tds})
    trunked: list[str] = []
    untrunked: dict[str, list[str]] = {}  # principal (instance profile) -> instances without a trunk
    unsure: list[EvidenceMissing] = []  # instances without a trunk that may be ECS Managed Instances
    for cluster in sorted(workloads):
        for instance in cluster_instances(estate, cluster):
            if is_external_instance(instance) or estate.is_managed_instance(instance):
                continue  # ECS Anywhere has no ENIs to trunk; ECS Managed Instances get their trunk from AWS
            instance_id = instance.ec2_instance_id or name_from_arn(instance.container_instance_arn)
            if instance_attribute(instance, TRUNK_ATTRIBUTE) is not None:
                trunked.append(instance_id)
            elif (missing := estate.instance_provider_unread(instance, cluster)) is not None:
                unsure.append(missing)
            else:
                untrunked.setdefault(_instance_principal(estate, instance_id), []).append(instance_id)
    evidence: dict[str, object] = {
        "ec2_awsvpc_task_definitions": awsvpc,
        "instances_with_trunk": sorted(trunked),
        "instances_without_trunk_by_principal": {p: sorted(ids) for p, ids in sorted(untrunked.items())},
    }
    if untrunked:
        shown = "; ".join(f"{', '.join(sorted(ids))} (principal: {principal})" for principal, ids in sorted(untrunked.items()))
        return warn(
            f"container instances running awsvpc tasks ({', '.join(awsvpc)}) have no trunk network interface "
            f"(no {TRUNK_ATTRIBUTE} attribute): {shown}. Turn awsvpcTrunking on for the role of that instance "
            "profile (or as the account default) and replace the instances; trunking also needs a supported "
            "Linux instance type. Without it each instance holds only a few awsvpc tasks",
            evidence,
            severity=Severity.LOW,
        )
    if unsure or unread:
        # An instance that may be a Managed Instance, or a workload not read (whose instances were not
        # looked at), could be one without a trunk: only a WARN stands without them.
        raise (unsure or unread)[0]
    if trunked:
        return ok(f"every container instance running awsvpc tasks has a trunk network interface ({TRUNK_ATTRIBUTE}): {', '.join(sorted(trunked))}", evidence)
    # No EC2 instance is registered now (e.g. an Auto Scaling group at zero): the effective setting read
    # is the audit principal's, which equals the instances' role's unless that role overrides it.
    setting = estate.account_setting("awsvpcTrunking")
    value = setting.value if setting else None
    principal = (setting.principal_arn if setting and setting.principal_arn else None) or "the audit principal"
    evidence.update(awsvpc_trunking=value, principal=principal)
    if (value or "").lower() == "enabled":
        return ok(f"no container instance is registered; ENI trunking (awsvpcTrunking) is enabled for {principal}", evidence)
    shown = value or "not set (defaults to disabled)"
    return warn(
        f"ENI trunking (awsvpcTrunking) is {shown} for {principal} while EC2 runs awsvpc tasks ({', '.join(awsvpc)}) "
        "and no container instance is registered to show its own: instances launched now get no trunk, so each "
        "holds only a few tasks",
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
    entries = service.all_load_balancers
    mechanisms = []
    if connect is not None and connect.enabled:
        mechanisms.append(f"Service Connect (namespace {name_from_arn(connect.namespace)})" if connect.namespace else "Service Connect")
    if service.service_registries:
        mechanisms.append("Cloud Map")
    evidence: dict[str, object] = {
        "service_connect": bool(connect and connect.enabled),
        "service_registries": len(service.service_registries),
        "load_balancers": len(entries),
    }
    fronts = _Fronts()
    if entries:
        try:
            fronts = _fronting_load_balancers(s)
        except EvidenceMissing:
            if not mechanisms:
                raise  # whether the only candidate is internal decides the verdict
    if fronts.internal:
        mechanisms.append("internal load balancer " + ", ".join(fronts.internal))
    evidence.update(
        internal_load_balancers=fronts.internal,
        internet_facing_load_balancers=fronts.internet_facing,
        classic_load_balancers=fronts.classic,
    )
    if mechanisms:
        return ok("reachable through " + ", ".join(mechanisms), evidence)
    message = "no Service Connect, Cloud Map registry or internal load balancer is visible for service-to-service traffic"
    if fronts.internet_facing:
        message += f"; its load balancer {', '.join(fronts.internet_facing)} is internet-facing, which does not keep calls private"
    if fronts.classic:
        message += f"; Classic Load Balancer {', '.join(fronts.classic)} is not inspected (out of scope)"
    return warn(message, evidence, severity=Severity.INFO)
