"""Amazon EC2: what the network and cluster checks read about in-use ECS resources.

- subnets of services (their own, live deployments' and task sets' awsvpc configurations), of running
  tasks' network interfaces and of EFS mount targets;
- the route tables explicitly associated with task subnets, and the main route table of each VPC that
  has a task subnet without an explicit association;
- security groups of services, load balancers and EFS mount targets, and the default security group
  of each VPC where a service names none (awsvpc tasks then get it);
- the flow logs of the VPCs that run tasks (task subnets, and container instances' ecs.vpc-id);
- the AMIs of container instances;
- the EC2 container instances themselves (DescribeInstances: instance profile, state, and the subnets
  and security groups of the interfaces bridge and host mode tasks are reached through: the primary
  and user-attached secondary ones, Instance.host_interfaces), read first so their subnets and groups
  join the calls below.

Every call filters by the ids in question (filters, not id lists, so an id that no longer exists is
simply not returned and recorded as missing rather than failing the whole call), with at most 200
filter values per call (EC2's limit across all filters of a request), and is paginated.

Cost per region: DescribeSubnets per 200 subnets; DescribeRouteTables per 200 task subnets plus one per
199 VPCs needing their main table; DescribeSecurityGroups per 200 groups plus one per 199 VPCs needing
their default group; DescribeFlowLogs per 200 VPCs and task subnets; DescribeImages per 200 AMIs;
DescribeInstances per 200 EC2 container instances (none without them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.ec2 import Ec2Inventory, FlowLog, Image, Instance, RouteTable, SecurityGroup, Subnet, ec2_arn
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.semantics.network_placement import (
    instance_attribute,
    is_active,
    is_external_instance,
    service_placements,
    task_subnet_ids,
    uses_default_security_group,
)

SOURCE = source_of("ec2")
SERVICE = SOURCE.client
FILTER_VALUES = 200  # "The maximum number of filter values specified on a single call is 200"
PAGE_SIZE = {"DescribeSubnets": 1000, "DescribeRouteTables": 100, "DescribeSecurityGroups": 1000, "DescribeFlowLogs": 1000, "DescribeImages": 1000, "DescribeInstances": 1000}


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> Ec2Inventory | None:
    ecs = region.ecs
    if ecs is None:
        return None
    services = [s for s in ecs.services if is_active(s)]
    task_subnets = sorted(
        {subnet for s in services for p in service_placements(s) for subnet in p.subnets}
        | {subnet for task in ecs.tasks for subnet in task_subnet_ids(task)}
    )
    instances = [i for found in ecs.container_instances.values() for i in found if not is_external_instance(i)]
    instance_ids = sorted({i.ec2_instance_id for i in instances if i.ec2_instance_id})
    hosts = _instances(ctx, instance_ids)
    # Bridge and host mode tasks use their instance's network: its subnet's routes and its groups.
    task_subnets = sorted(set(task_subnets) | {s for h in hosts if not h.is_gone for s in h.host_subnet_ids})
    mount_targets = [mt for found in (region.efs.mount_targets.values() if region.efs else []) for mt in found]
    all_subnets = sorted(set(task_subnets) | {mt.subnet_id for mt in mount_targets if mt.subnet_id})
    groups = sorted(
        {g for s in services for p in service_placements(s) for g in p.security_groups}
        | {g for lb in (region.elbv2.load_balancers if region.elbv2 else []) for g in lb.security_groups}
        | {g for found in (region.efs.mount_target_security_groups.values() if region.efs else []) for g in found}
        | {g for h in hosts if not h.is_gone for g in h.host_security_group_ids}
    )
    images = sorted({i.ami_id for i in instances if i.ami_id})

    subnets = _describe(ctx, "DescribeSubnets", "Subnets", Subnet, "subnet-id", all_subnets, "subnet")
    by_id = {s.subnet_id: s for s in subnets}
    vpc_of_task_subnets = {by_id[s].vpc_id for s in task_subnets if s in by_id and by_id[s].vpc_id}
    vpcs = sorted(vpc_of_task_subnets | {v for i in instances if (v := instance_attribute(i, "ecs.vpc-id"))})
    default_group_vpcs = sorted(
        {by_id[subnet].vpc_id for s in services if uses_default_security_group(s) for p in service_placements(s)
         if not p.security_groups for subnet in p.subnets if subnet in by_id and by_id[subnet].vpc_id}
    )
    existing_task_subnets = [s for s in task_subnets if s in by_id]

    calls: list[Callable[[], Any]] = [
        lambda: _describe(ctx, "DescribeRouteTables", "RouteTables", RouteTable, "association.subnet-id", existing_task_subnets, "subnet"),
        lambda: _describe(ctx, "DescribeSecurityGroups", "SecurityGroups", SecurityGroup, "group-id", groups, "security-group"),
        lambda: _describe(
            ctx, "DescribeSecurityGroups", "SecurityGroups", SecurityGroup, "vpc-id", default_group_vpcs, "vpc",
            extra_filters=[{"Name": "group-name", "Values": ["default"]}],
        ),
        # VPC-level and subnet-level flow logs both capture the tasks' traffic (NETWORK-007).
        lambda: _flow_logs(ctx, vpcs + existing_task_subnets),
        lambda: _describe(ctx, "DescribeImages", "Images", Image, "image-id", images, "image", IncludeDeprecated=True),
    ]
    associated, described_groups, default_groups, (flow_logs, flow_log_vpcs), found_images = ctx.parallel(lambda call: call(), calls)

    explicitly_associated = {a.subnet_id for table in associated for a in table.associations if a.subnet_id}
    main_table_vpcs = sorted({by_id[s].vpc_id for s in existing_task_subnets if s not in explicitly_associated and by_id[s].vpc_id})
    main_tables = _describe(
        ctx, "DescribeRouteTables", "RouteTables", RouteTable, "vpc-id", main_table_vpcs, "vpc",
        extra_filters=[{"Name": "association.main", "Values": ["true"]}],
    )

    found_groups = {g.group_id for g in described_groups}
    asked_groups = set(groups) - _failed(ctx, "DescribeSecurityGroups", "security-group", groups)
    asked_subnets = set(all_subnets) - _failed(ctx, "DescribeSubnets", "subnet", all_subnets)
    asked_images = set(images) - _failed(ctx, "DescribeImages", "image", images)
    asked_instances = set(instance_ids) - _failed(ctx, "DescribeInstances", "instance", instance_ids)
    route_tables = {t.route_table_id: t for t in [*associated, *main_tables]}
    security_groups = {g.group_id: g for g in [*described_groups, *default_groups]}
    return Ec2Inventory(
        subnets=sorted(subnets, key=lambda s: s.subnet_id),
        missing_subnets=sorted(asked_subnets - set(by_id)),
        route_tables=[route_tables[k] for k in sorted(route_tables)],
        security_groups=[security_groups[k] for k in sorted(security_groups)],
        missing_security_groups=sorted(asked_groups - found_groups),
        default_security_groups=dict(sorted((g.vpc_id, g.group_id) for g in default_groups if g.vpc_id)),
        flow_logs=sorted(flow_logs, key=lambda f: f.flow_log_id),
        flow_log_vpcs=flow_log_vpcs,
        images=sorted(found_images, key=lambda i: i.image_id),
        missing_images=sorted(asked_images - {i.image_id for i in found_images}),
        instances=sorted(hosts, key=lambda i: i.instance_id),
        missing_instances=sorted(asked_instances - {h.instance_id for h in hosts}),
    )


def _arn(ctx: CollectContext, kind: str, resource_id: str) -> str:
    return ec2_arn(ctx.partition, ctx.region, ctx.account_id, kind, resource_id)


def _batches(
    ctx: CollectContext,
    operation: str,
    result_key: str,
    filter_name: str,
    values: list[str],
    kind: str | Callable[[str], str],
    *,
    extra_filters: Iterable[dict[str, Any]] = (),
    filter_parameter: str = "Filters",
    **params: Any,
) -> Iterator[tuple[list[str], list[str], list[Any] | None]]:
    """Per batch of `values` that keeps the call within 200 filter values: the batch, the ARNs (of
    `kind`, or of kind(value)) a failure is recorded against, and the items of every page (None after a
    recorded failure)."""
    extra = list(extra_filters)
    size = FILTER_VALUES - sum(len(f["Values"]) for f in extra)
    for batch in batched(values, size):
        resources = [_arn(ctx, kind(value) if callable(kind) else kind, value) for value in batch]
        items = ctx.paginate(
            SERVICE,
            operation,
            result_key,
            resources=resources,
            PaginationConfig={"PageSize": PAGE_SIZE[operation]},
            **{filter_parameter: [{"Name": filter_name, "Values": batch}, *extra]},
            **params,
        )
        yield batch, resources, items


def _describe(
    ctx: CollectContext,
    operation: str,
    result_key: str,
    model: type,
    filter_name: str,
    values: list[str],
    kind: str,
    *,
    extra_filters: Iterable[dict[str, Any]] = (),
    unnest: Callable[[Any], Iterable[Any]] | None = None,
    **params: Any,
) -> list[Any]:
    """Items whose `filter_name` is one of `values`, in batches that keep every call within 200 filter
    values. A failed batch is recorded against the ARNs of its values (of `kind`). `unnest` takes the
    items out of a result that nests them (DescribeInstances' reservations)."""
    found: list[Any] = []
    for _, resources, items in _batches(ctx, operation, result_key, filter_name, values, kind, extra_filters=extra_filters, **params):
        for item in items or []:
            for unnested in unnest(item) if unnest is not None else (item,):
                model_item = validated(ctx, SERVICE, operation, model, unnested, resources)
                if model_item is not None:
                    found.append(model_item)
    return found


def _instances(ctx: CollectContext, instance_ids: list[str]) -> list[Instance]:
    """The instances among `instance_ids` (an instance-id filter: a terminated id is simply not returned,
    or returned for a while as terminated: Instance.is_gone)."""
    return _describe(ctx, "DescribeInstances", "Reservations", Instance, "instance-id", instance_ids, "instance", unnest=_reservation_instances)


def _reservation_instances(reservation: Any) -> list[Any]:
    """DescribeInstances nests instances in reservations."""
    return reservation.get("Instances", []) if isinstance(reservation, dict) else []


def _flow_logs(ctx: CollectContext, vpcs: list[str]) -> tuple[list[FlowLog], list[str]]:
    """Flow logs of `vpcs`, and the VPCs whose flow logs were read (DescribeFlowLogs names its filter
    parameter `Filter`). A batch counts as read only when every flow log of it validated."""
    logs: list[FlowLog] = []
    read: list[str] = []
    for batch, resources, items in _batches(ctx, "DescribeFlowLogs", "FlowLogs", "resource-id", vpcs, _flow_log_kind, filter_parameter="Filter"):
        if items is None:
            continue
        models = [validated(ctx, SERVICE, "DescribeFlowLogs", FlowLog, item, resources) for item in items]
        if any(m is None for m in models):
            continue
        logs.extend(models)
        read.extend(batch)
    return logs, sorted(read)


def _flow_log_kind(resource_id: str) -> str:
    return "subnet" if resource_id.startswith("subnet-") else "vpc"


def _failed(ctx: CollectContext, operation: str, kind: str, values: Iterable[str]) -> set[str]:
    """The values whose lookup failed (so their absence from the answer proves nothing)."""
    failed: set[str] = set()
    for error in ctx.errors:
        if error.service == SERVICE and error.operation == operation:
            for value in values:
                if _arn(ctx, kind, value) in error.resources:
                    failed.add(value)
    return failed
