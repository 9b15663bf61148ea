"""Amazon EC2: the subnets, route tables, security groups and flow logs of the VPCs services use,
and the AMIs of container instances.

Shapes mirror DescribeSubnets, DescribeRouteTables, DescribeSecurityGroups, DescribeFlowLogs,
DescribeImages and DescribeInstances (PascalCase JSON). Only what in-use ECS resources reference is
collected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape

ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


class Subnet(PascalShape):
    subnet_id: str
    vpc_id: str | None = None
    owner_id: str | None = None  # another account's in a shared VPC
    availability_zone: str | None = None
    availability_zone_id: str | None = None
    map_public_ip_on_launch: bool | None = None
    state: str | None = None


class RouteTableAssociation(PascalShape):
    main: bool = False
    subnet_id: str | None = None
    route_table_association_id: str | None = None


class Route(PascalShape):
    destination_cidr_block: str | None = None
    destination_ipv6_cidr_block: str | None = None
    gateway_id: str | None = None
    nat_gateway_id: str | None = None
    transit_gateway_id: str | None = None
    network_interface_id: str | None = None
    vpc_peering_connection_id: str | None = None
    state: str | None = None

    @property
    def target(self) -> str:
        for value in (self.gateway_id, self.nat_gateway_id, self.transit_gateway_id, self.network_interface_id, self.vpc_peering_connection_id):
            if value:
                return value
        return "another target"

    @property
    def destination(self) -> str:
        return self.destination_cidr_block or self.destination_ipv6_cidr_block or "?"

    @property
    def is_default(self) -> bool:
        """An IPv4 (0.0.0.0/0) or IPv6 (::/0) default route that is not a blackhole (its target gone)."""
        return self.state != "blackhole" and (
            self.destination_cidr_block == "0.0.0.0/0" or self.destination_ipv6_cidr_block == "::/0"
        )

    @property
    def is_default_to_internet_gateway(self) -> bool:
        """A default route (IPv4 or IPv6) to an internet gateway: the subnet is public. An egress-only
        internet gateway (eigw-, IPv6) admits no inbound connection, so it does not make a subnet public
        (https://docs.aws.amazon.com/vpc/latest/userguide/egress-only-internet-gateway.html)."""
        return self.is_default and (self.gateway_id or "").startswith("igw-")


class RouteTable(PascalShape):
    route_table_id: str
    vpc_id: str | None = None
    associations: list[RouteTableAssociation] = []
    routes: list[Route] = []

    @property
    def is_main(self) -> bool:
        return any(a.main for a in self.associations)

    def default_route(self) -> Route | None:
        for route in self.routes:
            if route.destination_cidr_block == "0.0.0.0/0" and route.state != "blackhole":
                return route
        return None

    def default_routes(self) -> list[Route]:
        """Its live IPv4 and IPv6 default routes."""
        return [route for route in self.routes if route.is_default]


class IpRange(PascalShape):
    cidr_ip: str | None = None


class Ipv6Range(PascalShape):
    cidr_ipv6: str | None = None


class UserIdGroupPair(PascalShape):
    group_id: str | None = None
    user_id: str | None = None


class PrefixListId(PascalShape):
    prefix_list_id: str | None = None


class IpPermission(PascalShape):
    ip_protocol: str | None = None  # tcp, udp, icmp, a number, or -1 for all
    from_port: int | None = None
    to_port: int | None = None
    ip_ranges: list[IpRange] = []
    ipv6_ranges: list[Ipv6Range] = []
    user_id_group_pairs: list[UserIdGroupPair] = []
    prefix_list_ids: list[PrefixListId] = []

    @property
    def ports(self) -> str:
        """The protocol and ports, as a person would write them (e.g. tcp/443, all traffic)."""
        protocol = {"6": "tcp", "17": "udp", "1": "icmp"}.get(self.ip_protocol or "", self.ip_protocol or "?")
        if protocol == "-1":
            return "all traffic"
        if self.from_port is None or self.from_port == -1 or protocol == "icmp":
            return f"{protocol}/all"
        if self.to_port is None or self.to_port == self.from_port:
            return f"{protocol}/{self.from_port}"
        return f"{protocol}/{self.from_port}-{self.to_port}"

    @property
    def is_nfs_only(self) -> bool:
        """TCP port 2049 and nothing else."""
        return (self.ip_protocol or "").lower() in ("tcp", "6") and self.from_port == 2049 and self.to_port == 2049

    @property
    def cidr_sources(self) -> list[str]:
        """Address-range sources: IPv4 and IPv6 CIDRs and prefix lists."""
        return [
            *(r.cidr_ip for r in self.ip_ranges if r.cidr_ip),
            *(r.cidr_ipv6 for r in self.ipv6_ranges if r.cidr_ipv6),
            *(p.prefix_list_id for p in self.prefix_list_ids if p.prefix_list_id),
        ]

    @property
    def open_to_anywhere(self) -> list[str]:
        return [cidr for cidr in self.cidr_sources if cidr in ANYWHERE]


class SecurityGroup(PascalShape):
    group_id: str
    group_name: str | None = None
    vpc_id: str | None = None
    ip_permissions: list[IpPermission] = []  # ingress rules


class FlowLog(PascalShape):
    flow_log_id: str
    resource_id: str | None = None
    flow_log_status: str | None = None
    deliver_logs_status: str | None = None
    deliver_logs_error_message: str | None = None
    traffic_type: str | None = None
    log_destination_type: str | None = None


class Image(PascalShape):
    image_id: str
    name: str | None = None
    description: str | None = None
    owner_id: str | None = None
    image_owner_alias: str | None = None
    state: str | None = None
    creation_date: str | None = None
    deprecation_time: str | None = None


class GroupIdentifier(PascalShape):
    group_id: str | None = None
    group_name: str | None = None


class InstanceNetworkInterfaceAttachment(PascalShape):
    device_index: int | None = None


class InstanceNetworkInterface(PascalShape):
    network_interface_id: str | None = None
    subnet_id: str | None = None
    vpc_id: str | None = None
    interface_type: str | None = None  # interface, efa, efa-only, trunk, ...
    # ECS names the task interfaces it attaches by their attachment ARN; users' interfaces, anything.
    description: str | None = None
    attachment: InstanceNetworkInterfaceAttachment | None = None
    groups: list[GroupIdentifier] = []

    @property
    def is_primary(self) -> bool:
        return self.attachment is not None and self.attachment.device_index == 0

    @property
    def carries_host_traffic(self) -> bool:
        """Whether bridge and host mode tasks can be reached through it (see Instance.host_interfaces).
        Not: a trunk (its traffic is the awsvpc tasks' branch interfaces', with their own groups), an
        ECS task interface attached directly (awsvpc without trunking: the task's own groups), or an
        efa-only interface (no IP address: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa.html).
        Anything else counts, an unknown type included: leaving out a reachable interface would be a
        false PASS, counting an unreachable one at worst a FAIL the user can explain."""
        if (self.interface_type or "interface") in _NOT_HOST_INTERFACE_TYPES:
            return False
        return not _ECS_ATTACHMENT.match(self.description or "")


class IamInstanceProfile(PascalShape):
    arn: str | None = None
    id: str | None = None


# The interface types bridge and host mode tasks are not reached through (InstanceNetworkInterface.InterfaceType).
_NOT_HOST_INTERFACE_TYPES = frozenset({"trunk", "branch", "efa-only"})
# ECS's task interfaces: "arn:aws:ecs:<region>:<account>:attachment/<id>" (DescribeTasks attachments).
_ECS_ATTACHMENT = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:attachment/", re.IGNORECASE)


class InstanceState(PascalShape):
    name: str | None = None


# For about an hour after termination DescribeInstances still returns an instance, without its subnet
# or network interfaces (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html):
# it hosts no task any more, like an instance that is not returned at all.
_GONE_STATES = frozenset({"shutting-down", "terminated"})


class Instance(PascalShape):
    """One EC2 instance of DescribeInstances (Reservations[].Instances[])."""

    instance_id: str
    subnet_id: str | None = None
    vpc_id: str | None = None
    state: InstanceState | None = None
    security_groups: list[GroupIdentifier] = []
    network_interfaces: list[InstanceNetworkInterface] = []
    iam_instance_profile: IamInstanceProfile | None = None

    @property
    def is_gone(self) -> bool:
        return self.state is not None and self.state.name in _GONE_STATES

    def host_interfaces(self) -> list[HostInterface]:
        """The network interfaces bridge and host mode tasks are reached through: host mode ports, and
        bridge mode's published ports, listen on every address of the instance
        (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/networking-networkmode-host.html),
        so the primary interface and every secondary one a user attached count; trunk, ECS task and
        efa-only interfaces do not (InstanceNetworkInterface.carries_host_traffic). The primary first;
        without interface details, the instance's own subnet and groups."""
        primary = next((i for i in self.network_interfaces if i.is_primary), None)
        found = [
            HostInterface(
                None,
                (primary.subnet_id if primary else None) or self.subnet_id,
                _group_ids(primary.groups if primary is not None else self.security_groups),
            )
        ]
        for interface in self.network_interfaces:
            if interface is not primary and interface.carries_host_traffic:
                found.append(HostInterface(interface.network_interface_id or "?", interface.subnet_id, _group_ids(interface.groups)))
        return found

    @property
    def host_subnet_ids(self) -> list[str]:
        return sorted({i.subnet_id for i in self.host_interfaces() if i.subnet_id})

    @property
    def host_security_group_ids(self) -> list[str]:
        return sorted({g for i in self.host_interfaces() for g in i.group_ids})


@dataclass(frozen=True)
class HostInterface:
    """A network interface bridge and host mode tasks are reached through."""

    secondary_id: str | None  # None for the primary interface, else its id
    subnet_id: str | None
    group_ids: list[str]

    def label(self, instance_id: str) -> str:
        return instance_id if self.secondary_id is None else f"{instance_id} ({self.secondary_id})"


def _group_ids(groups: list[GroupIdentifier]) -> list[str]:
    return sorted({g.group_id for g in groups if g.group_id})


class Ec2Inventory(Record):
    """What in-use ECS resources reference. `missing_*` lists ids that were asked for and do not exist."""

    subnets: list[Subnet] = []
    missing_subnets: list[str] = []
    # Route tables explicitly associated with those subnets, and the main route table of their VPCs.
    route_tables: list[RouteTable] = []
    security_groups: list[SecurityGroup] = []
    missing_security_groups: list[str] = []
    # VPC id -> its default security group: awsvpc tasks that name no security group get it.
    default_security_groups: dict[str, str] = {}
    flow_logs: list[FlowLog] = []
    # The VPCs and task subnets whose flow logs were asked for (one without flow logs among them has none).
    flow_log_vpcs: list[str] = []
    images: list[Image] = []
    missing_images: list[str] = []
    # EC2 container instances (DescribeInstances), and ids asked for that no longer exist.
    instances: list[Instance] = []
    missing_instances: list[str] = []

    # Indexes: checks look resources up once per service, over thousands of them (a model_copy drops
    # them: Record.model_copy).
    @cached_property
    def _instances_by_id(self) -> dict[str, Instance]:
        return {i.instance_id: i for i in self.instances}

    @cached_property
    def _subnets_by_id(self) -> dict[str, Subnet]:
        return {s.subnet_id: s for s in reversed(self.subnets)}

    @cached_property
    def _groups_by_id(self) -> dict[str, SecurityGroup]:
        return {g.group_id: g for g in reversed(self.security_groups)}

    def instance(self, instance_id: str) -> Instance | None:
        return self._instances_by_id.get(instance_id)

    def subnet(self, subnet_id: str) -> Subnet | None:
        return self._subnets_by_id.get(subnet_id)

    def security_group(self, group_id: str) -> SecurityGroup | None:
        return self._groups_by_id.get(group_id)

    def image(self, image_id: str) -> Image | None:
        for image in self.images:
            if image.image_id == image_id:
                return image
        return None

    def route_table_for(self, subnet: Subnet) -> RouteTable | None:
        """The subnet's explicitly associated route table, else its VPC's main route table."""
        for table in self.route_tables:
            if any(a.subnet_id == subnet.subnet_id for a in table.associations):
                return table
        for table in self.route_tables:
            if table.vpc_id == subnet.vpc_id and table.is_main:
                return table
        return None

    def flow_logs_of(self, vpc_id: str) -> list[FlowLog]:
        return [log for log in self.flow_logs if log.resource_id == vpc_id]


def ec2_arn(partition: str, region: str, account_id: str, kind: str, resource_id: str) -> str:
    """The ARN failures of EC2 calls are recorded against (kind: subnet, security-group, vpc, image, instance).
    AMIs belong to no account in their ARN."""
    account = "" if kind == "image" else account_id
    return f"arn:{partition}:ec2:{region}:{account}:{kind}/{resource_id}"
