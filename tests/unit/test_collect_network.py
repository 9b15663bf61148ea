"""The ELBv2, EFS, WAFv2 and EC2 collectors against a fake API that enforces AWS limits: targeted calls
only, each distinct resource once, batches at the API limits, every page read, failures recorded
against the resources they concern, "not found" recorded as evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecs_audit.collect import ec2, efs, elbv2, wafv2
from ecs_audit.collect.base import CollectContext
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.efs import EfsInventory
from ecs_audit.inventory.elbv2 import LoadBalancingInventory
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.session import ClientFactory
from tests.support.estate import build_ecs
from tests.support.fake_api import ApiFault, FakeApi

ACCOUNT = "123456789012"
REGION = "us-east-1"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"


def tg_arn(n: int) -> str:
    return f"{ELB}targetgroup/tg-{n}/{n:016x}"


def lb_arn(n: int, kind: str = "app") -> str:
    return f"{ELB}loadbalancer/{kind}/lb-{n}/{n:016x}"


def _context(api: FakeApi) -> CollectContext:
    return CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, REGION, max_workers=8)


def _region(estate: dict[str, Any], **parts: Any) -> RegionInventory:
    return RegionInventory(account_id=ACCOUNT, region=REGION, ecs=build_ecs(estate), **parts)


def _marker_page(items: list[Any], params: dict[str, Any], key: str, size: int, *, limit_key: str = "PageSize", maximum: int = 400) -> dict[str, Any]:
    """Marker/NextMarker pagination; `size` is what the fake hands out at most per page."""
    if limit_key in params:
        assert 1 <= params[limit_key] <= maximum, f"{limit_key} {params[limit_key]} outside 1..{maximum}"
        size = min(size, params[limit_key])
    start = int(params.get("Marker") or 0)
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


def _denied(action: str) -> ApiFault:
    return ApiFault("AccessDenied", f"User is not authorized to perform: {action}", 403)


# --- ELBv2 -----------------------------------------------------------------------------------


class FakeElb:
    """Target group n sits behind load balancer n % lbs; load balancer n has n % 4 + 1 listeners."""

    def __init__(self, target_groups: int, load_balancers: int, gone: set[str] = frozenset()):
        self.tgs = {tg_arn(n): {"TargetGroupArn": tg_arn(n), "TargetGroupName": f"tg-{n}", "Protocol": "HTTP", "Port": 80,
                                "TargetType": "ip", "HealthCheckIntervalSeconds": 10, "HealthyThresholdCount": 2,
                                "LoadBalancerArns": [lb_arn(n % load_balancers)]}
                    for n in range(target_groups) if tg_arn(n) not in gone}
        self.lbs = {lb_arn(n): {"LoadBalancerArn": lb_arn(n), "LoadBalancerName": f"lb-{n}", "Scheme": "internet-facing",
                                "Type": "application", "VpcId": "vpc-1", "SecurityGroups": [f"sg-lb{n}"]}
                    for n in range(load_balancers)}
        self.denied_listeners: set[str] = set()

    def install(self, api: FakeApi) -> None:
        api.on("elbv2.DescribeTargetGroups", self.describe_target_groups)
        api.on("elbv2.DescribeLoadBalancers", self.describe_load_balancers)
        api.on("elbv2.DescribeListeners", self.describe_listeners)
        api.on("elbv2.DescribeTargetGroupAttributes", self.describe_attributes)

    def describe_target_groups(self, p: dict[str, Any]) -> dict[str, Any]:
        arns = p["TargetGroupArns"]
        if len(arns) > 20:
            raise ApiFault("ValidationError", "You cannot describe more than '20' target groups at a time")
        if any(a not in self.tgs for a in arns):
            raise ApiFault("TargetGroupNotFound", "One or more target groups not found")
        return _marker_page([self.tgs[a] for a in arns], p, "TargetGroups", 400)

    def describe_load_balancers(self, p: dict[str, Any]) -> dict[str, Any]:
        arns = p["LoadBalancerArns"]
        if len(arns) > 20:
            raise ApiFault("ValidationError", "You cannot describe more than 20 load balancers")
        return _marker_page([self.lbs[a] for a in arns], p, "LoadBalancers", 400)

    def describe_listeners(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["LoadBalancerArn"]
        if arn in self.denied_listeners:
            raise _denied("elasticloadbalancing:DescribeListeners")
        n = int(arn.rsplit("/", 1)[1], 16)
        listeners = [{"ListenerArn": f"{arn}/l{i}", "LoadBalancerArn": arn, "Protocol": "HTTPS", "Port": 443 + i,
                      "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "DefaultActions": [{"Type": "forward"}]}
                     for i in range(n % 4 + 1)]
        return _marker_page(listeners, p, "Listeners", 2)  # at most two a page: proves Marker is followed

    def describe_attributes(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}, {"Key": "stickiness.enabled", "Value": "false"}]}


def _services_with(target_groups: list[str], *extra: dict[str, Any]) -> dict[str, Any]:
    services = [
        {"serviceName": f"s{i}", "cluster": "c1", "loadBalancers": [{"targetGroupArn": arn, "containerName": "web", "containerPort": 80}]}
        for i, arn in enumerate(target_groups)
    ]
    return {"services": [*services, *extra]}


def _collect_elb(fake: FakeElb, estate: dict[str, Any]) -> tuple[FakeApi, CollectContext, LoadBalancingInventory]:
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    return api, ctx, elbv2.collect(ctx, AuditConfig(), _region(estate))


def test_elbv2_describes_each_target_group_and_load_balancer_once_in_batches_of_20():
    arns = [tg_arn(n) for n in range(45)]
    # A second service on the same target group, an INACTIVE one on another, and a Classic ELB.
    estate = _services_with(
        arns,
        {"serviceName": "dup", "cluster": "c1", "loadBalancers": [{"targetGroupArn": arns[0]}]},
        {"serviceName": "old", "cluster": "c1", "status": "INACTIVE", "loadBalancers": [{"targetGroupArn": tg_arn(99)}]},
        {"serviceName": "classic", "cluster": "c1", "loadBalancers": [{"loadBalancerName": "legacy-elb"}]},
    )
    api, ctx, inventory = _collect_elb(FakeElb(45, 25), estate)
    assert ctx.errors == []
    assert api.calls["elbv2.DescribeTargetGroups"] == 3  # 20 + 20 + 5
    assert api.calls["elbv2.DescribeLoadBalancers"] == 2  # 20 + 5
    assert api.calls["elbv2.DescribeTargetGroupAttributes"] == 45
    # one call per load balancer, plus one more for each with 3-4 listeners (two a page)
    assert api.calls["elbv2.DescribeListeners"] == 25 + sum(1 for n in range(25) if n % 4 + 1 > 2)
    described = [a for key, p in api.requests if key == "elbv2.DescribeTargetGroups" for a in p["TargetGroupArns"]]
    assert sorted(described) == sorted(arns)
    assert len(inventory.target_groups) == 45 and len(inventory.load_balancers) == 25
    assert all(len(inventory.listeners[lb_arn(n)]) == n % 4 + 1 for n in range(25))
    assert inventory.target_group_attributes[arns[3]]["deregistration_delay.timeout_seconds"] == "30"
    assert inventory.classic_load_balancers == ["legacy-elb"]
    assert inventory.missing_target_groups == []


def test_a_deleted_target_group_is_recorded_as_missing_and_its_batch_is_still_read():
    arns = [tg_arn(n) for n in range(5)]
    api, ctx, inventory = _collect_elb(FakeElb(5, 2, gone={arns[2]}), _services_with(arns))
    assert ctx.errors == []
    assert inventory.missing_target_groups == [arns[2]]
    assert sorted(tg.target_group_arn for tg in inventory.target_groups) == sorted(set(arns) - {arns[2]})
    assert api.calls["elbv2.DescribeTargetGroups"] == 1 + 5  # the batch, then one by one


def test_a_denied_describe_listeners_is_recorded_against_its_load_balancer_only():
    fake = FakeElb(4, 2)
    fake.denied_listeners.add(lb_arn(1))
    api, ctx, inventory = _collect_elb(fake, _services_with([tg_arn(n) for n in range(4)]))
    assert [(e.action, e.error_code, e.resources) for e in ctx.errors] == [
        ("elasticloadbalancing:DescribeListeners", "AccessDenied", [lb_arn(1)])
    ]
    assert lb_arn(1) not in inventory.listeners and lb_arn(0) in inventory.listeners


def test_no_load_balancer_calls_without_load_balanced_services():
    api, ctx, inventory = _collect_elb(FakeElb(0, 1), {"services": [{"serviceName": "worker", "cluster": "c1"}]})
    assert sum(api.calls.values()) == 0
    assert inventory == LoadBalancingInventory()


# --- WAFv2 -----------------------------------------------------------------------------------


def test_waf_asks_only_internet_facing_albs_and_tells_none_from_failure():
    lbs = {
        "acl": {"Scheme": "internet-facing", "Type": "application"},
        "none": {"Scheme": "internet-facing", "Type": "application"},
        "nonexistent": {"Scheme": "internet-facing", "Type": "application"},
        "denied": {"Scheme": "internet-facing", "Type": "application"},
        "internal": {"Scheme": "internal", "Type": "application"},
        "nlb": {"Scheme": "internet-facing", "Type": "network"},
    }
    arns = {name: f"{ELB}loadbalancer/app/{name}/1" for name in lbs}
    part = LoadBalancingInventory.model_validate(
        {"load_balancers": [{"LoadBalancerArn": arns[n], "LoadBalancerName": n, **v} for n, v in lbs.items()]}
    )

    def answer(p: dict[str, Any]) -> dict[str, Any]:
        name = p["ResourceArn"].split("/")[-2]
        if name == "acl":
            return {"WebACL": {"Name": "edge", "Id": "1", "ARN": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/1", "Rules": []}}
        if name == "nonexistent":
            raise ApiFault("WAFNonexistentItemException", "not found")
        if name == "denied":
            raise ApiFault("AccessDeniedException", "not authorized")
        return {}

    api = FakeApi()
    api.on("wafv2.GetWebACLForResource", answer)
    ctx = _context(api)
    inventory = wafv2.collect(ctx, AuditConfig(), _region({}, elbv2=part))
    asked = sorted(p["ResourceArn"] for _, p in api.requests)
    assert asked == sorted(arns[n] for n in ("acl", "none", "nonexistent", "denied"))
    assert inventory.web_acls[arns["acl"]].name == "edge"
    assert inventory.web_acls[arns["none"]] is None and inventory.web_acls[arns["nonexistent"]] is None
    assert arns["denied"] not in inventory.web_acls
    assert [(e.action, e.resources) for e in ctx.errors] == [("wafv2:GetWebACLForResource", [arns["denied"]])]


# --- EFS -------------------------------------------------------------------------------------


def _efs_estate() -> dict[str, Any]:
    def td(family: str, *file_systems: str) -> dict[str, Any]:
        return {
            "family": family,
            "containerDefinitions": [{"name": "app", "image": "app:1"}],
            "volumes": [{"name": f"v{i}", "efsVolumeConfiguration": {"fileSystemId": fs}} for i, fs in enumerate(file_systems)],
        }

    return {
        "task_definitions": [td("a", "fs-00000001", "fs-00000002"), td("b", "fs-00000001"), td("c", "fs-0000dead"), td("idle", "fs-00000003")],
        "services": [
            {"serviceName": "a", "cluster": "c1", "taskDefinition": "a:1"},
            {"serviceName": "b", "cluster": "c1", "taskDefinition": "b:1"},
            {"serviceName": "c", "cluster": "c1", "taskDefinition": "c:1"},
        ],
    }


class FakeEfs:
    def __init__(self):
        states = ["available", "available", "deleting"]
        self.targets = {
            "fs-00000001": [{"MountTargetId": f"fsmt-0000000{i}", "FileSystemId": "fs-00000001", "SubnetId": f"subnet-{i}",
                             "AvailabilityZoneName": f"us-east-1{'abc'[i]}", "LifeCycleState": states[i], "VpcId": "vpc-1"} for i in range(3)],
            "fs-00000002": [{"MountTargetId": "fsmt-00000009", "FileSystemId": "fs-00000002", "SubnetId": "subnet-9",
                             "AvailabilityZoneName": "us-east-1a", "LifeCycleState": "available"}],
        }
        self.denied_groups: set[str] = set()

    def install(self, api: FakeApi) -> None:
        api.on("efs.DescribeMountTargets", self.describe_mount_targets)
        api.on("efs.DescribeMountTargetSecurityGroups", self.describe_groups)

    def describe_mount_targets(self, p: dict[str, Any]) -> dict[str, Any]:
        fs = p["FileSystemId"]
        if fs not in self.targets:
            raise ApiFault("FileSystemNotFound", "File system does not exist.", 404)
        return _marker_page(self.targets[fs], p, "MountTargets", 2, limit_key="MaxItems")

    def describe_groups(self, p: dict[str, Any]) -> dict[str, Any]:
        if p["MountTargetId"] in self.denied_groups:
            raise ApiFault("AccessDeniedException", "not authorized", 403)
        return {"SecurityGroups": [f"sg-efs{p['MountTargetId'][-1]}"]}


def _collect_efs(fake: FakeEfs) -> tuple[FakeApi, CollectContext, EfsInventory]:
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    return api, ctx, efs.collect(ctx, AuditConfig(), _region(_efs_estate()))


def test_efs_reads_each_in_use_file_system_once_following_pages():
    api, ctx, inventory = _collect_efs(FakeEfs())
    asked = [p["FileSystemId"] for key, p in api.requests if key == "efs.DescribeMountTargets"]
    # fs-00000001 takes two pages; fs-00000003 belongs to a family no service or task uses
    assert sorted(asked) == ["fs-00000001", "fs-00000001", "fs-00000002", "fs-0000dead"]
    assert ctx.errors == []
    assert inventory.missing_file_systems == ["fs-0000dead"]
    assert [t.mount_target_id for t in inventory.mount_targets["fs-00000001"]] == ["fsmt-00000000", "fsmt-00000001", "fsmt-00000002"]
    # security groups once per mount target that is not being deleted
    assert api.calls["efs.DescribeMountTargetSecurityGroups"] == 3
    assert inventory.mount_target_security_groups == {"fsmt-00000000": ["sg-efs0"], "fsmt-00000001": ["sg-efs1"], "fsmt-00000009": ["sg-efs9"]}


def test_a_denied_mount_target_call_is_recorded_against_its_file_system():
    fake = FakeEfs()
    fake.denied_groups.add("fsmt-00000009")
    api, ctx, inventory = _collect_efs(fake)
    assert [(e.action, e.resources) for e in ctx.errors] == [
        ("elasticfilesystem:DescribeMountTargetSecurityGroups", [f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-00000002"])
    ]
    assert "fsmt-00000009" not in inventory.mount_target_security_groups


# --- EC2 -------------------------------------------------------------------------------------


def _ec2_page(items: list[Any], p: dict[str, Any], key: str, maximum: int) -> dict[str, Any]:
    size = p.get("MaxResults", 1000)
    assert 5 <= size <= maximum, f"MaxResults {size} outside 5..{maximum}"
    start = int(p.get("NextToken") or 0)
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def _filtered(items: list[dict[str, Any]], filters: list[dict[str, Any]], fields: dict[str, Callable[[dict[str, Any]], list[str]]]) -> list[dict[str, Any]]:
    total = sum(len(f["Values"]) for f in filters)
    if total > 200:
        raise ApiFault("FilterLimitExceeded", "The maximum number of filter values specified on a single call is 200")
    for f in filters:
        items = [i for i in items if set(fields[f["Name"]](i)) & set(f["Values"])]
    return items


class FakeEc2:
    """subnet-N is in vpc-(N % 3), AZ us-east-1(a|b|c); subnets divisible by 4 have their own route table."""

    def __init__(self, subnets: int, groups: int = 0, images: int = 0):
        self.subnets = [{"SubnetId": f"subnet-{n}", "VpcId": f"vpc-{n % 3}", "AvailabilityZone": f"us-east-1{'abc'[n % 3]}"} for n in range(subnets)]
        self.route_tables = [
            {"RouteTableId": f"rtb-{n}", "VpcId": f"vpc-{n % 3}", "Associations": [{"SubnetId": f"subnet-{n}", "Main": False}], "Routes": []}
            for n in range(0, subnets, 4)
        ] + [{"RouteTableId": f"rtb-main{v}", "VpcId": f"vpc-{v}", "Associations": [{"Main": True}], "Routes": []} for v in range(3)]
        self.groups = [{"GroupId": f"sg-{n}", "GroupName": f"g{n}", "VpcId": "vpc-0", "IpPermissions": []} for n in range(groups)]
        self.groups += [{"GroupId": f"sg-default{v}", "GroupName": "default", "VpcId": f"vpc-{v}", "IpPermissions": []} for v in range(3)]
        self.flow_logs = [{"FlowLogId": "fl-0", "ResourceId": "vpc-0", "FlowLogStatus": "ACTIVE"}, {"FlowLogId": "fl-9", "ResourceId": "vpc-9", "FlowLogStatus": "ACTIVE"}]
        self.images = [{"ImageId": f"ami-{n}", "Name": f"al2023-ami-ecs-{n}", "ImageOwnerAlias": "amazon"} for n in range(images)]
        self.instances: list[dict[str, Any]] = []  # DescribeInstances' instances (none unless a test adds them)
        self.denied_groups = False

    def install(self, api: FakeApi) -> None:
        api.on("ec2.DescribeSubnets", lambda p: _ec2_page(_filtered(self.subnets, p["Filters"], {"subnet-id": lambda i: [i["SubnetId"]]}), p, "Subnets", 1000))
        api.on("ec2.DescribeRouteTables", lambda p: _ec2_page(_filtered(self.route_tables, p["Filters"], {
            "association.subnet-id": lambda i: [a.get("SubnetId") for a in i["Associations"]],
            "vpc-id": lambda i: [i["VpcId"]],
            "association.main": lambda i: ["true" if any(a["Main"] for a in i["Associations"]) else "false"],
        }), p, "RouteTables", 100))
        api.on("ec2.DescribeSecurityGroups", self.describe_groups)
        api.on("ec2.DescribeFlowLogs", lambda p: _ec2_page(_filtered(self.flow_logs, p["Filter"], {"resource-id": lambda i: [i["ResourceId"]]}), p, "FlowLogs", 1000))
        api.on("ec2.DescribeImages", self.describe_images)
        api.on("ec2.DescribeInstances", self.describe_instances)

    def describe_instances(self, p: dict[str, Any]) -> dict[str, Any]:
        assert "InstanceIds" not in p, "InstanceIds fails the whole call for one terminated instance; filter instead"
        found = _filtered(self.instances, p["Filters"], {"instance-id": lambda i: [i["InstanceId"]]})
        page = _ec2_page(found, p, "Instances", 1000)
        page["Reservations"] = [{"Instances": page.pop("Instances")}]
        return page

    def describe_groups(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.denied_groups and p["Filters"][0]["Name"] == "group-id":
            raise ApiFault("UnauthorizedOperation", "You are not authorized to perform this operation.", 403)
        found = _filtered(self.groups, p["Filters"], {"group-id": lambda i: [i["GroupId"]], "vpc-id": lambda i: [i["VpcId"]], "group-name": lambda i: [i["GroupName"]]})
        return _ec2_page(found, p, "SecurityGroups", 1000)

    def describe_images(self, p: dict[str, Any]) -> dict[str, Any]:
        assert p.get("IncludeDeprecated") is True, "deprecated AMIs (old ECS-optimised ones) must be found"
        assert "ImageIds" not in p, "ImageIds fails the whole call for one deregistered AMI; filter instead"
        return _ec2_page(_filtered(self.images, p["Filters"], {"image-id": lambda i: [i["ImageId"]]}), p, "Images", 1000)


def _ec2_estate(subnets: int, *, groups: int = 0, instances: int = 0, default_group_service: bool = False) -> dict[str, Any]:
    services = [
        {"serviceName": f"s{i}", "cluster": "c1",
         "networkConfiguration": {"awsvpcConfiguration": {"subnets": [f"subnet-{n}" for n in range(i * 10, min(i * 10 + 10, subnets))],
                                                          "securityGroups": [f"sg-{n}" for n in range(i * 10, min(i * 10 + 10, groups))] or ["sg-0"]}}}
        for i in range((subnets + 9) // 10)
    ]
    if default_group_service:
        services.append({"serviceName": "no-groups", "cluster": "c1", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}})
    return {
        "clusters": [{"clusterName": "c1", "registeredContainerInstancesCount": instances}],
        "services": services,
        "tasks": [{"taskDefinition": "job:1", "cluster": "c1", "attachments": [{"type": "ElasticNetworkInterface", "details": [{"name": "subnetId", "value": "subnet-gone"}]}]}],
        "container_instances": {"c1": [
            {"containerInstanceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/c1/{n}", "ec2InstanceId": f"i-{n}",
             "attributes": [{"name": "ecs.ami-id", "value": f"ami-{n % 3}" if n < 5 else "ami-deregistered"}, {"name": "ecs.vpc-id", "value": "vpc-9"}]}
            for n in range(instances)
        ]},
    }


def _collect_ec2(fake: FakeEc2, estate: dict[str, Any], **parts: Any):
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    return api, ctx, ec2.collect(ctx, AuditConfig(), _region(estate, **parts))


def _filter_values(api: FakeApi, key: str) -> list[int]:
    return [sum(len(f["Values"]) for f in (p.get("Filters") or p.get("Filter"))) for k, p in api.requests if k == key]


def test_ec2_batches_subnets_and_route_tables_within_200_filter_values():
    api, ctx, inventory = _collect_ec2(FakeEc2(450), _ec2_estate(450))
    assert ctx.errors == []
    assert _filter_values(api, "ec2.DescribeSubnets") == [200, 200, 51]  # 450 + the task's subnet
    assert len(inventory.subnets) == 450 and inventory.missing_subnets == ["subnet-gone"]
    # explicit associations for every existing task subnet; then main tables for the 3 VPCs only
    assocs = [p for k, p in api.requests if k == "ec2.DescribeRouteTables" and p["Filters"][0]["Name"] == "association.subnet-id"]
    mains = [p for k, p in api.requests if k == "ec2.DescribeRouteTables" and p["Filters"][0]["Name"] == "vpc-id"]
    assert sorted(v for p in assocs for v in p["Filters"][0]["Values"]) == sorted(f"subnet-{n}" for n in range(450))
    assert all(len(p["Filters"][0]["Values"]) <= 200 for p in assocs)
    assert [sorted(p["Filters"][0]["Values"]) for p in mains] == [["vpc-0", "vpc-1", "vpc-2"]]
    assert mains[0]["Filters"][1] == {"Name": "association.main", "Values": ["true"]}
    subnet_1 = inventory.subnet("subnet-1")
    subnet_4 = inventory.subnet("subnet-4")
    assert inventory.route_table_for(subnet_4).route_table_id == "rtb-4"
    assert inventory.route_table_for(subnet_1).route_table_id == "rtb-main1"
    # every VPC's and task subnet's flow logs asked once (subnet-level logs count too), 200 a call
    assert _filter_values(api, "ec2.DescribeFlowLogs") == [200, 200, 53]
    assert [r for r in inventory.flow_log_vpcs if r.startswith("vpc-")] == ["vpc-0", "vpc-1", "vpc-2"]
    assert len([r for r in inventory.flow_log_vpcs if r.startswith("subnet-")]) == 450
    assert api.calls["ec2.DescribeImages"] == 0


def test_ec2_reads_groups_of_services_load_balancers_and_mount_targets_default_groups_flow_logs_and_amis():
    elb = LoadBalancingInventory.model_validate(
        {"load_balancers": [{"LoadBalancerArn": lb_arn(1), "LoadBalancerName": "lb", "SecurityGroups": ["sg-3", "sg-lb"]}]}
    )
    efs_part = EfsInventory.model_validate(
        {"mount_targets": {"fs-1": [{"MountTargetId": "fsmt-1", "FileSystemId": "fs-1", "SubnetId": "subnet-7"}]},
         "mount_target_security_groups": {"fsmt-1": ["sg-efs"]}}
    )
    api, ctx, inventory = _collect_ec2(FakeEc2(5, groups=5, images=2), _ec2_estate(5, groups=5, instances=6, default_group_service=True), elbv2=elb, efs=efs_part)
    assert ctx.errors == []
    asked_groups = [p["Filters"][0]["Values"] for k, p in api.requests if k == "ec2.DescribeSecurityGroups" and p["Filters"][0]["Name"] == "group-id"]
    assert asked_groups == [["sg-0", "sg-1", "sg-2", "sg-3", "sg-4", "sg-efs", "sg-lb"]]
    assert inventory.missing_security_groups == ["sg-efs", "sg-lb"]
    # the service naming no group gets its VPC's default group: asked for that VPC only
    defaults = [p["Filters"] for k, p in api.requests if k == "ec2.DescribeSecurityGroups" and p["Filters"][0]["Name"] == "vpc-id"]
    assert defaults == [[{"Name": "vpc-id", "Values": ["vpc-1"]}, {"Name": "group-name", "Values": ["default"]}]]
    assert inventory.default_security_groups == {"vpc-1": "sg-default1"}
    # mount-target subnets are described, but are not task subnets: no route table or flow log for them
    assert inventory.subnet("subnet-7") is None and "subnet-7" in inventory.missing_subnets
    # flow logs for the task VPCs and the container instances' VPC
    assert [r for r in inventory.flow_log_vpcs if r.startswith("vpc-")] == ["vpc-0", "vpc-1", "vpc-2", "vpc-9"]
    assert "subnet-7" not in inventory.flow_log_vpcs
    assert [f.flow_log_id for f in inventory.flow_logs] == ["fl-0", "fl-9"]
    # each distinct AMI once; a deregistered one is missing, not an error
    assert _filter_values(api, "ec2.DescribeImages") == [4]
    assert [i.image_id for i in inventory.images] == ["ami-0", "ami-1"]
    assert inventory.missing_images == ["ami-2", "ami-deregistered"]


def test_ec2_reads_each_container_instance_once_in_batches_and_joins_the_subnets_and_groups_of_its_host_interfaces():
    fake = FakeEc2(5, groups=2)
    # i-0 .. i-239 exist (i-240 .. i-249 were terminated); each has a primary interface in subnet-3 with
    # sg-host, and i-0 a trunk interface whose group belongs to awsvpc tasks, not to the host.
    fake.instances = [
        {"InstanceId": f"i-{n}", "SubnetId": "subnet-3", "IamInstanceProfile": {"Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecs"},
         "NetworkInterfaces": [{"SubnetId": "subnet-3", "Attachment": {"DeviceIndex": 0}, "Groups": [{"GroupId": "sg-host"}]}]
         + ([{"SubnetId": "subnet-3", "InterfaceType": "trunk", "Attachment": {"DeviceIndex": 1}, "Groups": [{"GroupId": "sg-trunk"}]}] if n == 0 else [])
         + ([{"SubnetId": "subnet-3", "InterfaceType": "interface", "Attachment": {"DeviceIndex": 1}, "Groups": [{"GroupId": "sg-user"}]},
             {"SubnetId": "subnet-3", "InterfaceType": "interface", "Description": f"arn:aws:ecs:us-east-1:{ACCOUNT}:attachment/0f1e", "Attachment": {"DeviceIndex": 2}, "Groups": [{"GroupId": "sg-task"}]}]
            if n == 1 else [])}
        for n in range(240)
    ]
    fake.groups.append({"GroupId": "sg-host", "GroupName": "hosts", "VpcId": "vpc-0", "IpPermissions": []})
    estate = _ec2_estate(2, groups=2, instances=250)
    # a bridge service (no awsvpc configuration): its subnet comes from the instances only
    estate["services"] = [{"serviceName": "bridge", "cluster": "c1"}]
    api, ctx, inventory = _collect_ec2(fake, estate)
    assert ctx.errors == []
    assert _filter_values(api, "ec2.DescribeInstances") == [200, 50]
    asked = sorted(v for k, p in api.requests if k == "ec2.DescribeInstances" for v in p["Filters"][0]["Values"])
    assert asked == sorted(f"i-{n}" for n in range(250))  # each distinct instance once
    assert len(inventory.instances) == 240
    assert inventory.missing_instances == sorted(f"i-{n}" for n in range(240, 250))
    assert inventory.instance("i-0").host_security_group_ids == ["sg-host"]
    assert inventory.instance("i-7").iam_instance_profile.arn.endswith("instance-profile/ecs")
    # the instances' subnet is described and its route table read; their primary groups, not the trunk's
    assert _filter_values(api, "ec2.DescribeSubnets") == [2]  # subnet-3 and the task's subnet-gone
    assert inventory.subnet("subnet-3") is not None
    assocs = [v for k, p in api.requests if k == "ec2.DescribeRouteTables" and p["Filters"][0]["Name"] == "association.subnet-id" for v in p["Filters"][0]["Values"]]
    assert assocs == ["subnet-3"]
    assert inventory.security_group("sg-host") is not None and inventory.security_group("sg-trunk") is None
    asked_groups = [v for k, p in api.requests if k == "ec2.DescribeSecurityGroups" and p["Filters"][0]["Name"] == "group-id" for v in p["Filters"][0]["Values"]]
    # i-1's user-attached secondary interface counts (host ports listen on it); its ECS task interface does not
    assert inventory.instance("i-1").host_security_group_ids == ["sg-host", "sg-user"]
    assert asked_groups == ["sg-host", "sg-user"]


def test_without_ec2_container_instances_describe_instances_is_not_called():
    api, ctx, inventory = _collect_ec2(FakeEc2(3), _ec2_estate(3))
    assert api.calls["ec2.DescribeInstances"] == 0 and inventory.instances == []


def test_a_denied_describe_security_groups_is_recorded_against_the_groups_and_none_is_called_missing():
    fake = FakeEc2(3, groups=3)
    fake.denied_groups = True
    api, ctx, inventory = _collect_ec2(fake, _ec2_estate(3, groups=3))
    assert [(e.action, e.error_code) for e in ctx.errors] == [("ec2:DescribeSecurityGroups", "UnauthorizedOperation")]
    assert ctx.errors[0].resources == sorted(f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-{n}" for n in range(3))
    assert inventory.missing_security_groups == []
    assert inventory.subnets  # the rest is still collected


@pytest.mark.parametrize("module", [ec2, efs, elbv2, wafv2])
def test_collectors_declare_only_read_operations(module):
    assert module.SOURCE.actions
    for action in module.SOURCE.actions:
        assert action.split(":", 1)[1].startswith(("Describe", "Get")), action
        assert action in ALLOWED_ACTIONS
