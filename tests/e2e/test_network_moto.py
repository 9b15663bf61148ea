"""End to end for network, load balancing and file systems: subnets and route tables, security groups,
load balancers and their listeners, WAF, target groups, EFS mount targets, flow logs and
container-instance AMIs and the instances bridge mode tasks use (NETWORK-002..007, NETWORK-010, STORAGE-004/005, RESILIENCE-001/007,
CLUSTER-002).

A small estate of its own is seeded into the moto server: well-configured resources and one planted
defect per check. The installed CLI scans it through the tests' proxy (which also disconnects one
container agent, something moto cannot do); then, once per service, the main call is denied and
exactly the checks that read it must turn UNKNOWN, naming the permission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.catalogue import load_catalogue
from ecs_audit.rules.registry import load_registry
from tests.support.deny import ACCESS_DENIED, Scan, assert_denial_confined, denied_scans, scan_through_proxy
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
CLUSTER = "network"
MY_CHECKS = {
    "NETWORK-002", "NETWORK-003", "NETWORK-004", "NETWORK-005", "NETWORK-006", "NETWORK-007", "NETWORK-010",
    "STORAGE-004", "STORAGE-005", "RESILIENCE-001", "RESILIENCE-007", "CLUSTER-002",
}
MY_SERVICES = ("ec2", "elbv2", "efs", "wafv2")


@dataclass
class Estate:
    account_id: str
    arns: dict[str, str] = field(default_factory=dict)  # short name -> ARN of what findings are about
    ids: dict[str, str] = field(default_factory=dict)  # short name -> EC2/EFS id (vpc-bad, fs-bad...)


def _seed(moto: MotoServer) -> Estate:
    moto.reset()
    account_id = moto.client("sts").get_caller_identity()["Account"]
    estate = Estate(account_id)
    ec2, elbv2, efs, ecs = (moto.client(s) for s in ("ec2", "elbv2", "efs", "ecs"))

    # Network: a VPC with private subnets in three AZs (no default route) and public ones (0.0.0.0/0 to
    # an internet gateway), with a flow log; and a second VPC without one.
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    bad_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    estate.ids.update(vpc=vpc, bad_vpc=bad_vpc)

    def subnet(vpc_id: str, cidr: str, az: str) -> str:
        return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]

    private = [subnet(vpc, f"10.0.{i}.0/24", az) for i, az in enumerate("abc", start=1)]
    public = [subnet(vpc, f"10.0.{i}.0/24", az) for i, az in enumerate("ab", start=101)]
    lonely = subnet(bad_vpc, "10.1.1.0/24", "a")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet_id in public:
        ec2.associate_route_table(RouteTableId=public_table, SubnetId=subnet_id)
    moto.client("s3").create_bucket(Bucket="e2e-flow-logs")
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                         LogDestination="arn:aws:s3:::e2e-flow-logs")

    def group(name: str, vpc_id: str, *rules: dict[str, Any]) -> str:
        group_id = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(rules))
        return group_id

    anywhere = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    alb_sg = group("alb", vpc, {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **anywhere}, {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, **anywhere})
    task_sg = group("task", vpc, {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": alb_sg}]})
    open_sg = group("open", vpc, {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, **anywhere})
    lonely_sg = group("lonely", bad_vpc)
    efs_good_sg = group("efs-good", vpc, {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "UserIdGroupPairs": [{"GroupId": task_sg}]})
    efs_bad_sg = group("efs-bad", vpc, {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]})

    # Load balancers: a good public ALB (HTTPS with a TLS 1.2+ policy, HTTP redirected, WAF), a bad one
    # (plain HTTP, a TLS 1.0 policy, no WAF) and an internal one.
    certificate = moto.client("acm").request_certificate(DomainName="e2e.example.com")["CertificateArn"]

    def target_group(name: str, drain: int, **health: Any) -> str:
        arn = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip", **health)["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(drain)}])
        return arn

    fast = {"HealthCheckIntervalSeconds": 10, "HealthyThresholdCount": 2}
    estate.arns.update(tg_good=target_group("tg-good", 20, **fast), tg_internal=target_group("tg-internal", 20, **fast), tg_bad=target_group("tg-bad", 300))

    def load_balancer(name: str, scheme: str, subnets: list[str]) -> str:
        return elbv2.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[alb_sg], Scheme=scheme, Type="application")["LoadBalancers"][0]["LoadBalancerArn"]

    def forward(name: str) -> list[dict[str, Any]]:
        return [{"Type": "forward", "TargetGroupArn": estate.arns[name]}]

    good_alb = estate.arns["alb_good"] = load_balancer("alb-good", "internet-facing", public)
    bad_alb = estate.arns["alb_bad"] = load_balancer("alb-bad", "internet-facing", public)
    internal_alb = estate.arns["alb_internal"] = load_balancer("alb-internal", "internal", private)
    https = {"Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": certificate}]}
    elbv2.create_listener(LoadBalancerArn=good_alb, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", DefaultActions=forward("tg_good"), **https)
    elbv2.create_listener(LoadBalancerArn=good_alb, Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    elbv2.create_listener(LoadBalancerArn=bad_alb, SslPolicy="ELBSecurityPolicy-2016-08", DefaultActions=forward("tg_bad"), **https)
    elbv2.create_listener(LoadBalancerArn=bad_alb, Protocol="HTTP", Port=80, DefaultActions=forward("tg_bad"))
    elbv2.create_listener(LoadBalancerArn=internal_alb, Protocol="HTTP", Port=80, DefaultActions=forward("tg_internal"))
    waf = moto.client("wafv2")
    acl = waf.create_web_acl(Name="edge", Scope="REGIONAL", DefaultAction={"Allow": {}},
                             VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "edge"})["Summary"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=good_alb)

    # EFS: one file system with a mount target in every private AZ admitting NFS from the task group,
    # one with a single mount target whose group admits a CIDR.
    fs_good = efs.create_file_system(CreationToken="e2e-good", Encrypted=True)["FileSystemId"]
    fs_bad = efs.create_file_system(CreationToken="e2e-bad", Encrypted=True)["FileSystemId"]
    for subnet_id in private:
        efs.create_mount_target(FileSystemId=fs_good, SubnetId=subnet_id, SecurityGroups=[efs_good_sg])
    efs.create_mount_target(FileSystemId=fs_bad, SubnetId=private[0], SecurityGroups=[efs_bad_sg])
    estate.ids.update(fs_good=fs_good, fs_bad=fs_bad)

    # ECS: Fargate services, one defect each.
    ecs.create_cluster(clusterName=CLUSTER)

    def task_definition(family: str, file_system: str | None = None) -> str:
        volumes = [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": file_system, "transitEncryption": "ENABLED"}}] if file_system else []
        container = {"name": "app", "image": "public.ecr.aws/docker/library/nginx:1.27", "memory": 512, "essential": True,
                     "portMappings": [{"containerPort": 8080}], "stopTimeout": 30}
        return ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                                            containerDefinitions=[container], volumes=volumes)["taskDefinition"]["taskDefinitionArn"]

    app, efs_good_td, efs_bad_td = task_definition("app"), task_definition("efs-good", fs_good), task_definition("efs-bad", fs_bad)

    def service(name: str, td: str, subnets: list[str], groups: list[str], target_group: str | None = None) -> None:
        extra = {"loadBalancers": [{"targetGroupArn": estate.arns[target_group], "containerName": "app", "containerPort": 8080}]} if target_group else {}
        arn = ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=td, desiredCount=2, launchType="FARGATE",
                                 networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": groups, "assignPublicIp": "DISABLED"}},
                                 **extra)["service"]["serviceArn"]
        estate.arns[name] = arn

    service("good", efs_good_td, private, [task_sg], "tg_good")
    service("internal", app, private, [task_sg], "tg_internal")
    service("web-bad", app, private, [task_sg], "tg_bad")
    service("public", app, public, [task_sg])
    service("open", app, private, [open_sg])
    service("single-az", app, [lonely], [lonely_sg])
    service("efs-gaps", efs_bad_td, private, [task_sg])

    # EC2 capacity: an ECS-optimised AMI, another AMI, and an instance whose agent the proxy disconnects.
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    ecs_ami = next(i["ImageId"] for i in images if (i.get("Name") or "").startswith("al2023-ami-ecs-hvm"))
    other_ami = next(i["ImageId"] for i in images if "ecs" not in (i.get("Name") or "").lower())
    for cluster, ami in (("ec2-good", ecs_ami), ("ec2-custom", other_ami), ("ec2-down", ecs_ami)):
        estate.arns[cluster] = ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"]
        instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=private[0])["Instances"][0]["InstanceId"]
        ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=json.dumps({"instanceId": instance, "region": REGION}))
    estate.ids.update(other_ami=other_ami)

    # Bridge mode services on EC2 use their container instance's network: one instance in a private
    # subnet with its VPC's default group (admits only itself), one in a public subnet whose group admits
    # the internet on the dynamic host ports (NETWORK-002/003 judge the instances).
    bridge = ecs.register_task_definition(family="bridge", networkMode="bridge", requiresCompatibilities=["EC2"],
                                          containerDefinitions=[{"name": "app", "image": "public.ecr.aws/docker/library/nginx:1.27", "memory": 256,
                                                                 "essential": True, "portMappings": [{"containerPort": 8080, "hostPort": 0}]}])["taskDefinition"]["taskDefinitionArn"]
    hosts_open = group("hosts-open", vpc, {"IpProtocol": "tcp", "FromPort": 32768, "ToPort": 65535, **anywhere})
    ecs.create_cluster(clusterName="bridge-public")
    instance = ec2.run_instances(ImageId=ecs_ami, MinCount=1, MaxCount=1, SubnetId=public[0], SecurityGroupIds=[hosts_open])["Instances"][0]["InstanceId"]
    ecs.register_container_instance(cluster="bridge-public", instanceIdentityDocument=json.dumps({"instanceId": instance, "region": REGION}))
    for cluster, name in (("ec2-good", "bridge-good"), ("bridge-public", "bridge-public")):
        estate.arns[name] = ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=bridge, desiredCount=1, launchType="EC2")["service"]["serviceArn"]
    estate.ids.update(public_subnet=public[0], hosts_open=hosts_open)
    estate.arns["account"] = f"arn:aws:iam::{account_id}:root"
    return estate


def _disconnect_ec2_down(call: Call, body: Any) -> None:
    if isinstance(body, dict) and "ec2-down" in json.dumps(call.params()):
        for instance in body.get("containerInstances", []):
            instance["agentConnected"] = False


def _scan(moto: MotoServer, estate: Estate, work: Path, *denied: str) -> Scan:
    return scan_through_proxy(moto.url, estate.account_id, work, [REGION], denied,
                              prepare=lambda proxy: proxy.rewrite_json("ecs.DescribeContainerInstances", _disconnect_ec2_down))


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    return _seed(moto_server)


@pytest.fixture(scope="module")
def scanned(moto_server: MotoServer, estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return _scan(moto_server, estate, tmp_path_factory.mktemp("network"))


def _results(scan: Scan, check: str, arn: str) -> list[dict[str, Any]]:
    return [f for f in scan.report["findings"] if f["check_id"] == check and f["resource"]["arn"] == arn]


GOOD = [
    ("NETWORK-002", "good"), ("NETWORK-003", "good"), ("RESILIENCE-001", "good"), ("STORAGE-004", "good"), ("STORAGE-005", "good"),
    ("NETWORK-010", "internal"),
    ("NETWORK-004", "alb_good"), ("NETWORK-005", "alb_good"), ("NETWORK-006", "alb_good"),
    ("RESILIENCE-007", "tg_good"), ("RESILIENCE-007", "tg_internal"),
    ("CLUSTER-002", "ec2-good"),
    ("NETWORK-002", "bridge-good"), ("NETWORK-003", "bridge-good"),
]

# (check, resource, status, fragments the message must contain)
PLANTED = [
    ("NETWORK-002", "public", "FAIL", ["public subnets", "0.0.0.0/0"]),
    ("NETWORK-003", "open", "FAIL", ["tcp/8080 from 0.0.0.0/0"]),
    ("NETWORK-004", "alb_bad", "FAIL", ["HTTP:80 (forward)"]),
    ("NETWORK-005", "alb_bad", "FAIL", ["ELBSecurityPolicy-2016-08 (allows TLS 1.0)"]),
    ("NETWORK-006", "alb_bad", "FAIL", ["no AWS WAF web ACL"]),
    ("NETWORK-007", "account", "FAIL", ["{bad_vpc}"]),
    ("NETWORK-010", "good", "WARN", ["alb-good is internet-facing"]),
    ("STORAGE-004", "efs-gaps", "FAIL", ["{fs_bad} has no mount target in us-east-1b, us-east-1c"]),
    ("STORAGE-005", "efs-gaps", "FAIL", ["admits address ranges 10.0.0.0/16"]),
    ("RESILIENCE-001", "single-az", "FAIL", ["one AZ (us-east-1a"]),
    ("RESILIENCE-001", "public", "WARN", ["only 2 AZs"]),
    ("RESILIENCE-007", "tg_bad", "WARN", ["150s", "deregistration delay is 300s"]),
    ("CLUSTER-002", "ec2-custom", "WARN", ["not ECS-optimised", "{other_ami}"]),
    ("CLUSTER-002", "ec2-down", "FAIL", ["disconnected"]),
    ("NETWORK-002", "bridge-public", "FAIL", ["container instances in public subnets", "{public_subnet}"]),
    ("NETWORK-003", "bridge-public", "FAIL", ["{hosts_open} (hosts-open) admits tcp/32768-65535 from 0.0.0.0/0"]),
]

NOT_APPLICABLE = [("NETWORK-004", "alb_internal"), ("NETWORK-005", "alb_internal"), ("NETWORK-006", "alb_internal")]


def test_the_scan_runs_and_my_services_record_no_errors(scanned: Scan) -> None:
    assert scanned.run.returncode == 0, scanned.run
    mine = [e for e in scanned.report["errors"] if e["service"] in MY_SERVICES]
    assert mine == []


@pytest.mark.parametrize(("check", "name"), GOOD, ids=lambda v: str(v))
def test_the_well_configured_resources_pass(scanned: Scan, estate: Estate, check: str, name: str) -> None:
    results = _results(scanned, check, estate.arns[name])
    assert [f["status"] for f in results] == ["PASS"], [(f["status"], f["message"]) for f in results]


@pytest.mark.parametrize(("check", "name"), NOT_APPLICABLE, ids=lambda v: str(v))
def test_the_internal_load_balancer_is_not_applicable(scanned: Scan, estate: Estate, check: str, name: str) -> None:
    assert [f["status"] for f in _results(scanned, check, estate.arns[name])] == ["NOT_APPLICABLE"]


@pytest.mark.parametrize(("check", "name", "status", "fragments"), PLANTED, ids=lambda v: str(v))
def test_each_planted_defect_is_found_on_its_resource(
    scanned: Scan, estate: Estate, check: str, name: str, status: str, fragments: list[str]
) -> None:
    results = _results(scanned, check, estate.arns[name])
    assert [f["status"] for f in results] == [status], [(f["status"], f["message"]) for f in results]
    for fragment in fragments:
        assert fragment.format(**estate.ids) in results[0]["message"], results[0]["message"]
    if check == "NETWORK-007":
        assert estate.ids["vpc"] not in results[0]["message"]  # the VPC with a flow log is not named


def test_each_resource_is_read_once_with_targeted_batched_calls(scanned: Scan) -> None:
    count = lambda key: sum(1 for c in scanned.calls if c.key == key)  # noqa: E731
    # three target groups, three load balancers: one batch each; listeners and attributes once each
    assert count("elbv2.DescribeTargetGroups") == 1 and count("elbv2.DescribeLoadBalancers") == 1
    assert count("elbv2.DescribeListeners") == 3 and count("elbv2.DescribeTargetGroupAttributes") == 3
    # WAF for the two internet-facing ALBs only; EFS per file system and per mount target
    assert count("wafv2.GetWebACLForResource") == 2
    assert count("efs.DescribeMountTargets") == 2 and count("efs.DescribeMountTargetSecurityGroups") == 4
    # EC2: one filtered call each (route tables: explicit associations, then the VPCs' main tables)
    assert count("ec2.DescribeSubnets") == 1 and count("ec2.DescribeFlowLogs") == 1 and count("ec2.DescribeImages") == 1
    assert count("ec2.DescribeSecurityGroups") == 1 and count("ec2.DescribeRouteTables") == 2
    assert count("ec2.DescribeInstances") == 1  # the four container instances, one filtered call
    mine = {c.action for c in scanned.calls if c.service in MY_SERVICES}
    assert mine <= ALLOWED_ACTIONS
    assert not [c.action for c in scanned.calls if c.mutating]


# --- one service's main call denied ----------------------------------------------------------------

# action -> (check, resource) pairs that must turn UNKNOWN naming it. A denied DescribeTargetGroups
# leaves the load balancers unknown altogether: the UNKNOWN results then name the target groups.
DENIALS = {
    "elasticloadbalancing:DescribeTargetGroups": [
        *((check, tg) for check in ("NETWORK-004", "NETWORK-005", "NETWORK-006", "RESILIENCE-007") for tg in ("tg_good", "tg_bad", "tg_internal")),
        ("NETWORK-010", "good"), ("NETWORK-010", "internal"), ("NETWORK-010", "web-bad"),
    ],
    "elasticfilesystem:DescribeMountTargets": [("STORAGE-004", "good"), ("STORAGE-004", "efs-gaps"), ("STORAGE-005", "good"), ("STORAGE-005", "efs-gaps")],
    "ec2:DescribeSubnets": [
        *(("NETWORK-002", s) for s in ("good", "public", "open", "single-az", "bridge-good", "bridge-public")),
        *(("RESILIENCE-001", s) for s in ("good", "public", "single-az")),
        ("STORAGE-004", "good"), ("STORAGE-004", "efs-gaps"), ("NETWORK-007", "account"),
    ],
    "ec2:DescribeSecurityGroups": [
        *(("NETWORK-003", s) for s in ("good", "open", "single-az", "bridge-good", "bridge-public")), ("STORAGE-005", "good"), ("STORAGE-005", "efs-gaps"),
    ],
    "ec2:DescribeInstances": [*((check, s) for check in ("NETWORK-002", "NETWORK-003") for s in ("bridge-good", "bridge-public"))],
    "wafv2:GetWebACLForResource": [("NETWORK-006", "alb_good"), ("NETWORK-006", "alb_bad")],
    "ec2:DescribeImages": [("CLUSTER-002", "ec2-good"), ("CLUSTER-002", "ec2-custom")],
}


denied = denied_scans(DENIALS, _scan)


def test_a_denied_call_makes_exactly_the_checks_that_read_it_unknown(denied: tuple[str, Scan], scanned: Scan, estate: Estate) -> None:
    action, scan = denied
    expected = {(check, name): _results(scan, check, estate.arns[name]) for check, name in DENIALS[action]}
    # Everything else that changed is UNKNOWN for this call, in a check of mine or one that declares it needs it.
    registry = load_registry()
    needing = {entry.id for entry in load_catalogue().checks if entry.id in registry and action in entry.needs}
    assert_denial_confined(action, scan, scanned, expected, MY_CHECKS | needing, error_codes=(*ACCESS_DENIED, "UnauthorizedOperation"))
    if action == "ec2:DescribeImages":
        # A disconnected agent is decided without the AMI: it still fails.
        assert [f["status"] for f in _results(scan, "CLUSTER-002", estate.arns["ec2-down"])] == ["FAIL"]

