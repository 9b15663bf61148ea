"""Seed the demo account: a realistic ECS estate, with boto3, into moto.

The account (us-east-1; a smaller eu-west-1; a disaster-recovery pilot light in us-west-2) holds:

- `prod`: the reference service `web-api` (Fargate, private subnets in three AZs, circuit breaker with
  rollback, ECS Exec with logged and encrypted sessions, an ADOT collector sidecar...) and `payments`,
  also well run (Cloud Map, secrets from Secrets Manager and SSM SecureString, a non-root user).
- `legacy`: the neglected neighbours and their classic mistakes: `reporting` (EC2, bridge mode,
  privileged, SYS_ADMIN and no AppArmor profile, host PID, the Docker socket, a password and an access
  key id in plain environment variables, no logs but ECS Exec, one admin role for both roles, deploys
  that stop the only task first, a 1.5 GB image in a repository open to everyone), `legacy-api`
  (`:latest`, a public IP in one public subnet, platform 1.3.0, no circuit breaker, EFS without transit
  encryption, an App Mesh Envoy sidecar) and `nightly-export` (parked at 0, a secret lingering in an
  older revision, a newer revision registered but never deployed, blocking awslogs).
- `batch`: no services, a standalone task started by an EventBridge rule, an EC2 capacity provider.
- `sandbox`: an idle cluster.
- `search`: EC2 capacity shared by `search-api` (prod) and `search-api-staging`, deployed blue/green by
  CodeDeploy behind an internal ALB, their dictionaries on EFS (see seed_search_cluster).
- eu-west-1 `prod-eu`: web-api behind an internet-facing ALB done right, still pulling its image across
  regions, in two AZs; `image-resizer`, on the EC2 launch type with no instance to run on; flow logs,
  ENI trunking, enhanced ECR scanning; GuardDuty without runtime monitoring (see seed_second_region).
- us-west-2 `prod-dr`: a pilot light for disaster recovery: an empty cluster and web-api's task
  definition, whose image is in us-east-1 (see seed_dr_region).

Everything goes through the AWS APIs (boto3 against moto), worked around moto's gaps as MOTO-NOTES.md
describes: create_service drops fields (re-sent with update_service), running counts are read from
MOTO_ECS_SERVICE_RUNNING at creation, services never start tasks (started with run_task, as the
scheduler would). What no AWS API can create goes through moto's own API (/moto-api): its random seed
(the same ids every run), task states (pinned RUNNING) and ECR scan results. What AWS would say and moto
cannot (who registered what, Compute Optimizer...) is the `Backstory`, used by ecs_audit.demo.enrich.

The functions below are building blocks: `seed_estate` composes all of them; tests compose fewer.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

HOME_REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
DR_REGION = "us-west-2"
DEMO_REGIONS = (HOME_REGION, SECOND_REGION, DR_REGION)
DEMO_ACCOUNT_ID = "111122223333"

# Planted secrets. They are fake, but the audit must treat them as real: none of them may appear in
# any report or snapshot (the tests grep every file written for them).
FAKE_DB_PASSWORD = "demo-not-a-real-password"
FAKE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_API_TOKEN = "demo-not-a-real-token-9f3b"
PLANTED_SECRET_VALUES = (FAKE_DB_PASSWORD, FAKE_ACCESS_KEY_ID, FAKE_API_TOKEN)

# Git commit SHAs the CI pipeline tagged images with.
WEB_API_OLD_SHA = "1b7e04c9d3a2f5e8b6c1d0a9e7f3b2c5d8a4e6f0"  # expired from ECR by the lifecycle policy
WEB_API_PREVIOUS_SHA = "3f9c2ab84e1d7c60b5a29f1e8d4c7b03a6e95d21"
WEB_API_CURRENT_SHA = "8d41e7c05b2f9a3e6c1d7048b9e2f5a1c3d6e8b7"
PAYMENTS_PREVIOUS_SHA = "c71a3e9b2d5f8046a1e3c7b9d2f4a6e8b0c1d3f5"
PAYMENTS_CURRENT_SHA = "5e2b9d1c7a4f08e3b6d2c9a1f5e7b3d0c8a4f261"
SEARCH_API_SHA = "a4c19e7f2b6d3058e1c9b7a2d4f6e8c0b3a5d7e9"  # live in prod
SEARCH_API_RC_SHA = "e07b2d9c4a1f6e3b8d5c2a9f7e1b4d6c3a8f0e52"  # the release candidate staging runs
IMAGE_RESIZER_VERSION = "3.4.1"

ADOT_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"
APPMESH_ENVOY_IMAGE = "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.27.3.0-prod"

MANAGED_TASK_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
AUDIT_ROLE = "ecs-audit-readonly"
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
CODEDEPLOY_ECS_POLICY = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
# The Amazon ECS-optimised Amazon Linux 2 AMI (in moto's catalogue as in AWS's).
ECS_OPTIMIZED_AMI = "ami-0d75e18107f482a72"  # amzn2-ami-ecs-kernel-5.10-hvm-2.0.20251112-x86_64-ebs

# Who registered which revision and how long ago; who created which service. AWS returns these
# (registeredBy, registeredAt, createdBy, createdAt); moto does not, so the demo hooks add them from here.
# `{account}` is replaced with the account id.
CI_ROLE = "github-actions-deploy"
CI_SESSION = "arn:aws:sts::{account}:assumed-role/github-actions-deploy/GitHubActions"
IAC_ROLE_ARN = "arn:aws:iam::{account}:role/terraform-apply"
LEGACY_ADMIN_USER = "arn:aws:iam::{account}:user/j.doe"


@dataclass(frozen=True)
class Utilisation:
    """A service's CPU and memory use as fractions of what its tasks reserve: (typical, peak)."""

    cpu: tuple[float, float]
    memory: tuple[float, float]


@dataclass(frozen=True)
class Backstory:
    """What AWS knows about the account and moto cannot: who did what when, and how busy things are.

    `registrations` maps `family:revision` (or `region/family:revision`) to (principal, days ago);
    `services` maps `cluster/service` to (principal, days ago) of its creation; `utilisation` maps
    `cluster/service` to its measured use (seeded as Container Insights metrics where Container
    Insights is on; Compute Optimizer's recommendations follow from it too). Anything not listed was
    done by the default principals, with ages derived from revision numbers, at a moderate utilisation.
    `deployment_groups` maps `application/group` to the CodeDeploy deployment-group fields moto keeps
    but never returns (alarmConfiguration): the seeding sends them, the demo's answers return them."""

    registrations: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    services: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    utilisation: Mapping[str, Utilisation] = field(default_factory=dict)
    deployment_groups: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_registrar: str = CI_SESSION
    default_service_creator: str = IAC_ROLE_ARN
    default_utilisation: Utilisation = Utilisation(cpu=(0.35, 0.6), memory=(0.5, 0.65))
    # ECS agent version on container instances (moto reports a placeholder 1.0.0).
    ecs_agent_version: str = "1.89.1"
    docker_version: str = "DockerVersion: 25.0.8"

    def utilisation_of(self, cluster: str, service: str) -> Utilisation:
        return self.utilisation.get(f"{cluster}/{service}", self.default_utilisation)


DEMO_BACKSTORY = Backstory(
    registrations={
        "web-api:1": (CI_SESSION, 61),
        "web-api:2": (CI_SESSION, 9),
        "web-api:3": (CI_SESSION, 2),
        "payments:1": (CI_SESSION, 40),
        "payments:2": (CI_SESSION, 6),
        "reporting:1": (LEGACY_ADMIN_USER, 612),
        "legacy-api:1": (CI_SESSION, 433),
        "nightly-export:1": (LEGACY_ADMIN_USER, 540),
        "nightly-export:2": (CI_SESSION, 301),
        "nightly-export:3": (CI_SESSION, 88),
        "invoice-export:1": (CI_SESSION, 14),
        "search-api:1": (CI_SESSION, 12),
        "search-api-staging:1": (CI_SESSION, 1),
        "eu-west-1/web-api:1": (CI_SESSION, 2),
        "eu-west-1/image-resizer:1": (CI_SESSION, 3),
        "us-west-2/web-api:1": (CI_SESSION, 9),
    },
    services={
        "prod/web-api": (IAC_ROLE_ARN, 210),
        "prod/payments": (IAC_ROLE_ARN, 180),
        "legacy/reporting": (LEGACY_ADMIN_USER, 700),
        "legacy/legacy-api": (LEGACY_ADMIN_USER, 640),
        "legacy/nightly-export": (LEGACY_ADMIN_USER, 560),
        "prod-eu/web-api": (IAC_ROLE_ARN, 95),
        "prod-eu/image-resizer": (IAC_ROLE_ARN, 3),
        "search/search-api": (IAC_ROLE_ARN, 150),
        "search/search-api-staging": (LEGACY_ADMIN_USER, 45),
    },
    utilisation={
        "prod/web-api": Utilisation(cpu=(0.31, 0.64), memory=(0.47, 0.68)),
        # Sized for a launch-day peak that never came: a rightsizing candidate.
        "prod/payments": Utilisation(cpu=(0.05, 0.12), memory=(0.16, 0.23)),
        "prod-eu/web-api": Utilisation(cpu=(0.22, 0.45), memory=(0.41, 0.55)),
        # Runs out of memory under load (no Container Insights there: only Compute Optimizer sees it).
        "legacy/legacy-api": Utilisation(cpu=(0.48, 0.81), memory=(0.83, 0.97)),
        "search/search-api": Utilisation(cpu=(0.52, 0.79), memory=(0.61, 0.72)),
        "search/search-api-staging": Utilisation(cpu=(0.04, 0.3), memory=(0.55, 0.6)),
    },
    deployment_groups={
        # Production deployments stop and roll back when the new task set answers 5xx.
        "search-api/search-api-prod": {
            "alarmConfiguration": {"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "search-api-5xx"}]},
        },
    },
    ecs_agent_version="1.68.2",
    docker_version="DockerVersion: 20.10.25",
)


# --- plumbing --------------------------------------------------------------------------------


class Seeder:
    """boto3 clients for one account, against moto in-process (`endpoint_url=None`) or a moto server."""

    def __init__(self, session: boto3.Session, *, endpoint_url: str | None = None):
        self.session = session
        self.endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}
        self.account_id = self.client("sts", HOME_REGION).get_caller_identity()["Account"]

    def client(self, service: str, region: str = HOME_REGION) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url)
        return self._clients[key]

    @property
    def moto_api(self) -> str:
        """Base URL of moto's own API (/moto-api/...): intercepted in-process, or the server's."""
        return (self.endpoint_url or "http://motoapi.amazonaws.com").rstrip("/")

    def moto_post(self, path: str, **kwargs: Any) -> None:
        import requests  # a dependency of moto; in-process, mock_aws() intercepts motoapi.amazonaws.com

        response = requests.post(f"{self.moto_api}{path}", timeout=10, **kwargs)
        response.raise_for_status()

    def ecr_host(self, region: str = HOME_REGION) -> str:
        return f"{self.account_id}.dkr.ecr.{region}.amazonaws.com"

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"

    def fmt(self, template: str) -> str:
        return template.format(account=self.account_id)


def prepare_moto(seeder: Seeder, *, seed: int = 20261101) -> None:
    """Make moto deterministic (its random ids) and keep tasks RUNNING (moto advances them on every
    describe otherwise)."""
    seeder.moto_post(f"/moto-api/seed?a={seed}")
    seeder.moto_post(
        "/moto-api/state-manager/set-transition",
        json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )


