"""Every field alias of the EC2, Elastic Load Balancing, EFS and WAFv2 inventory models must exist in
botocore's shape: a misspelt PascalCase alias would silently read as None."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader
from pydantic import BaseModel

from ecs_audit.inventory import ec2, efs, elbv2, wafv2
from ecs_audit.rules.network import LEGACY_TLS_POLICIES, minimum_tls_version

# Our model -> (botocore service, the shape it mirrors).
SHAPES = {
    elbv2.LoadBalancerV2: ("elbv2", "LoadBalancer"),
    elbv2.TargetGroup: ("elbv2", "TargetGroup"),
    elbv2.Listener: ("elbv2", "Listener"),
    elbv2.Action: ("elbv2", "Action"),
    elbv2.RedirectActionConfig: ("elbv2", "RedirectActionConfig"),
    wafv2.WebAcl: ("wafv2", "WebACL"),
    efs.MountTarget: ("efs", "MountTargetDescription"),
    ec2.Subnet: ("ec2", "Subnet"),
    ec2.RouteTable: ("ec2", "RouteTable"),
    ec2.RouteTableAssociation: ("ec2", "RouteTableAssociation"),
    ec2.Route: ("ec2", "Route"),
    ec2.SecurityGroup: ("ec2", "SecurityGroup"),
    ec2.IpPermission: ("ec2", "IpPermission"),
    ec2.IpRange: ("ec2", "IpRange"),
    ec2.Ipv6Range: ("ec2", "Ipv6Range"),
    ec2.UserIdGroupPair: ("ec2", "UserIdGroupPair"),
    ec2.PrefixListId: ("ec2", "PrefixListId"),
    ec2.FlowLog: ("ec2", "FlowLog"),
    ec2.Image: ("ec2", "Image"),
    ec2.Instance: ("ec2", "Instance"),
    ec2.InstanceNetworkInterface: ("ec2", "InstanceNetworkInterface"),
    ec2.InstanceNetworkInterfaceAttachment: ("ec2", "InstanceNetworkInterfaceAttachment"),
    ec2.GroupIdentifier: ("ec2", "GroupIdentifier"),
    ec2.IamInstanceProfile: ("ec2", "IamInstanceProfile"),
    ec2.InstanceState: ("ec2", "InstanceState"),
}

_LOADER = Loader()


def _members(service: str, shape: str) -> set[str]:
    return set(_LOADER.load_service_model(service, "service-2")["shapes"][shape]["members"])


@pytest.mark.parametrize("model", list(SHAPES), ids=lambda m: m.__name__)
def test_every_field_is_an_api_member(model: type[BaseModel]):
    service, shape = SHAPES[model]
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    unknown = aliases - _members(service, shape)
    assert not unknown, f"{model.__name__} fields not in botocore {service} shape {shape}: {sorted(unknown)}"


def test_models_validate_from_api_shaped_items():
    sg = ec2.SecurityGroup.model_validate(
        {"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]}
    )
    assert sg.ip_permissions[0].is_nfs_only and sg.ip_permissions[0].open_to_anywhere == ["::/0"]
    acl = wafv2.WebAcl.model_validate({"Name": "acl", "Id": "1", "ARN": "arn:aws:wafv2:x"})
    assert acl.arn == "arn:aws:wafv2:x"
    mount_target = efs.MountTarget.model_validate({"MountTargetId": "fsmt-1", "FileSystemId": "fs-1", "LifeCycleState": "deleting"})
    assert not mount_target.usable


# Every predefined policy in the ALB and NLB security-policy tables, with the oldest TLS version it allows.
DOCUMENTED_POLICIES = {
    "ELBSecurityPolicy-TLS13-1-3-2021-06": "1.3",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04": "1.3",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09": "1.3",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09": "1.3",
    "ELBSecurityPolicy-TLS13-1-2-2021-06": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-RFC9151-FIPS-2023-07": "1.2",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-RFC9151-FIPS-2023-07": "1.2",
    "ELBSecurityPolicy-TLS-1-2-2017-01": "1.2",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": "1.2",
    "ELBSecurityPolicy-FS-1-2-2019-08": "1.2",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08": "1.2",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10": "1.2",
    "ELBSecurityPolicy-TLS13-1-1-2021-06": "1.1",
    "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04": "1.1",
    "ELBSecurityPolicy-TLS-1-1-2017-01": "1.1",
    "ELBSecurityPolicy-FS-1-1-2019-08": "1.1",
    "ELBSecurityPolicy-TLS13-1-0-2021-06": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09": "1.0",
    "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09": "1.0",
    "ELBSecurityPolicy-TLS-1-0-2015-04": "1.0",
    "ELBSecurityPolicy-FS-2018-06": "1.0",
    "ELBSecurityPolicy-2016-08": "1.0",
    "ELBSecurityPolicy-2015-05": "1.0",
}


@pytest.mark.parametrize("policy", sorted(DOCUMENTED_POLICIES))
def test_security_policies_are_classified_by_their_oldest_tls_version(policy):
    assert minimum_tls_version(policy) == DOCUMENTED_POLICIES[policy]


def test_unknown_policies_are_not_guessed():
    assert minimum_tls_version("ELBSecurityPolicy-Custom") is None
    assert minimum_tls_version("") is None
    assert set(LEGACY_TLS_POLICIES) <= set(DOCUMENTED_POLICIES)
