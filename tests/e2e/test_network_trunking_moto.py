"""End to end for NETWORK-008: ENI trunking is judged per container instance, not by the audit
principal's own awsvpcTrunking setting.

awsvpcTrunking is a per-principal setting; the role that registers the container instances (their
instance profile's role) decides, and an instance that got a trunk network interface carries the
`ecs.awsvpc-trunk-id` attribute
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-eni.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html#attributes).
moto never sets that attribute, so the tests' proxy adds it to DescribeContainerInstances' answer, as
ECS does once it has attached the trunk. The audit principal's own setting is "enabled" and must not
turn an instance without a trunk into a PASS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.deny import Scan, scan_through_proxy
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
CLUSTER = "awsvpc-ec2"
TRUNK = "ecs.awsvpc-trunk-id"


@dataclass
class Estate:
    account_id: str
    instances: dict[str, str] = field(default_factory=dict)  # "trunked" / "plain" -> EC2 instance id
    profile_arn: str = ""


def _seed(moto: MotoServer) -> Estate:
    moto.reset()
    account_id = moto.client("sts").get_caller_identity()["Account"]
    estate = Estate(account_id)
    ec2, ecs, iam = (moto.client(s) for s in ("ec2", "ecs", "iam"))
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="task", Description="task", VpcId=vpc)["GroupId"]
    iam.create_role(RoleName="ecsInstanceRole", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    profile = iam.create_instance_profile(InstanceProfileName="ecs-nodes")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="ecs-nodes", RoleName="ecsInstanceRole")
    estate.profile_arn = profile["Arn"]
    # The audit principal's own effective setting: enabled. It is not the instances' role's.
    ecs.put_account_setting(name="awsvpcTrunking", value="enabled")
    ecs.create_cluster(clusterName=CLUSTER)
    ami = next(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"] if (i.get("Name") or "").startswith("al2023-ami-ecs-hvm"))
    for name in ("trunked", "plain"):
        instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=subnet,
                                     IamInstanceProfile={"Name": "ecs-nodes"})["Instances"][0]["InstanceId"]
        ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=json.dumps({"instanceId": instance, "region": REGION}))
        estate.instances[name] = instance
    td = ecs.register_task_definition(family="api", networkMode="awsvpc", requiresCompatibilities=["EC2"],
                                      containerDefinitions=[{"name": "app", "image": "public.ecr.aws/docker/library/nginx:1.27", "memory": 256, "essential": True}])
    ecs.create_service(cluster=CLUSTER, serviceName="api", taskDefinition=td["taskDefinition"]["taskDefinitionArn"], desiredCount=1, launchType="EC2",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}})
    return estate


def _with_trunk(instance_ids: set[str]):
    def edit(call: Call, body: Any) -> None:
        for instance in body.get("containerInstances", []) if isinstance(body, dict) else []:
            if instance.get("ec2InstanceId") in instance_ids:
                instance.setdefault("attributes", []).append({"name": TRUNK, "value": "3f1c2d4e-0000-1111-2222-333344445555"})
    return edit


def _scan(moto: MotoServer, work: Path, account_id: str, trunked: set[str]) -> Scan:
    return scan_through_proxy(moto.url, account_id, work, [REGION],
                              prepare=lambda proxy: proxy.rewrite_json("ecs.DescribeContainerInstances", _with_trunk(trunked)))


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    return _seed(moto_server)


def _network_008(scan: Scan) -> dict[str, Any]:
    assert scan.run.returncode == 0, scan.run
    found = [f for f in scan.report["findings"] if f["check_id"] == "NETWORK-008"]
    assert len(found) == 1, found
    return found[0]


def test_an_instance_without_a_trunk_warns_naming_its_instance_profile(moto_server: MotoServer, estate: Estate, tmp_path: Path) -> None:
    scan = _scan(moto_server, tmp_path, estate.account_id, {estate.instances["trunked"]})
    finding = _network_008(scan)
    assert finding["status"] == "WARN", finding["message"]
    assert f"{estate.instances['plain']} (principal: {estate.profile_arn})" in finding["message"]
    assert estate.instances["trunked"] not in finding["message"].split("):")[1]
    # one DescribeInstances for both instances
    assert sum(1 for c in scan.calls if c.key == "ec2.DescribeInstances") == 1


def test_every_instance_with_a_trunk_passes(moto_server: MotoServer, estate: Estate, tmp_path: Path) -> None:
    finding = _network_008(_scan(moto_server, tmp_path, estate.account_id, set(estate.instances.values())))
    assert finding["status"] == "PASS", finding["message"]
    assert all(i in finding["message"] for i in estate.instances.values())