@contextmanager
def moto_service_running(count: int) -> Iterator[None]:
    """moto reads MOTO_ECS_SERVICE_RUNNING when a service is created: its runningCount and whether the
    first deployment's rollout is COMPLETED. The server must run in this process (in-process mock or
    ThreadedMotoServer) for this to reach it."""
    previous = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(count)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MOTO_ECS_SERVICE_RUNNING", None)
        else:
            os.environ["MOTO_ECS_SERVICE_RUNNING"] = previous


def tags_list(tags: Mapping[str, str], *, key: str = "key", value: str = "value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("/".join(parts).encode()).hexdigest()


# --- network ---------------------------------------------------------------------------------


@dataclass
class Network:
    region: str
    vpc_id: str
    azs: list[str]
    private_subnets: list[str]
    public_subnets: list[str]
    security_groups: dict[str, str] = field(default_factory=dict)

    def subnet_az(self) -> dict[str, str]:
        return dict(zip(self.private_subnets + self.public_subnets, self.azs + self.azs))


def seed_network(seeder: Seeder, region: str, *, name: str, cidr_prefix: str, azs: Sequence[str], nat: bool = True) -> Network:
    """A VPC across `azs`: a private and a public subnet per AZ, an internet gateway, NAT egress for the
    private subnets (one NAT gateway, in the first AZ)."""
    ec2 = seeder.client("ec2", region)
    tag = lambda kind, value: [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": value}, {"Key": "Environment", "Value": name.split("-")[0]}]}]  # noqa: E731
    vpc = ec2.create_vpc(CidrBlock=f"{cidr_prefix}.0.0/16", TagSpecifications=tag("vpc", f"{name}-vpc"))["Vpc"]["VpcId"]
    # run_task in moto needs DNS hostnames on the VPC (MOTO-NOTES 2d); real VPCs of this kind have them too.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    private, public = [], []
    for index, az in enumerate(azs):
        suffix = az[-1]
        private.append(
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"{cidr_prefix}.{index * 16}.0/20", AvailabilityZone=az,
                TagSpecifications=tag("subnet", f"{name}-private-{suffix}"),
            )["Subnet"]["SubnetId"]
        )
    for index, az in enumerate(azs):
        suffix = az[-1]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{cidr_prefix}.{128 + index * 4}.0/22", AvailabilityZone=az,
            TagSpecifications=tag("subnet", f"{name}-public-{suffix}"),
        )["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        public.append(subnet)
    igw = ec2.create_internet_gateway(TagSpecifications=tag("internet-gateway", f"{name}-igw"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag("route-table", f"{name}-public"))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet in public:
        ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet)
    private_rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag("route-table", f"{name}-private"))["RouteTable"]["RouteTableId"]
    if nat:
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat_id = ec2.create_nat_gateway(SubnetId=public[0], AllocationId=eip, TagSpecifications=tag("natgateway", f"{name}-nat"))["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    for subnet in private:
        ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnet)
    return Network(region=region, vpc_id=vpc, azs=list(azs), private_subnets=private, public_subnets=public)


def security_group(
    seeder: Seeder,
    network: Network,
    name: str,
    description: str,
    *,
    cidr_ingress: Sequence[tuple[int, int, str]] = (),
    group_ingress: Sequence[tuple[int, int, str]] = (),
) -> str:
    """A security group; ingress rules are (from port, to port, CIDR) or (from port, to port, group name)."""
    ec2 = seeder.client("ec2", network.region)
    group = ec2.create_security_group(
        GroupName=name, Description=description, VpcId=network.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "Name", "Value": name}]}],
    )["GroupId"]
    permissions = []
    for low, high, cidr in cidr_ingress:
        entry: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": low, "ToPort": high}
        if ":" in cidr:
            entry["Ipv6Ranges"] = [{"CidrIpv6": cidr}]
        else:
            entry["IpRanges"] = [{"CidrIp": cidr, "Description": description}]
        permissions.append(entry)
    for low, high, source in group_ingress:
        permissions.append(
            {"IpProtocol": "tcp", "FromPort": low, "ToPort": high, "UserIdGroupPairs": [{"GroupId": network.security_groups[source]}]}
        )
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permissions)
    network.security_groups[name] = group
    return group


# --- identity and keys -----------------------------------------------------------------------


def ecs_tasks_trust(account_id: str | None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def role(
    seeder: Seeder,
    name: str,
    *,
    trust: str,
    description: str,
    managed: Sequence[str] = (),
    inline: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Mapping[str, str] | None = None,
    path: str = "/",
) -> str:
    iam = seeder.client("iam")
    arn = iam.create_role(
        RoleName=name, Path=path, AssumeRolePolicyDocument=trust, Description=description,
        Tags=tags_list(tags or {}, key="Key", value="Value"),
    )["Role"]["Arn"]
    for policy in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    for policy_name, document in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    return arn


def policy(*statements: tuple[str | Sequence[str], str | Sequence[str]]) -> dict[str, Any]:
    """An Allow policy from (actions, resources) pairs."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(a) if not isinstance(a, str) else a, "Resource": r} for a, r in statements],
    }


@dataclass
class Identity:
    roles: dict[str, str] = field(default_factory=dict)
    kms: dict[str, str] = field(default_factory=dict)  # alias -> key ARN, per region "region/alias"


def seed_identity(seeder: Seeder) -> Identity:
    """IAM roles (global), the CI's OIDC provider and deploy role, a legacy IAM user."""
    iam = seeder.client("iam")
    acct = seeder.account_id
    ids = Identity()
    oidc = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )["OpenIDConnectProviderArn"]
    github_trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:example-corp/*:ref:refs/heads/main"},
                    },
                }
            ],
        }
    )
    ids.roles[CI_ROLE] = role(
        seeder, CI_ROLE, trust=github_trust, description="GitHub Actions: push images, deploy with ecspresso",
        inline={"deploy": policy((["ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:TagResource"], "*"),
                                 ("iam:PassRole", f"arn:aws:iam::{acct}:role/ecs/*"),
                                 (["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"], f"arn:aws:ecr:*:{acct}:repository/*"),
                                 ("ecr:GetAuthorizationToken", "*"))},
        tags={"ManagedBy": "terraform"},
    )
    account_trust = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}]}
    )
    ids.roles["terraform-apply"] = role(
        seeder, "terraform-apply", trust=account_trust, description="Terraform applies from the platform pipeline",
        managed=[ADMINISTRATOR_ACCESS], tags={"ManagedBy": "terraform"},
    )
    iam.create_user(UserName="j.doe", Tags=[{"Key": "Team", "Value": "reporting"}])
    # The role ecs-audit runs as: read-only, assumable from the security account's tooling.
    ids.roles[AUDIT_ROLE] = role(
        seeder, AUDIT_ROLE, trust=account_trust, description="ecs-audit: read-only ECS audit",
        managed=[READ_ONLY_ACCESS], tags={"ManagedBy": "terraform", "Purpose": "audit"},
    )

    trust = ecs_tasks_trust(acct)
    for service, secret_reads in (("web-api", ["secretsmanager:GetSecretValue"]), ("payments", ["secretsmanager:GetSecretValue", "ssm:GetParameters"]),
                                  ("search-api", ["secretsmanager:GetSecretValue"])):
        ids.roles[f"{service}-execution"] = role(
            seeder, f"{service}-execution", path="/ecs/", trust=trust, description=f"ECS task execution role of {service}",
            managed=[MANAGED_TASK_EXECUTION_POLICY],
            inline={"read-secrets": policy((secret_reads, [f"arn:aws:secretsmanager:us-east-1:{acct}:secret:prod/{service}/*",
                                                             f"arn:aws:ssm:us-east-1:{acct}:parameter/prod/{service}/*"]))},
            tags={"Environment": "prod", "Service": service},
        )
    # The reference's weak spot: the collector's writes are allowed on Resource "*".
    ids.roles["web-api-task"] = role(
        seeder, "web-api-task", path="/ecs/", trust=trust, description="Task role of web-api (app and ADOT collector)",
        inline={"telemetry": policy((["xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData",
                                      "logs:PutLogEvents", "logs:CreateLogStream"], "*")),
                "exec": policy((["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                                 "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], "*")),
                "uploads": policy((["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::example-corp-web-api-uploads/*"))},
        tags={"Environment": "prod", "Service": "web-api"},
    )
    ids.roles["payments-task"] = role(
        seeder, "payments-task", path="/ecs/", trust=trust, description="Task role of payments",
        inline={"telemetry": policy((["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")),
                "queue": policy((["sqs:SendMessage"], f"arn:aws:sqs:us-east-1:{acct}:payments-settlement"))},
        tags={"Environment": "prod", "Service": "payments"},
    )
    # search-api: its staging service reuses these roles (one team, one set of roles).
    ids.roles["search-api-task"] = role(
        seeder, "search-api-task", path="/ecs/", trust=trust, description="Task role of search-api",
        inline={"index": policy((["es:ESHttpGet", "es:ESHttpPost"], f"arn:aws:es:us-east-1:{acct}:domain/search-*/*"))},
        tags={"Environment": "prod", "Service": "search-api"},
    )
    ids.roles["image-resizer-execution"] = role(
        seeder, "image-resizer-execution", path="/ecs/", trust=trust, description="ECS task execution role of image-resizer",
        managed=[MANAGED_TASK_EXECUTION_POLICY], tags={"Environment": "prod", "Service": "image-resizer"},
    )
    ids.roles["image-resizer-task"] = role(
        seeder, "image-resizer-task", path="/ecs/", trust=trust, description="Task role of image-resizer",
        inline={"media": policy((["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::example-corp-media-eu/*"))},
        tags={"Environment": "prod", "Service": "image-resizer"},
    )
    service_trust = lambda principal: json.dumps(  # noqa: E731
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}
    )
    ids.roles["ecsCodeDeployRole"] = role(
        seeder, "ecsCodeDeployRole", trust=service_trust("codedeploy.amazonaws.com"), description="CodeDeploy blue/green for ECS",
        managed=[CODEDEPLOY_ECS_POLICY], tags={"ManagedBy": "terraform"},
    )
    ids.roles["vpc-flow-logs"] = role(
        seeder, "vpc-flow-logs", trust=service_trust("vpc-flow-logs.amazonaws.com"), description="VPC flow logs to CloudWatch Logs",
        inline={"deliver": policy((["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], f"arn:aws:logs:*:{acct}:log-group:/vpc/*"))},
        tags={"ManagedBy": "terraform"},
    )
    # Legacy: the classic console-made roles, no source-account condition, one of them admin.
    legacy_trust = ecs_tasks_trust(None)
    ids.roles["ecsTaskExecutionRole"] = role(
        seeder, "ecsTaskExecutionRole", trust=legacy_trust, description="Allows ECS tasks to call AWS services on your behalf.",
        managed=[MANAGED_TASK_EXECUTION_POLICY],
    )
    ids.roles["legacy-ecs-admin"] = role(
        seeder, "legacy-ecs-admin", trust=legacy_trust, description="reporting: task + execution (temporary, 2024)",
        managed=[ADMINISTRATOR_ACCESS],
    )
    ids.roles["legacy-api-task"] = role(
        seeder, "legacy-api-task", trust=legacy_trust, description="legacy-api task role",
        inline={"s3": policy(("s3:*", "*"))},
    )
    ids.roles["ecsInstanceRole"] = role(seeder, "ecsInstanceRole", trust=service_trust("ec2.amazonaws.com"), description="ECS container instances", managed=[ECS_INSTANCE_POLICY])
    iam.create_instance_profile(InstanceProfileName="ecsInstanceRole")
    iam.add_role_to_instance_profile(InstanceProfileName="ecsInstanceRole", RoleName="ecsInstanceRole")
    return ids


def kms_key(seeder: Seeder, region: str, alias: str, description: str, ids: Identity) -> str:
    kms = seeder.client("kms", region)
    key = kms.create_key(Description=description, Tags=[{"TagKey": "ManagedBy", "TagValue": "terraform"}])["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key)
    ids.kms[f"{region}/{alias}"] = key
    return key


# --- registry --------------------------------------------------------------------------------


def ecr_repository(
    seeder: Seeder,
    region: str,
    name: str,
    *,
    immutable: bool,
    scan_on_push: bool,
    kms_key_arn: str | None = None,
    keep_images: int | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    ecr = seeder.client("ecr", region)
    kwargs: dict[str, Any] = {
        "repositoryName": name,
        "imageTagMutability": "IMMUTABLE" if immutable else "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": scan_on_push},
        "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": kms_key_arn} if kms_key_arn else {"encryptionType": "AES256"},
        "tags": tags_list(tags or {}, key="Key", value="Value"),
    }
    uri = ecr.create_repository(**kwargs)["repository"]["repositoryUri"]
    if keep_images:
        ecr.put_lifecycle_policy(
            repositoryName=name,
            lifecyclePolicyText=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"keep the last {keep_images} images",
                            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
    return uri


def push_image(seeder: Seeder, region: str, repository: str, tag: str, *, size_mib: int) -> str:
    """Put an image manifest (Docker v2 schema 2) into a repository; returns its digest."""
    layers = []
    remaining = size_mib * 1024 * 1024
    for index in range(4):
        size = remaining // (4 - index)
        remaining -= size
        layers.append(
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size, "digest": _digest(repository, tag, f"layer{index}")}
        )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": _digest(repository, tag, "config")},
        "layers": layers,
    }
    response = seeder.client("ecr", region).put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag,
        imageManifestMediaType=manifest["mediaType"],
    )
    return response["image"]["imageId"]["imageDigest"]


def scan_result(seeder: Seeder, region: str, repository: str, tag: str, digest: str, severities: Mapping[str, int], findings: Sequence[Mapping[str, Any]] = ()) -> None:
    """A completed basic scan with the given findings (moto does not scan on push: MOTO-NOTES 2b)."""
    seeder.client("ecr", region).start_image_scan(repositoryName=repository, imageId={"imageTag": tag})
    seeder.moto_post(
        "/moto-api/static/ecr/scan-finding-results",
        json={
            "results": [
                {
                    "registryId": seeder.account_id,
                    "repositoryName": repository,
                    "imageId": {"imageTag": tag, "imageDigest": digest},
                    "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
                    "imageScanFindings": {"findingSeverityCounts": dict(severities), "findings": list(findings)},
                }
            ],
            "region": region,
            "account_id": seeder.account_id,
        },
    )


# --- logs, secrets -----------------------------------------------------------------------------


def log_group(seeder: Seeder, region: str, name: str, *, retention_days: int | None, kms_key_arn: str | None = None, tags: Mapping[str, str] | None = None) -> None:
    logs = seeder.client("logs", region)
    kwargs: dict[str, Any] = {"logGroupName": name, "tags": dict(tags or {})}
    if kms_key_arn:
        kwargs["kmsKeyId"] = kms_key_arn
    logs.create_log_group(**kwargs)
    if retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)


def awslogs(group: str, region: str, prefix: str, *, mode: str | None = "non-blocking") -> dict[str, Any]:
    """An awslogs configuration; `mode` None leaves the delivery mode to the account default."""
    options = {"awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": prefix}
    if mode == "non-blocking":
        options |= {"mode": "non-blocking", "max-buffer-size": "25m"}
    elif mode:
        options["mode"] = mode
    return {"logDriver": "awslogs", "options": options}


# --- ECS ---------------------------------------------------------------------------------------


def register(seeder: Seeder, region: str, *, tags: Mapping[str, str] | None = None, **definition: Any) -> str:
    response = seeder.client("ecs", region).register_task_definition(tags=tags_list(tags or {}), **definition)
    return response["taskDefinition"]["taskDefinitionArn"]


def create_service(
    seeder: Seeder,
    region: str,
    *,
    cluster: str,
    name: str,
    task_definition: str,
    desired: int,
    running: int | None = None,
    launch_type: str = "FARGATE",
    platform_version: str | None = None,
    subnets: Sequence[str] = (),
    security_groups: Sequence[str] = (),
    public_ip: bool = False,
    controller: str = "ECS",
    load_balancers: Sequence[Mapping[str, Any]] = (),
    service_registries: Sequence[Mapping[str, Any]] = (),
    tags: Mapping[str, str] | None = None,
    propagate_tags: str | None = None,
    update: Mapping[str, Any] | None = None,
) -> str:
    """create_service, then update_service with the fields moto's create_service drops (MOTO-NOTES 2c).

    `running` (default: desired) is the service's runningCount; the first deployment is COMPLETED when
    it reaches `desired`."""
    ecs = seeder.client("ecs", region)
    kwargs: dict[str, Any] = {
        "cluster": cluster,
        "serviceName": name,
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "launchType": launch_type,
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": controller},
        "tags": tags_list(tags or {}),
    }
    if platform_version:
        kwargs["platformVersion"] = platform_version
    if subnets:
        kwargs["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(subnets),
                "securityGroups": list(security_groups),
                "assignPublicIp": "ENABLED" if public_ip else "DISABLED",
            }
        }
    if load_balancers:
        kwargs["loadBalancers"] = [dict(lb) for lb in load_balancers]
    if service_registries:
        kwargs["serviceRegistries"] = [dict(r) for r in service_registries]
    if propagate_tags:
        kwargs["propagateTags"] = propagate_tags
    with moto_service_running(desired if running is None else running):
        arn = ecs.create_service(**kwargs)["service"]["serviceArn"]
    if update:
        ecs.update_service(cluster=cluster, service=name, **update)
    return arn


def start_service_tasks(
    seeder: Seeder,
    region: str,
    *,
    cluster: str,
    service: str,
    count: int,
    launch_type: str = "FARGATE",
    platform_version: str | None = None,
    subnets: Sequence[str] = (),
    security_groups: Sequence[str] = (),
    public_ip: bool = False,
) -> list[str]:
    """Tasks as the service scheduler would start them (moto's services never start tasks): group
    `service:<name>`, startedBy the deployment id, spread round-robin over the subnets."""
    ecs = seeder.client("ecs", region)
    described = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    if described.get("deployments"):
        deployment = described["deployments"][0]["id"]
    else:  # CODE_DEPLOY: the task set CodeDeploy created (moto creates none), by a stable id
        deployment = "ecs-svc/" + str(int(hashlib.sha256(described["serviceArn"].encode()).hexdigest(), 16) % 10**19)
    arns = []
    for index in range(count):
        kwargs: dict[str, Any] = {
            "cluster": cluster,
            "taskDefinition": described["taskDefinition"],
            "launchType": launch_type,
            "group": f"service:{service}",
            "startedBy": deployment,
            "count": 1,
        }
        if platform_version:
            kwargs["platformVersion"] = platform_version
        if subnets:
            kwargs["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": [subnets[index % len(subnets)]],
                    "securityGroups": list(security_groups),  # the key must exist for moto (MOTO-NOTES 2d)
                    "assignPublicIp": "ENABLED" if public_ip else "DISABLED",
                }
            }
        arns.extend(t["taskArn"] for t in ecs.run_task(**kwargs)["tasks"])
    return arns


def register_container_instance(seeder: Seeder, region: str, *, cluster: str, instance: Mapping[str, Any], backstory: Backstory) -> str:
    """What the ECS agent does when an instance boots: register it, with its identity document."""
    document = {
        "accountId": seeder.account_id, "architecture": instance.get("Architecture", "x86_64"),
        "availabilityZone": instance["Placement"]["AvailabilityZone"], "imageId": instance["ImageId"],
        "instanceId": instance["InstanceId"], "instanceType": instance["InstanceType"], "privateIp": instance.get("PrivateIpAddress"),
        "region": region, "version": "2017-09-30",
    }
    return seeder.client("ecs", region).register_container_instance(
        cluster=cluster, instanceIdentityDocument=json.dumps(document),
        versionInfo={"agentVersion": backstory.ecs_agent_version, "agentHash": hashlib.sha1(backstory.ecs_agent_version.encode()).hexdigest()[:8],
                     "dockerVersion": backstory.docker_version},
    )["containerInstance"]["containerInstanceArn"]


def service_auto_scaling(
    seeder: Seeder, region: str, *, cluster: str, service: str, minimum: int, maximum: int, targets: Sequence[tuple[str, float]]
) -> None:
    """A scalable target on the service's desired count, with target tracking on CPU and/or memory."""
    aas = seeder.client("application-autoscaling", region)
    resource = f"service/{cluster}/{service}"
    aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount",
                                 MinCapacity=minimum, MaxCapacity=maximum)
    for metric, value in targets:
        aas.put_scaling_policy(
            PolicyName=f"{service}-{metric.lower()}-target-tracking", ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": value,
                "PredefinedMetricSpecification": {"PredefinedMetricType": f"ECSServiceAverage{metric}Utilization"},
                "ScaleOutCooldown": 60, "ScaleInCooldown": 300,
            },
        )


def rolling_update(*, circuit_breaker: bool, minimum: int = 100, maximum: int = 200, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"maximumPercent": maximum, "minimumHealthyPercent": minimum}
    if circuit_breaker:
        config["deploymentCircuitBreaker"] = {"enable": True, "rollback": True}
    return {"deploymentConfiguration": config, **extra}


# --- monitoring ------------------------------------------------------------------------------


def _daily_shape(hour: int) -> float:
    """0 at night, 1 at the afternoon peak (UTC 14:00)."""
    if 6 <= hour <= 22:
        return math.sin(math.pi * (hour - 6) / 16) ** 2
    return 0.0


def container_insights_metrics(
    seeder: Seeder,
    region: str,
    *,
    cluster: str,
    service: str,
    task_cpu: int,
    task_memory: int,
    tasks: int,
    use: Utilisation,
    now: datetime,
    days: int = 3,
) -> None:
    """Hourly Container Insights service metrics (what ECS publishes when Container Insights is on):
    CpuUtilized/CpuReserved and MemoryUtilized/MemoryReserved by ClusterName and ServiceName.

    Three days by default (enhanced observability was switched on recently): moto's GetMetricData
    scans every datapoint of the region for every period of every query, so two weeks of hourly data
    for a few services costs more than a second per audit."""
    dimensions = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]
    cpu_reserved, memory_reserved = float(task_cpu * tasks), float(task_memory * tasks)
    data: list[dict[str, Any]] = []
    for hours_ago in range(1, days * 24 + 1):
        at = now - timedelta(hours=hours_ago)
        shape = _daily_shape(at.hour)
        for name, reserved, (typical, peak) in (("Cpu", cpu_reserved, use.cpu), ("Memory", memory_reserved, use.memory)):
            average = reserved * (typical + (peak - typical) * shape * 0.92)
            high = min(reserved * peak, average * 1.08)
            for metric, value, low, top in ((f"{name}Utilized", average, average * 0.85, high), (f"{name}Reserved", reserved, reserved, reserved)):
                data.append({
                    "MetricName": metric, "Dimensions": dimensions, "Timestamp": at,
                    "Unit": "None" if name == "Cpu" else "Megabytes",
                    "StatisticValues": {"SampleCount": 60.0, "Sum": round(value * 60, 3), "Minimum": round(low, 3), "Maximum": round(top, 3)},
                })
    cloudwatch = seeder.client("cloudwatch", region)
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace="ECS/ContainerInsights", MetricData=data[start : start + 1000])


def alarm(
    seeder: Seeder,
    region: str,
    name: str,
    *,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    threshold: float,
    actions: Sequence[str],
    statistic: str = "Average",
    periods: int = 3,
    description: str = "",
) -> None:
    seeder.client("cloudwatch", region).put_metric_alarm(
        AlarmName=name, AlarmDescription=description, Namespace=namespace, MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()], Statistic=statistic, Period=60,
        EvaluationPeriods=periods, DatapointsToAlarm=periods, Threshold=threshold, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching", AlarmActions=list(actions), OKActions=list(actions),
    )


def _lb_dimension(arn: str) -> str:
    """The CloudWatch dimension of a load balancer or target group ARN (app/name/id, targetgroup/name/id)."""
    return arn.split(":", 5)[5].split("/", 1)[1] if ":loadbalancer/" in arn else arn.split(":", 5)[5]


# --- the demo account ------------------------------------------------------------------------


@dataclass
class DemoEstate:
    """Handles to what was seeded, for tests to assert against."""

    account_id: str
    networks: dict[str, Network] = field(default_factory=dict)
    identity: Identity = field(default_factory=Identity)
    clusters: dict[str, str] = field(default_factory=dict)  # "region/name" -> ARN
    services: dict[str, str] = field(default_factory=dict)  # "cluster/name" -> ARN
    task_definitions: dict[str, str] = field(default_factory=dict)  # "family:rev" -> ARN
    tasks: dict[str, list[str]] = field(default_factory=dict)  # "cluster/service" or "cluster/family" -> ARNs
    images: dict[str, str] = field(default_factory=dict)  # image reference -> digest
    target_groups: dict[str, str] = field(default_factory=dict)
    load_balancers: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    backstory: Backstory = field(default_factory=Backstory)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0))

    def subnet_az(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for network in self.networks.values():
            out.update(network.subnet_az())
        return out


def seed_estate(
    session: boto3.Session,
    *,
    endpoint_url: str | None = None,
    regions: Sequence[str] = DEMO_REGIONS,
    backstory: Backstory = DEMO_BACKSTORY,
    now: datetime | None = None,
) -> DemoEstate:
    """Seed the whole demo account. `endpoint_url` targets a moto server instead of the in-process mock."""
    seeder = Seeder(session, endpoint_url=endpoint_url)
    prepare_moto(seeder)
    estate = DemoEstate(account_id=seeder.account_id, backstory=backstory,
                        now=now or datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0))
    estate.identity = seed_identity(seeder)
    if HOME_REGION in regions:
        seed_home_region(seeder, estate)
    if SECOND_REGION in regions:
        seed_second_region(seeder, estate)
    if DR_REGION in regions:
        seed_dr_region(seeder, estate)
    return estate


def seed_home_region(seeder: Seeder, estate: DemoEstate) -> None:
    region = HOME_REGION
    ids = estate.identity
    prod_key = kms_key(seeder, region, "prod-ecs", "ECS Exec sessions, Fargate ephemeral storage and logs (prod)", ids)
    ecr_key = kms_key(seeder, region, "ecr", "ECR repositories", ids)
    net = seed_network(seeder, region, name="prod", cidr_prefix="10.20", azs=("us-east-1a", "us-east-1b", "us-east-1c"))
    estate.networks[region] = net
    security_group(seeder, net, "prod-web-alb", "public ALB", cidr_ingress=[(80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0"), (443, 443, "::/0")])
    security_group(seeder, net, "web-api-tasks", "web-api tasks: only the ALB on 8080", group_ingress=[(8080, 8080, "prod-web-alb")])
    security_group(seeder, net, "prod-internal-alb", "internal ALB: web-api tasks only", group_ingress=[(80, 80, "web-api-tasks")])
    security_group(seeder, net, "payments-tasks", "payments tasks: only the internal ALB on 8080", group_ingress=[(8080, 8080, "prod-internal-alb")])
    security_group(seeder, net, "batch-tasks", "batch tasks: egress only")
    security_group(seeder, net, "legacy-api", "legacy-api (opened for the partner test, 2024)", cidr_ingress=[(8080, 8080, "0.0.0.0/0"), (22, 22, "0.0.0.0/0")])
    security_group(seeder, net, "legacy-ecs-instances", "legacy container instances", cidr_ingress=[(0, 65535, "10.20.0.0/16")])

    # Registry: the reference's repositories (immutable, KMS, scan on push, keep two images), the other
    # teams' made the same way, and the legacy ones (mutable, AES256, no scanning, no lifecycle policy).
    host = seeder.ecr_host(region)
    for name, keep in (("web-api", 2), ("payments", 2), ("invoice-export", 5), ("search-api", 10)):
        ecr_repository(seeder, region, name, immutable=True, scan_on_push=True, kms_key_arn=ecr_key, keep_images=keep,
                       tags={"Environment": "prod", "ManagedBy": "terraform"})
    for name in ("legacy/reporting", "legacy/legacy-api", "legacy/nightly-export"):
        ecr_repository(seeder, region, name, immutable=False, scan_on_push=False)
    images = {
        ("web-api", WEB_API_PREVIOUS_SHA): 96, ("web-api", WEB_API_CURRENT_SHA): 98,
        ("payments", PAYMENTS_PREVIOUS_SHA): 141, ("payments", PAYMENTS_CURRENT_SHA): 143,
        ("invoice-export", "2026.11.0"): 210,
        ("search-api", SEARCH_API_SHA): 412, ("search-api", SEARCH_API_RC_SHA): 415,
        ("legacy/reporting", "latest"): 1480, ("legacy/legacy-api", "latest"): 690,
        ("legacy/nightly-export", "1.8.0"): 320, ("legacy/nightly-export", "1.9.0"): 325,
    }
    for (repo, tag), size in images.items():
        estate.images[f"{host}/{repo}:{tag}"] = push_image(seeder, region, repo, tag, size_mib=size)
    for repo, tag in (("web-api", WEB_API_CURRENT_SHA), ("payments", PAYMENTS_CURRENT_SHA), ("search-api", SEARCH_API_SHA), ("search-api", SEARCH_API_RC_SHA)):
        scan_result(seeder, region, repo, tag, estate.images[f"{host}/{repo}:{tag}"], {"LOW": 2, "INFORMATIONAL": 3})
    scan_result(
        seeder, region, "legacy/reporting", "latest", estate.images[f"{host}/legacy/reporting:latest"], {"CRITICAL": 3, "HIGH": 11, "MEDIUM": 24},
        [{"name": "CVE-2024-6387", "severity": "CRITICAL", "description": "regreSSHion: OpenSSH signal handler race condition",
          "uri": "https://nvd.nist.gov/vuln/detail/CVE-2024-6387", "attributes": [{"key": "package_name", "value": "openssh"}]}],
    )
    # Opened "for the partner's nightly pull" in 2023, to everyone: no principal, no condition.
    seeder.client("ecr", region).set_repository_policy(
        repositoryName="legacy/reporting",
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "PartnerPull", "Effect": "Allow", "Principal": "*",
            "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability"],
        }]}),
    )

    # Logs: 30-day retention for prod (KMS), none for legacy.
    for name, retention in (("/ecs/prod/web-api", 30), ("/ecs/prod/payments", 90), ("/ecs/batch/invoice-export", 30),
                            ("/aws/ecs/exec/prod", 365), ("/aws/ecs/containerinsights/prod/performance", 1)):
        log_group(seeder, region, name, retention_days=retention, kms_key_arn=prod_key, tags={"Environment": "prod"})
    log_group(seeder, region, "/ecs/legacy/legacy-api", retention_days=None)
    log_group(seeder, region, "/ecs/legacy/nightly-export", retention_days=None)

    # Secrets.
    sm = seeder.client("secretsmanager", region)
    for name in ("prod/web-api/database-url", "prod/payments/database"):
        estate.secrets[name] = sm.create_secret(Name=name, KmsKeyId=prod_key, SecretString="{\"engine\":\"postgres\"}",
                                                Tags=[{"Key": "Environment", "Value": "prod"}])["ARN"]
    ssm = seeder.client("ssm", region)
    ssm.put_parameter(Name="/prod/payments/stripe-api-key", Type="SecureString", KeyId=prod_key, Value="sk_live_placeholder")
    ssm.put_parameter(Name="/legacy/nightly-export/api-token", Type="String", Value="placeholder")
    estate.secrets["/prod/payments/stripe-api-key"] = seeder.arn("ssm", region, "parameter/prod/payments/stripe-api-key")
    estate.secrets["/legacy/nightly-export/api-token"] = seeder.arn("ssm", region, "parameter/legacy/nightly-export/api-token")

    # Load balancers: the public ALB in front of web-api (blue/green target groups, fast health checks,
    # 15 s draining, invalid headers dropped; weak spot: plain HTTP), and an internal ALB for payments.
    elbv2 = seeder.client("elbv2", region)
    alb = elbv2.create_load_balancer(
        Name="prod-web", Subnets=net.public_subnets, SecurityGroups=[net.security_groups["prod-web-alb"]],
        Scheme="internet-facing", Type="application", IpAddressType="ipv4",
        Tags=[{"Key": "Environment", "Value": "prod"}, {"Key": "ManagedBy", "Value": "terraform"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=alb, Attributes=[{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}])
    internal = elbv2.create_load_balancer(
        Name="prod-internal", Subnets=net.private_subnets, SecurityGroups=[net.security_groups["prod-internal-alb"]],
        Scheme="internal", Type="application", Tags=[{"Key": "Environment", "Value": "prod"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    estate.load_balancers.update({"prod-web": alb, "prod-internal": internal})
    for name, path in (("web-api-blue", "/healthz"), ("web-api-green", "/healthz"), ("payments", "/health")):
        tg = elbv2.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=net.vpc_id, TargetType="ip", HealthCheckProtocol="HTTP",
            HealthCheckPath=path, HealthCheckIntervalSeconds=6, HealthCheckTimeoutSeconds=5, HealthyThresholdCount=2,
            UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "15"}])
        estate.target_groups[name] = tg
    elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": estate.target_groups["web-api-blue"]}])
    elbv2.create_listener(LoadBalancerArn=internal, Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": estate.target_groups["payments"]}])

    # Cloud Map namespace for service-to-service discovery.
    sd = seeder.client("servicediscovery", region)
    sd.create_private_dns_namespace(Name="prod.internal", Vpc=net.vpc_id, Description="prod service discovery")
    namespace = next(n["Id"] for n in sd.list_namespaces()["Namespaces"] if n["Name"] == "prod.internal")
    payments_registry = sd.create_service(
        Name="payments", NamespaceId=namespace,
        DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
        HealthCheckCustomConfig={"FailureThreshold": 1},
    )["Service"]["Arn"]

    # GuardDuty with ECS runtime monitoring, the agent managed on Fargate and on the container instances.
    seeder.client("guardduty", region).create_detector(
        Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES",
        Features=[{"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
                   "AdditionalConfiguration": [{"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"},
                                               {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]}],
        Tags={"ManagedBy": "terraform"},
    )

    # Amazon Inspector scans the (legacy) EC2 instances; ECR keeps basic scanning (the reference's weak
    # spot: no continuous rescans of images already pushed).
    seeder.client("inspector2", region).enable(accountIds=[seeder.account_id], resourceTypes=["EC2"])

    seed_prod_cluster(seeder, estate, prod_key=prod_key, payments_registry=payments_registry)
    seed_legacy_cluster(seeder, estate)
    seed_batch_clusters(seeder, estate)
    seed_search_cluster(seeder, estate, prod_key=prod_key)


def seed_prod_cluster(seeder: Seeder, estate: DemoEstate, *, prod_key: str, payments_registry: str) -> None:
    region = HOME_REGION
    net = estate.networks[region]
    roles = estate.identity.roles
    host = seeder.ecr_host(region)
    ecs = seeder.client("ecs", region)
    estate.clusters[f"{region}/prod"] = ecs.create_cluster(
        clusterName="prod",
        settings=[{"name": "containerInsights", "value": "enhanced"}],
        configuration={
            "executeCommandConfiguration": {
                "kmsKeyId": prod_key,
                "logging": "OVERRIDE",
                "logConfiguration": {"cloudWatchLogGroupName": "/aws/ecs/exec/prod", "cloudWatchEncryptionEnabled": True},
            },
            "managedStorageConfiguration": {"fargateEphemeralStorageKmsKeyId": prod_key},
        },
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        tags=tags_list({"Environment": "prod", "IaC": "terraform", "Team": "platform"}),
    )["cluster"]["clusterArn"]

    # web-api: the reference service. Revisions 1 (deregistered), 2 (the rollback target) and 3 (live).
    def web_api(sha: str) -> dict[str, Any]:
        return dict(
            family="web-api",
            taskRoleArn=roles["web-api-task"],
            executionRoleArn=roles["web-api-execution"],
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "app",
                    "image": f"{host}/web-api:{sha}",
                    "cpu": 192,
                    "memoryReservation": 256,
                    "essential": True,
                    "readonlyRootFilesystem": True,
                    "portMappings": [{"name": "http", "containerPort": 8080, "protocol": "tcp", "appProtocol": "http"}],
                    "environment": [
                        {"name": "APP_ENV", "value": "prod"},
                        {"name": "PORT", "value": "8080"},
                        {"name": "OTEL_SERVICE_NAME", "value": "web-api"},
                        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://localhost:4317"},
                    ],
                    "secrets": [{"name": "DATABASE_URL", "valueFrom": estate.secrets["prod/web-api/database-url"]}],
                    "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
                    "healthCheck": {
                        "command": ["CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1"],
                        "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 15,
                    },
                    "logConfiguration": awslogs("/ecs/prod/web-api", region, "app"),
                    "dependsOn": [{"containerName": "aws-otel-collector", "condition": "START"}],
                    "stopTimeout": 10,
                },
                {
                    "name": "aws-otel-collector",
                    "image": ADOT_IMAGE,
                    "cpu": 64,
                    "memory": 256,
                    "essential": True,
                    "command": ["--config=/etc/ecs/ecs-default-config.yaml"],
                    "logConfiguration": awslogs("/ecs/prod/web-api", region, "otel"),
                },
            ],
            volumes=[{"name": "tmp"}],
        )

    for revision, sha in ((1, WEB_API_OLD_SHA), (2, WEB_API_PREVIOUS_SHA), (3, WEB_API_CURRENT_SHA)):
        estate.task_definitions[f"web-api:{revision}"] = register(
            seeder, region, **web_api(sha),
            tags={"Environment": "prod", "Service": "web-api", "Version": sha[:12], "ManagedBy": "ecspresso"},
        )
    ecs.deregister_task_definition(taskDefinition="web-api:1")
    estate.services["prod/web-api"] = create_service(
        seeder, region, cluster="prod", name="web-api", task_definition="web-api:3", desired=3,
        platform_version="LATEST", subnets=net.private_subnets, security_groups=[net.security_groups["web-api-tasks"]],
        load_balancers=[{"targetGroupArn": estate.target_groups["web-api-blue"], "containerName": "app", "containerPort": 8080}],
        tags={"Environment": "prod", "IaC": "ecspresso", "Team": "platform"}, propagate_tags="TASK_DEFINITION",
        update=rolling_update(circuit_breaker=True, enableExecuteCommand=True, healthCheckGracePeriodSeconds=15,
                              enableECSManagedTags=True, availabilityZoneRebalancing="ENABLED"),
    )
    estate.tasks["prod/web-api"] = start_service_tasks(
        seeder, region, cluster="prod", service="web-api", count=3, platform_version="1.4.0",
        subnets=net.private_subnets, security_groups=[net.security_groups["web-api-tasks"]],
    )

    # payments: also well run; Cloud Map, secrets injected from Secrets Manager and SecureString.
    def payments(sha: str) -> dict[str, Any]:
        return dict(
            family="payments",
            taskRoleArn=roles["payments-task"],
            executionRoleArn=roles["payments-execution"],
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            cpu="512",
            memory="1024",
            containerDefinitions=[
                {
                    "name": "app",
                    "image": f"{host}/payments:{sha}",
                    "cpu": 448,
                    "memoryReservation": 640,
                    "memory": 768,
                    "essential": True,
                    "user": "10001:10001",
                    "readonlyRootFilesystem": True,
                    "portMappings": [{"name": "http", "containerPort": 8080, "protocol": "tcp", "appProtocol": "http"}],
                    "environment": [{"name": "PAYMENTS_MODE", "value": "live"}, {"name": "PORT", "value": "8080"},
                                    {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://localhost:4317"}],
                    "secrets": [
                        {"name": "DB_PASSWORD", "valueFrom": f"{estate.secrets['prod/payments/database']}:password::"},
                        {"name": "STRIPE_API_KEY", "valueFrom": estate.secrets["/prod/payments/stripe-api-key"]},
                    ],
                    "healthCheck": {"command": ["CMD", "/app/healthcheck"], "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 30},
                    "logConfiguration": awslogs("/ecs/prod/payments", region, "app"),
                    "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
                    "stopTimeout": 30,
                },
                {
                    "name": "aws-otel-collector",
                    "image": ADOT_IMAGE,
                    "cpu": 64,
                    "memory": 256,
                    "essential": False,
                    "readonlyRootFilesystem": True,
                    "command": ["--config=/etc/ecs/ecs-default-config.yaml"],
                    "logConfiguration": awslogs("/ecs/prod/payments", region, "otel"),
                },
            ],
        )

    for revision, sha in ((1, PAYMENTS_PREVIOUS_SHA), (2, PAYMENTS_CURRENT_SHA)):
        estate.task_definitions[f"payments:{revision}"] = register(
            seeder, region, **payments(sha),
            tags={"Environment": "prod", "Service": "payments", "Version": sha[:12], "ManagedBy": "ecspresso"},
        )
    estate.services["prod/payments"] = create_service(
        seeder, region, cluster="prod", name="payments", task_definition="payments:2", desired=2,
        platform_version="1.4.0", subnets=net.private_subnets, security_groups=[net.security_groups["payments-tasks"]],
        load_balancers=[{"targetGroupArn": estate.target_groups["payments"], "containerName": "app", "containerPort": 8080}],
        service_registries=[{"registryArn": payments_registry}],
        tags={"Environment": "prod", "IaC": "ecspresso", "Team": "payments"}, propagate_tags="SERVICE",
        update=rolling_update(circuit_breaker=True, enableExecuteCommand=False, healthCheckGracePeriodSeconds=30,
                              enableECSManagedTags=True, availabilityZoneRebalancing="ENABLED"),
    )
    estate.tasks["prod/payments"] = start_service_tasks(
        seeder, region, cluster="prod", service="payments", count=2, platform_version="1.4.0",
        subnets=net.private_subnets[:2], security_groups=[net.security_groups["payments-tasks"]],
    )

    # Service auto scaling: target tracking on CPU and memory at 60 %.
    for service, low, high, targets in (("web-api", 3, 12, (("CPU", 60.0), ("Memory", 60.0))), ("payments", 2, 6, (("CPU", 50.0),))):
        service_auto_scaling(seeder, region, cluster="prod", service=service, minimum=low, maximum=high, targets=targets)

    # Monitoring: Container Insights data for both services; alarms that page the on-call rotation on
    # web-api's CPU and 5xx rate and on payments' memory.
    for service, cpu, memory, tasks in (("web-api", 256, 512, 3), ("payments", 512, 1024, 2)):
        container_insights_metrics(seeder, region, cluster="prod", service=service, task_cpu=cpu, task_memory=memory, tasks=tasks,
                                   use=estate.backstory.utilisation_of("prod", service), now=estate.now)
    oncall = seeder.client("sns", region).create_topic(Name="prod-oncall", Tags=[{"Key": "Environment", "Value": "prod"}])["TopicArn"]
    alarm(seeder, region, "prod-web-api-cpu-high", namespace="AWS/ECS", metric="CPUUtilization",
          dimensions={"ClusterName": "prod", "ServiceName": "web-api"}, threshold=85, actions=[oncall],
          description="web-api CPU above 85 % for 3 minutes")
    alarm(seeder, region, "prod-web-api-5xx", namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count", statistic="Sum",
          dimensions={"LoadBalancer": _lb_dimension(estate.load_balancers["prod-web"]),
                      "TargetGroup": _lb_dimension(estate.target_groups["web-api-blue"])},
          threshold=25, actions=[oncall], description="web-api answers 5xx")
    alarm(seeder, region, "prod-payments-memory-high", namespace="ECS/ContainerInsights", metric="MemoryUtilized", statistic="Maximum",
          dimensions={"ClusterName": "prod", "ServiceName": "payments"}, threshold=900, actions=[oncall],
          description="payments memory above 900 MiB")


def seed_legacy_cluster(seeder: Seeder, estate: DemoEstate) -> None:
    region = HOME_REGION
    net = estate.networks[region]
    roles = estate.identity.roles
    host = seeder.ecr_host(region)
    ecs = seeder.client("ecs", region)
    ec2 = seeder.client("ec2", region)
    # Container Insights off, no tags, no capacity providers.
    estate.clusters[f"{region}/legacy"] = ecs.create_cluster(
        clusterName="legacy", settings=[{"name": "containerInsights", "value": "disabled"}]
    )["cluster"]["clusterArn"]

    # One hand-launched container instance (ECS-optimised AL2, in a public subnet).
    instance = ec2.run_instances(
        ImageId=ECS_OPTIMIZED_AMI, MinCount=1, MaxCount=1, InstanceType="m5.large", SubnetId=net.public_subnets[0],
        SecurityGroupIds=[net.security_groups["legacy-ecs-instances"]], IamInstanceProfile={"Name": "ecsInstanceRole"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "legacy-ecs-1"}]}],
    )["Instances"][0]
    register_container_instance(seeder, region, cluster="legacy", instance=instance, backstory=estate.backstory)

    # reporting: EC2, bridge mode, and most of the classic mistakes in one task definition.
    estate.task_definitions["reporting:1"] = register(
        seeder, region,
        family="reporting",
        taskRoleArn=roles["legacy-ecs-admin"],
        executionRoleArn=roles["legacy-ecs-admin"],
        networkMode="bridge",
        pidMode="host",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[
            {
                "name": "reporting",
                "image": f"{host}/legacy/reporting:latest",
                "cpu": 512,
                "memory": 1024,
                "essential": True,
                "privileged": True,
                # s3fs mounts the reports bucket: FUSE wants SYS_ADMIN, /dev/fuse and no AppArmor profile.
                "linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}, "devices": [{"hostPath": "/dev/fuse"}]},
                "dockerSecurityOptions": ["apparmor:unconfined"],
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
                "environment": [
                    {"name": "DB_HOST", "value": "reporting-db.cluster-cx1example.us-east-1.rds.amazonaws.com"},
                    {"name": "DB_USER", "value": "reporting"},
                    {"name": "DB_PASSWORD", "value": FAKE_DB_PASSWORD},
                    {"name": "REPORT_BUCKET_USER", "value": FAKE_ACCESS_KEY_ID},
                    {"name": "REPORT_BUCKET", "value": "example-corp-reports"},
                ],
                "mountPoints": [{"sourceVolume": "docker-socket", "containerPath": "/var/run/docker.sock"}],
            }
        ],
        volumes=[{"name": "docker-socket", "host": {"sourcePath": "/var/run/docker.sock"}}],
    )
    # Host port 8080 on a single instance: a new task cannot start beside the old one, so deployments
    # were made to stop it first (minimum 0 %, maximum 100 %). With no logs, people debug through ECS Exec.
    estate.services["legacy/reporting"] = create_service(
        seeder, region, cluster="legacy", name="reporting", task_definition="reporting:1", desired=1, launch_type="EC2",
        update=rolling_update(circuit_breaker=False, minimum=0, maximum=100, enableExecuteCommand=True),
    )
    estate.tasks["legacy/reporting"] = start_service_tasks(seeder, region, cluster="legacy", service="reporting", count=1, launch_type="EC2")

    # legacy-api: Fargate 1.3.0 with a public IP in one public subnet, EFS without transit encryption,
    # an App Mesh Envoy sidecar, a :latest image, no circuit breaker.
    efs = seeder.client("efs", region)
    file_system = efs.create_file_system(CreationToken="legacy-uploads", PerformanceMode="generalPurpose", Encrypted=False,
                                         Tags=[{"Key": "Name", "Value": "legacy-uploads"}])["FileSystemId"]
    efs.create_mount_target(FileSystemId=file_system, SubnetId=net.public_subnets[0], SecurityGroups=[net.security_groups["legacy-api"]])
    estate.task_definitions["legacy-api:1"] = register(
        seeder, region,
        family="legacy-api",
        taskRoleArn=roles["legacy-api-task"],
        executionRoleArn=roles["ecsTaskExecutionRole"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[
            {
                "name": "app",
                "image": f"{host}/legacy/legacy-api:latest",
                "cpu": 384,
                "memory": 768,
                "essential": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "SPRING_PROFILES_ACTIVE", "value": "prod"}, {"name": "JAVA_OPTS", "value": "-Xmx512m"}],
                "mountPoints": [{"sourceVolume": "uploads", "containerPath": "/data/uploads"}],
                "logConfiguration": awslogs("/ecs/legacy/legacy-api", region, "app", mode=None),
                "dependsOn": [{"containerName": "envoy", "condition": "HEALTHY"}],
            },
            {
                "name": "envoy",
                "image": APPMESH_ENVOY_IMAGE,
                "cpu": 128,
                "memory": 256,
                "essential": True,
                "user": "1337",
                "environment": [{"name": "APPMESH_RESOURCE_ARN",
                                 "value": f"arn:aws:appmesh:{region}:{seeder.account_id}:mesh/legacy-mesh/virtualNode/legacy-api-vn"}],
                "healthCheck": {"command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"],
                                "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10},
            },
        ],
        proxyConfiguration={
            "type": "APPMESH",
            "containerName": "envoy",
            "properties": [
                {"name": "IgnoredUID", "value": "1337"},
                {"name": "ProxyIngressPort", "value": "15000"},
                {"name": "ProxyEgressPort", "value": "15001"},
                {"name": "AppPorts", "value": "8080"},
                {"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"},
            ],
        },
        volumes=[{"name": "uploads", "efsVolumeConfiguration": {"fileSystemId": file_system, "rootDirectory": "/", "transitEncryption": "DISABLED"}}],
    )
    estate.services["legacy/legacy-api"] = create_service(
        seeder, region, cluster="legacy", name="legacy-api", task_definition="legacy-api:1", desired=1,
        platform_version="1.3.0", subnets=[net.public_subnets[0]], security_groups=[net.security_groups["legacy-api"]], public_ip=True,
    )
    estate.tasks["legacy/legacy-api"] = start_service_tasks(
        seeder, region, cluster="legacy", service="legacy-api", count=1, platform_version="1.3.0",
        subnets=[net.public_subnets[0]], security_groups=[net.security_groups["legacy-api"]], public_ip=True,
    )

    # nightly-export: parked at 0. Revision 1 carried an API token in plain text and was only
    # deregistered; revision 2 (deployed) reads it from a plain String parameter; revision 3 was
    # registered and never deployed.
    def nightly(tag: str, token: Mapping[str, str] | None) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": "export",
            "image": f"{host}/legacy/nightly-export:{tag}",
            "cpu": 256,
            "memory": 512,
            "essential": True,
            "environment": [{"name": "EXPORT_TARGET", "value": "s3://example-corp-exports/nightly/"}],
            # "Not one audit line may be lost": the delivery mode pinned to blocking.
            "logConfiguration": awslogs("/ecs/legacy/nightly-export", region, "export", mode="blocking"),
        }
        if token:
            container["environment"].append(dict(token))
        else:
            container["secrets"] = [{"name": "EXPORT_API_TOKEN", "valueFrom": estate.secrets["/legacy/nightly-export/api-token"]}]
        return dict(family="nightly-export", executionRoleArn=roles["ecsTaskExecutionRole"], networkMode="awsvpc",
                    requiresCompatibilities=["FARGATE"], cpu="256", memory="512", containerDefinitions=[container])

    estate.task_definitions["nightly-export:1"] = register(seeder, region, **nightly("1.8.0", {"name": "EXPORT_API_TOKEN", "value": FAKE_API_TOKEN}))
    estate.task_definitions["nightly-export:2"] = register(seeder, region, **nightly("1.8.0", None))
    estate.task_definitions["nightly-export:3"] = register(seeder, region, **nightly("1.9.0", None))
    ecs.deregister_task_definition(taskDefinition="nightly-export:1")
    estate.services["legacy/nightly-export"] = create_service(
        seeder, region, cluster="legacy", name="nightly-export", task_definition="nightly-export:2", desired=0,
        platform_version="LATEST", subnets=[net.private_subnets[0]], security_groups=[net.security_groups["batch-tasks"]],
    )


def seed_batch_clusters(seeder: Seeder, estate: DemoEstate) -> None:
    region = HOME_REGION
    net = estate.networks[region]
    roles = estate.identity.roles
    host = seeder.ecr_host(region)
    ecs = seeder.client("ecs", region)

    # An EC2 Auto Scaling capacity provider, scaled to zero between runs.
    autoscaling = seeder.client("autoscaling", region)
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="batch-ecs-al2023", ImageId=ECS_OPTIMIZED_AMI, InstanceType="c6i.xlarge", IamInstanceProfile="ecsInstanceRole",
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="batch-ecs", LaunchConfigurationName="batch-ecs-al2023", MinSize=0, MaxSize=6, DesiredCapacity=0,
        VPCZoneIdentifier=",".join(net.private_subnets), NewInstancesProtectedFromScaleIn=True,
        Tags=[{"Key": "AmazonECSManaged", "Value": "", "PropagateAtLaunch": True}],
    )
    asg_arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["batch-ecs"])["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    ecs.create_capacity_provider(
        name="batch-ec2",
        autoScalingGroupProvider={
            "autoScalingGroupArn": asg_arn,
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100, "minimumScalingStepSize": 1, "maximumScalingStepSize": 4},
            "managedTerminationProtection": "ENABLED",
            "managedDraining": "ENABLED",
        },
        tags=tags_list({"Environment": "prod"}),
    )
    estate.clusters[f"{region}/batch"] = ecs.create_cluster(
        clusterName="batch",
        settings=[{"name": "containerInsights", "value": "enabled"}],
        capacityProviders=["FARGATE", "FARGATE_SPOT", "batch-ec2"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        tags=tags_list({"Environment": "prod", "IaC": "terraform", "Team": "finance-eng"}),
    )["cluster"]["clusterArn"]
    estate.task_definitions["invoice-export:1"] = register(
        seeder, region,
        family="invoice-export",
        taskRoleArn=roles["payments-task"],
        executionRoleArn=roles["payments-execution"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="2048",
        containerDefinitions=[
            {
                "name": "export",
                "image": f"{host}/invoice-export:2026.11.0",
                "cpu": 1024,
                "memory": 2048,
                "essential": True,
                "readonlyRootFilesystem": True,
                "user": "10001",
                "environment": [{"name": "RUN_MODE", "value": "nightly"}],
                "logConfiguration": awslogs("/ecs/batch/invoice-export", region, "export"),
            }
        ],
        tags={"Environment": "prod", "Version": "2026.11.0"},
    )
    tasks = ecs.run_task(
        cluster="batch", taskDefinition="invoice-export:1", count=1, startedBy="events-rule/nightly-invoice-export",
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}], platformVersion="1.4.0",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [net.private_subnets[1]], "securityGroups": [net.security_groups["batch-tasks"]],
                                                      "assignPublicIp": "DISABLED"}},
        tags=tags_list({"Environment": "prod", "Trigger": "eventbridge"}),
    )["tasks"]
    estate.tasks["batch/invoice-export"] = [t["taskArn"] for t in tasks]

    # An idle cluster someone made for a spike and forgot.
    estate.clusters[f"{region}/sandbox"] = ecs.create_cluster(
        clusterName="sandbox", tags=tags_list({"Environment": "dev", "Owner": "j.doe"})
    )["cluster"]["clusterArn"]


def seed_search_cluster(seeder: Seeder, estate: DemoEstate, *, prod_key: str) -> None:
    """`search`: EC2 capacity the search team shares between `search-api` (prod) and
    `search-api-staging`, both deployed blue/green by CodeDeploy behind one internal ALB.

    search-api is run with care (EFS through an access point with IAM and TLS, rollback on failure and
    on its 5xx alarm, HTTPS only); the shortcuts are the team's: a capacity provider without managed
    scaling, a Packer-built golden AMI on one instance, the listener's security policy left at the
    2016 default, a FireLens router without a CPU share, CPU target tracking at 85 %. The staging
    service shows what is left behind: a hand-made deployment group that never rolls back, a secret
    deleted in a clean-up but still referenced, an EFS mount target in one of its two AZs."""
    region = HOME_REGION
    net = estate.networks[region]
    roles = estate.identity.roles
    host = seeder.ecr_host(region)
    ecs = seeder.client("ecs", region)
    ec2 = seeder.client("ec2", region)
    vpc_cidr = "10.20.0.0/16"
    security_group(seeder, net, "search-internal-alb", "search ALB: HTTPS from the VPC", cidr_ingress=[(443, 443, vpc_cidr), (8443, 8443, vpc_cidr)])
    for service in ("search-api", "search-api-staging"):
        security_group(seeder, net, f"{service}-tasks", f"{service} tasks: only the search ALB on 8080", group_ingress=[(8080, 8080, "search-internal-alb")])
    security_group(seeder, net, "search-efs", "search dictionaries: NFS from search-api tasks", group_ingress=[(2049, 2049, "search-api-tasks")])
    security_group(seeder, net, "search-staging-efs", "staging dictionaries: NFS from the VPC", cidr_ingress=[(2049, 2049, vpc_cidr)])
    security_group(seeder, net, "search-ecs-instances", "search container instances: egress only")

    # Capacity: an Auto Scaling group of two instances, the second launched from the team's golden AMI
    # (Packer, on top of the ECS-optimised AMI), and a capacity provider made without managed scaling.
    autoscaling = seeder.client("autoscaling", region)
    launch = dict(InstanceType="r6i.large", IamInstanceProfile="ecsInstanceRole", SecurityGroups=[net.security_groups["search-ecs-instances"]])
    autoscaling.create_launch_configuration(LaunchConfigurationName="search-ecs-v1", ImageId=ECS_OPTIMIZED_AMI, **launch)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="search-ecs", LaunchConfigurationName="search-ecs-v1", MinSize=1, MaxSize=4, DesiredCapacity=1,
        VPCZoneIdentifier=",".join(net.private_subnets), Tags=[{"Key": "Name", "Value": "search-ecs", "PropagateAtLaunch": True}],
    )
    first = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["search-ecs"])["AutoScalingGroups"][0]["Instances"][0]["InstanceId"]
    golden = ec2.create_image(InstanceId=first, Name="search-ecs-golden-2026.10.2", Description="search team golden image (Packer)")["ImageId"]
    autoscaling.create_launch_configuration(LaunchConfigurationName="search-ecs-v2", ImageId=golden, **launch)
    autoscaling.update_auto_scaling_group(AutoScalingGroupName="search-ecs", LaunchConfigurationName="search-ecs-v2", DesiredCapacity=2)
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["search-ecs"])["AutoScalingGroups"][0]
    ecs.create_capacity_provider(
        name="search-ec2",
        autoScalingGroupProvider={"autoScalingGroupArn": group["AutoScalingGroupARN"], "managedScaling": {"status": "DISABLED"},
                                  "managedTerminationProtection": "DISABLED"},
        tags=tags_list({"Environment": "prod", "Team": "search"}),
    )
    estate.clusters[f"{region}/search"] = ecs.create_cluster(
        clusterName="search",
        settings=[{"name": "containerInsights", "value": "enabled"}],
        capacityProviders=["search-ec2"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "search-ec2", "weight": 1}],
        tags=tags_list({"Environment": "prod", "IaC": "terraform", "Team": "search"}),
    )["cluster"]["clusterArn"]
    instances = ec2.describe_instances(InstanceIds=sorted(i["InstanceId"] for i in group["Instances"]))["Reservations"]
    for instance in sorted((i for r in instances for i in r["Instances"]), key=lambda i: i["LaunchTime"]):
        register_container_instance(seeder, region, cluster="search", instance=instance, backstory=estate.backstory)

    # Logs, secrets (staging's went in a clean-up of "unused" secrets), the dictionaries on EFS.
    log_group(seeder, region, "/ecs/search/search-api", retention_days=30, kms_key_arn=prod_key, tags={"Environment": "prod"})
    log_group(seeder, region, "/ecs/search/search-api-staging", retention_days=7, tags={"Environment": "staging"})
    sm = seeder.client("secretsmanager", region)
    for environment in ("prod", "staging"):
        name = f"{environment}/search-api/opensearch"
        estate.secrets[name] = sm.create_secret(Name=name, KmsKeyId=prod_key, SecretString="{\"username\":\"search-api\"}",
                                                Tags=[{"Key": "Environment", "Value": environment}])["ARN"]
    sm.delete_secret(SecretId=estate.secrets["staging/search-api/opensearch"], ForceDeleteWithoutRecovery=True)
    efs = seeder.client("efs", region)
    dictionaries = efs.create_file_system(
        CreationToken="search-dictionaries", PerformanceMode="generalPurpose", Encrypted=True, KmsKeyId=prod_key,
        Tags=[{"Key": "Name", "Value": "search-dictionaries"}, {"Key": "Environment", "Value": "prod"}],
    )["FileSystemId"]
    access_point = efs.create_access_point(
        FileSystemId=dictionaries, PosixUser={"Uid": 10001, "Gid": 10001},
        RootDirectory={"Path": "/dictionaries", "CreationInfo": {"OwnerUid": 10001, "OwnerGid": 10001, "Permissions": "750"}},
        Tags=[{"Key": "Name", "Value": "search-api"}],
    )["AccessPointId"]
    for subnet in net.private_subnets:
        efs.create_mount_target(FileSystemId=dictionaries, SubnetId=subnet, SecurityGroups=[net.security_groups["search-efs"]])
    staging_dictionaries = efs.create_file_system(
        CreationToken="search-staging-dictionaries", PerformanceMode="generalPurpose", Encrypted=True,
        Tags=[{"Key": "Name", "Value": "search-staging-dictionaries"}, {"Key": "Environment", "Value": "staging"}],
    )["FileSystemId"]
    efs.create_mount_target(FileSystemId=staging_dictionaries, SubnetId=net.private_subnets[0], SecurityGroups=[net.security_groups["search-staging-efs"]])

    # The internal ALB: a blue/green target-group pair per service, HTTPS on the 2016 default policy.
    elbv2 = seeder.client("elbv2", region)
    alb = elbv2.create_load_balancer(
        Name="search-internal", Subnets=net.private_subnets, SecurityGroups=[net.security_groups["search-internal-alb"]],
        Scheme="internal", Type="application", Tags=[{"Key": "Environment", "Value": "prod"}, {"Key": "Team", "Value": "search"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    estate.load_balancers["search-internal"] = alb
    for service in ("search-api", "search-api-staging"):
        for color in ("blue", "green"):
            tg = elbv2.create_target_group(
                Name=f"{service}-{color}", Protocol="HTTP", Port=8080, VpcId=net.vpc_id, TargetType="ip", HealthCheckProtocol="HTTP",
                HealthCheckPath="/actuator/health", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5, HealthyThresholdCount=3,
                UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
            )["TargetGroups"][0]["TargetGroupArn"]
            if service == "search-api":  # staging kept the 300-second default drain (RESILIENCE-007 WARN)
                elbv2.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
            estate.target_groups[f"{service}-{color}"] = tg
    certificate = seeder.client("acm", region).request_certificate(DomainName="search.internal.example.com", ValidationMethod="DNS")["CertificateArn"]
    listeners = {
        service: elbv2.create_listener(
            LoadBalancerArn=alb, Protocol="HTTPS", Port=port, SslPolicy="ELBSecurityPolicy-2016-08", Certificates=[{"CertificateArn": certificate}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": estate.target_groups[f"{service}-blue"]}],
        )["Listeners"][0]["ListenerArn"]
        for service, port in (("search-api", 443), ("search-api-staging", 8443))
    }

    # Task definitions: the app logs through a FireLens router (AWS's example container: root, no CPU).
    def firelens(group: str) -> dict[str, Any]:
        return {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch_logs", "region": region, "log_group_name": group,
                                                        "log_stream_prefix": "app/", "auto_create_group": "false"}}

    def log_router(group: str) -> dict[str, Any]:
        return {"name": "log-router", "image": FLUENT_BIT_IMAGE, "essential": True, "memoryReservation": 64, "user": "0",
                "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
                "logConfiguration": awslogs(group, region, "firelens")}

    def app(sha: str, environment: str, **settings: Any) -> dict[str, Any]:
        return {
            "name": "app", "image": f"{host}/search-api:{sha}", "essential": True, "user": "10001", "readonlyRootFilesystem": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "SPRING_PROFILES_ACTIVE", "value": environment}, {"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75"}],
            "secrets": [{"name": "OPENSEARCH_PASSWORD", "valueFrom": f"{estate.secrets[f'{environment}/search-api/opensearch']}:password::"}],
            "mountPoints": [{"sourceVolume": "dictionaries", "containerPath": "/opt/search/dictionaries", "readOnly": True}],
            "logConfiguration": firelens(f"/ecs/search/search-api{'' if environment == 'prod' else '-' + environment}"),
            "dependsOn": [{"containerName": "log-router", "condition": "START"}],
            **settings,
        }

    search = dict(taskRoleArn=roles["search-api-task"], executionRoleArn=roles["search-api-execution"], networkMode="awsvpc", requiresCompatibilities=["EC2"])
    estate.task_definitions["search-api:1"] = register(
        seeder, region, family="search-api", cpu="1024", memory="3072", **search,
        containerDefinitions=[
            app(SEARCH_API_SHA, "prod", cpu=960, memoryReservation=2560, memory=2944, stopTimeout=30,
                healthCheck={"command": ["CMD-SHELL", "curl -fsS http://localhost:8080/actuator/health || exit 1"],
                             "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 60}),
            log_router("/ecs/search/search-api"),
        ],
        volumes=[{"name": "dictionaries", "efsVolumeConfiguration": {
            "fileSystemId": dictionaries, "transitEncryption": "ENABLED", "authorizationConfig": {"accessPointId": access_point, "iam": "ENABLED"}}}],
        tags={"Environment": "prod", "Service": "search-api", "Version": SEARCH_API_SHA[:12], "ManagedBy": "terraform"},
    )
    # Staging: the app's hard limit is the whole task, with the router on top; a health check copied
    # from a tutorial (one retry, no start period).
    estate.task_definitions["search-api-staging:1"] = register(
        seeder, region, family="search-api-staging", cpu="512", memory="1024", **search,
        containerDefinitions=[
            app(SEARCH_API_RC_SHA, "staging", cpu=512, memory=1024,
                healthCheck={"command": ["CMD-SHELL", "curl -f http://localhost:8080/actuator/health"], "interval": 30, "timeout": 5, "retries": 1}),
            log_router("/ecs/search/search-api-staging"),
        ],
        volumes=[{"name": "dictionaries", "efsVolumeConfiguration": {"fileSystemId": staging_dictionaries, "transitEncryption": "ENABLED"}}],
        tags={"Environment": "staging", "Service": "search-api"},
    )

    for service, desired, subnets, settings in (
        ("search-api", 2, net.private_subnets, dict(tags={"Environment": "prod", "IaC": "terraform", "Team": "search"}, propagate_tags="TASK_DEFINITION",
                                                  update={"healthCheckGracePeriodSeconds": 90, "enableECSManagedTags": True})),
        ("search-api-staging", 1, net.private_subnets[:2], dict(tags={"Environment": "staging", "Team": "search"})),
    ):
        groups = [net.security_groups[f"{service}-tasks"]]
        estate.services[f"search/{service}"] = create_service(
            seeder, region, cluster="search", name=service, task_definition=f"{service}:1", desired=desired, launch_type="EC2",
            controller="CODE_DEPLOY", subnets=subnets, security_groups=groups,
            load_balancers=[{"targetGroupArn": estate.target_groups[f"{service}-blue"], "containerName": "app", "containerPort": 8080}],
            **settings,
        )
        estate.tasks[f"search/{service}"] = start_service_tasks(
            seeder, region, cluster="search", service=service, count=desired, launch_type="EC2", subnets=subnets, security_groups=groups,
        )

    # CodeDeploy: prod rolls back on failure and on its 5xx alarm; the staging group, made by hand for a
    # test, never rolls back.
    codedeploy = seeder.client("codedeploy", region)
    codedeploy.create_application(applicationName="search-api", computePlatform="ECS", tags=[{"Key": "Team", "Value": "search"}])
    for group_name, service, rollback in (
        ("search-api-prod", "search-api", {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}),
        ("search-api-staging", "search-api-staging", {"enabled": False, "events": []}),
    ):
        codedeploy.create_deployment_group(
            applicationName="search-api", deploymentGroupName=group_name, serviceRoleArn=roles["ecsCodeDeployRole"],
            deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            blueGreenDeploymentConfiguration={
                "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
                "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0},
            },
            loadBalancerInfo={"targetGroupPairInfoList": [{
                "targetGroups": [{"name": f"{service}-blue"}, {"name": f"{service}-green"}],
                "prodTrafficRoute": {"listenerArns": [listeners[service]]},
            }]},
            ecsServices=[{"serviceName": service, "clusterName": "search"}],
            autoRollbackConfiguration=rollback,
            **estate.backstory.deployment_groups.get(f"search-api/{group_name}", {}),
        )

    # Scaling packed tight to save instance hours; the prod alarm CodeDeploy watches; Container Insights,
    # on since yesterday.
    service_auto_scaling(seeder, region, cluster="search", service="search-api", minimum=2, maximum=6, targets=(("CPU", 85.0),))
    oncall = seeder.client("sns", region).create_topic(Name="search-oncall", Tags=[{"Key": "Team", "Value": "search"}])["TopicArn"]
    alarm(seeder, region, "search-api-5xx", namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count", statistic="Sum",
          dimensions={"LoadBalancer": _lb_dimension(alb), "TargetGroup": _lb_dimension(estate.target_groups["search-api-blue"])},
          threshold=10, actions=[oncall], description="search-api answers 5xx")
    for service, cpu, memory, tasks in (("search-api", 1024, 3072, 2), ("search-api-staging", 512, 1024, 1)):
        container_insights_metrics(seeder, region, cluster="search", service=service, task_cpu=cpu, task_memory=memory, tasks=tasks,
                                   use=estate.backstory.utilisation_of("search", service), now=estate.now, days=1)


def seed_second_region(seeder: Seeder, estate: DemoEstate) -> None:
    """eu-west-1, set up later and by Terraform: web-api behind an internet-facing ALB done right (HTTPS
    on a current TLS policy, HTTP redirected, a WAF web ACL), VPC flow logs, ENI trunking on, ECR
    with enhanced scanning and Amazon Inspector rescanning continuously. Its gaps: web-api's image is
    still pulled across regions from us-east-1, two AZs only, GuardDuty without runtime monitoring, and
    `image-resizer`, moved to the EC2 launch type before any container instance was there to run it."""
    region = SECOND_REGION
    ids = estate.identity
    key = kms_key(seeder, region, "prod-ecs", "ECS Exec sessions and logs (prod-eu)", ids)
    net = seed_network(seeder, region, name="prod-eu", cidr_prefix="10.40", azs=("eu-west-1a", "eu-west-1b"))
    estate.networks[region] = net
    security_group(seeder, net, "prod-eu-web-alb", "public ALB", cidr_ingress=[(80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0"), (443, 443, "::/0")])
    security_group(seeder, net, "web-api-tasks", "web-api tasks", cidr_ingress=[(8080, 8080, "10.40.0.0/16")])
    security_group(seeder, net, "image-resizer-tasks", "image-resizer tasks: only web-api on 8080", group_ingress=[(8080, 8080, "web-api-tasks")])
    log_group(seeder, region, "/ecs/prod-eu/web-api", retention_days=30, kms_key_arn=key, tags={"Environment": "prod"})
    log_group(seeder, region, "/ecs/prod-eu/image-resizer", retention_days=30, kms_key_arn=key, tags={"Environment": "prod"})
    log_group(seeder, region, "/vpc/prod-eu/flow-logs", retention_days=90, kms_key_arn=key, tags={"Environment": "prod"})
    ec2 = seeder.client("ec2", region)
    ec2.create_flow_logs(
        ResourceIds=[net.vpc_id], ResourceType="VPC", TrafficType="ALL", LogDestinationType="cloud-watch-logs",
        LogGroupName="/vpc/prod-eu/flow-logs", DeliverLogsPermissionArn=ids.roles["vpc-flow-logs"],
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": [{"Key": "Name", "Value": "prod-eu-vpc"}]}],
    )
    seeder.client("guardduty", region).create_detector(Enable=True, FindingPublishingFrequency="SIX_HOURS")
    ecs = seeder.client("ecs", region)
    ecs.put_account_setting(name="awsvpcTrunking", value="enabled")

    # The registry: enhanced scanning, rescanned continuously by Amazon Inspector.
    seeder.client("ecr", region).put_registry_scanning_configuration(
        scanType="ENHANCED", rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}],
    )
    seeder.client("inspector2", region).enable(accountIds=[seeder.account_id], resourceTypes=["ECR"])
    ecr_repository(seeder, region, "image-resizer", immutable=True, scan_on_push=False, kms_key_arn=key, keep_images=10,
                   tags={"Environment": "prod", "ManagedBy": "terraform"})
    resizer_image = f"{seeder.ecr_host(region)}/image-resizer:{IMAGE_RESIZER_VERSION}"
    estate.images[resizer_image] = push_image(seeder, region, "image-resizer", IMAGE_RESIZER_VERSION, size_mib=236)

    # The public ALB: HTTPS on a TLS 1.2+ policy, HTTP redirected, AWS's common rule set in front.
    elbv2 = seeder.client("elbv2", region)
    alb = elbv2.create_load_balancer(
        Name="prod-eu-web", Subnets=net.public_subnets, SecurityGroups=[net.security_groups["prod-eu-web-alb"]],
        Scheme="internet-facing", Type="application", IpAddressType="ipv4",
        Tags=[{"Key": "Environment", "Value": "prod"}, {"Key": "ManagedBy", "Value": "terraform"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=alb, Attributes=[{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}])
    estate.load_balancers["prod-eu-web"] = alb
    target_group = elbv2.create_target_group(
        Name="web-api-eu", Protocol="HTTP", Port=8080, VpcId=net.vpc_id, TargetType="ip", HealthCheckProtocol="HTTP",
        HealthCheckPath="/healthz", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5, HealthyThresholdCount=2,
        UnhealthyThresholdCount=3, Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(TargetGroupArn=target_group, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    estate.target_groups["web-api-eu"] = target_group
    certificate = seeder.client("acm", region).request_certificate(DomainName="eu.example-corp.com", ValidationMethod="DNS")["CertificateArn"]
    elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                          Certificates=[{"CertificateArn": certificate}], DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    waf = seeder.client("wafv2", region)
    visibility = lambda name: {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}  # noqa: E731
    web_acl = waf.create_web_acl(
        Name="prod-eu-web", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=visibility("prod-eu-web"),
        Rules=[{"Name": "aws-common", "Priority": 0, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility("aws-common"),
                "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}}],
        Tags=[{"Key": "ManagedBy", "Value": "terraform"}],
    )["Summary"]["ARN"]
    waf.associate_web_acl(WebACLArn=web_acl, ResourceArn=alb)

    estate.clusters[f"{region}/prod-eu"] = ecs.create_cluster(
        clusterName="prod-eu",
        settings=[{"name": "containerInsights", "value": "enabled"}],
        capacityProviders=["FARGATE"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        tags=tags_list({"Environment": "prod", "IaC": "terraform"}),
    )["cluster"]["clusterArn"]
    home_host = seeder.ecr_host(HOME_REGION)
    estate.task_definitions[f"{region}/web-api:1"] = register(
        seeder, region,
        family="web-api",
        taskRoleArn=ids.roles["web-api-task"],
        executionRoleArn=ids.roles["web-api-execution"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": f"{home_host}/web-api:{WEB_API_CURRENT_SHA}",
                "cpu": 256,
                "memoryReservation": 512,
                "essential": True,
                "readonlyRootFilesystem": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "APP_ENV", "value": "prod"}, {"name": "PORT", "value": "8080"}],
                "healthCheck": {"command": ["CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1"],
                                "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 15},
                "logConfiguration": awslogs("/ecs/prod-eu/web-api", region, "app"),
            }
        ],
        tags={"Environment": "prod", "Service": "web-api", "Version": WEB_API_CURRENT_SHA[:12]},
    )
    estate.services["prod-eu/web-api"] = create_service(
        seeder, region, cluster="prod-eu", name="web-api", task_definition="web-api:1", desired=2, platform_version="LATEST",
        subnets=net.private_subnets, security_groups=[net.security_groups["web-api-tasks"]],
        load_balancers=[{"targetGroupArn": target_group, "containerName": "app", "containerPort": 8080}],
        tags={"Environment": "prod", "IaC": "ecspresso"}, propagate_tags="TASK_DEFINITION",
        update=rolling_update(circuit_breaker=True, enableECSManagedTags=True, healthCheckGracePeriodSeconds=30),
    )
    estate.tasks["prod-eu/web-api"] = start_service_tasks(
        seeder, region, cluster="prod-eu", service="web-api", count=2, platform_version="1.4.0",
        subnets=net.private_subnets, security_groups=[net.security_groups["web-api-tasks"]],
    )
    container_insights_metrics(seeder, region, cluster="prod-eu", service="web-api", task_cpu=256, task_memory=512, tasks=2,
                               use=estate.backstory.utilisation_of("prod-eu", "web-api"), now=estate.now)

    # image-resizer: awsvpc on the EC2 launch type (ENI trunking for density), from this region's
    # registry; no container instance has joined the cluster, so none of its tasks can be placed.
    estate.task_definitions[f"{region}/image-resizer:1"] = register(
        seeder, region,
        family="image-resizer",
        taskRoleArn=ids.roles["image-resizer-task"],
        executionRoleArn=ids.roles["image-resizer-execution"],
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        cpu="1024",
        memory="2048",
        containerDefinitions=[
            {
                "name": "resizer",
                "image": resizer_image,
                "cpu": 1024,
                "memoryReservation": 1536,
                "memory": 2048,
                "essential": True,
                "readonlyRootFilesystem": True,
                "user": "10001",
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "MEDIA_BUCKET", "value": "example-corp-media-eu"}],
                "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp"}],
                "healthCheck": {"command": ["CMD", "/usr/local/bin/resizer", "healthcheck"], "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 20},
                "logConfiguration": awslogs("/ecs/prod-eu/image-resizer", region, "resizer"),
            }
        ],
        volumes=[{"name": "scratch"}],
        tags={"Environment": "prod", "Service": "image-resizer", "Version": IMAGE_RESIZER_VERSION},
    )
    estate.services["prod-eu/image-resizer"] = create_service(
        seeder, region, cluster="prod-eu", name="image-resizer", task_definition="image-resizer:1", desired=2, running=0, launch_type="EC2",
        subnets=net.private_subnets, security_groups=[net.security_groups["image-resizer-tasks"]],
        tags={"Environment": "prod", "IaC": "terraform"}, propagate_tags="SERVICE",
        update=rolling_update(circuit_breaker=True, enableECSManagedTags=True),
    )


def seed_dr_region(seeder: Seeder, estate: DemoEstate) -> None:
    """us-west-2: the pilot light of web-api's disaster recovery. Terraform keeps an empty cluster and the
    pipeline registers the task definition (the release before last: DR lags a deploy); the runbook
    creates the service on failover. The image is pulled from us-east-1, the region DR is for."""
    region = DR_REGION
    roles = estate.identity.roles
    log_group(seeder, region, "/ecs/prod-dr/web-api", retention_days=30, tags={"Environment": "prod"})
    ecs = seeder.client("ecs", region)
    estate.clusters[f"{region}/prod-dr"] = ecs.create_cluster(
        clusterName="prod-dr",
        settings=[{"name": "containerInsights", "value": "enabled"}],
        capacityProviders=["FARGATE"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        tags=tags_list({"Environment": "prod", "IaC": "terraform", "Purpose": "disaster-recovery"}),
    )["cluster"]["clusterArn"]
    estate.task_definitions[f"{region}/web-api:1"] = register(
        seeder, region,
        family="web-api",
        taskRoleArn=roles["web-api-task"],
        executionRoleArn=roles["web-api-execution"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": f"{seeder.ecr_host(HOME_REGION)}/web-api:{WEB_API_PREVIOUS_SHA}",
                "cpu": 256,
                "memoryReservation": 512,
                "essential": True,
                "readonlyRootFilesystem": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "APP_ENV", "value": "prod"}, {"name": "PORT", "value": "8080"}],
                "healthCheck": {"command": ["CMD-SHELL", "curl -fsS http://localhost:8080/healthz || exit 1"],
                                "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 15},
                "logConfiguration": awslogs("/ecs/prod-dr/web-api", region, "app"),
            }
        ],
        tags={"Environment": "prod", "Service": "web-api", "Version": WEB_API_PREVIOUS_SHA[:12]},
    )
