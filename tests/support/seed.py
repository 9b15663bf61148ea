"""Seed a moto server with a mixed estate for end-to-end tests, and the answer key that goes with it.

The estate is the demo account's us-east-1 (ecs_audit/demo/data): the reference service `web-api`
and `payments` in `prod` (well configured), the neglected `legacy` cluster (planted defects), `batch`
(no services, one standalone task) and the idle `sandbox`. Built from the same pieces, so the demo and
these tests exercise one estate: a change to it is seen by both.

`GOOD` lists checks the well-configured resources must PASS; `PLANTED` lists the defects and the
status each must get, on which resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecs_audit.demo.account import (
    FAKE_ACCESS_KEY_ID,
    FAKE_API_TOKEN,
    FAKE_DB_PASSWORD,
    HOME_REGION,
    DemoEstate,
    demo_backstory,
    seed_estate,
)
from ecs_audit.demo.enrich import EstateFacts, collect_facts
from tests.support.moto_server import MotoServer

PLANTED_SECRETS = (FAKE_DB_PASSWORD, FAKE_ACCESS_KEY_ID, FAKE_API_TOKEN)


@dataclass(frozen=True)
class Expect:
    """One expected result: `check` on a resource named by its kind and key in DemoEstate."""

    check: str
    kind: str  # "service" ("cluster/name"), "taskdef" ("family:rev"), "cluster" ("name")
    key: str
    status: str
    container: str | None = None
    message_contains: str | None = None


GOOD_SERVICE = "prod/web-api"
GOOD_TASKDEF = "web-api:3"

GOOD = (
    Expect("CICD-001", "service", GOOD_SERVICE, "PASS"),
    Expect("NETWORK-001", "service", GOOD_SERVICE, "PASS"),
    Expect("SECURITY-001", "taskdef", GOOD_TASKDEF, "PASS", container="app"),
    Expect("SECURITY-002", "taskdef", GOOD_TASKDEF, "PASS", container="app"),
    Expect("SECURITY-002", "taskdef", GOOD_TASKDEF, "PASS", container="aws-otel-collector"),
    Expect("SECURITY-008", "taskdef", GOOD_TASKDEF, "PASS"),
    Expect("TASKDEF-001", "taskdef", GOOD_TASKDEF, "PASS"),
    Expect("TASKDEF-006", "taskdef", GOOD_TASKDEF, "PASS"),
    Expect("TAGGING-001", "service", GOOD_SERVICE, "PASS"),
    Expect("OBSERVABILITY-003", "taskdef", GOOD_TASKDEF, "PASS", container="app"),
    Expect("RESILIENCE-009", "service", GOOD_SERVICE, "PASS"),
)

PLANTED = (
    Expect("SECURITY-006", "taskdef", "reporting:1", "FAIL", container="reporting", message_contains="DB_PASSWORD"),
    Expect("SECURITY-002", "taskdef", "reporting:1", "FAIL", container="reporting"),
    Expect("SECURITY-005", "taskdef", "reporting:1", "FAIL"),
    Expect("SECURITY-015", "taskdef", "reporting:1", "FAIL", message_contains="docker.sock"),
    Expect("NETWORK-001", "service", "legacy/legacy-api", "FAIL"),
    Expect("IMAGE-001", "taskdef", "legacy-api:1", "FAIL", container="app", message_contains="latest"),
    Expect("OBSERVABILITY-001", "cluster", "legacy", "FAIL"),
    Expect("NETWORK-009", "taskdef", "legacy-api:1", "FAIL"),
    Expect("STORAGE-001", "taskdef", "legacy-api:1", "FAIL"),
    Expect("CICD-007", "service", "legacy/nightly-export", "WARN", message_contains="nightly-export:3"),
)


AUDIT_USER = "ecs-audit-e2e"


@dataclass
class SeededAccount:
    estate: DemoEstate
    facts: EstateFacts
    regions: tuple[str, ...]
    # Access key of the IAM user the CLI runs as (moto answers GetCallerIdentity for unknown keys with
    # a placeholder identity whose UserId is the AWS documentation's example key id).
    access_key_id: str = ""
    secret_access_key: str = ""

    @property
    def caller_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{AUDIT_USER}"

    @property
    def account_id(self) -> str:
        return self.estate.account_id

    def arn(self, kind: str, key: str, region: str = HOME_REGION) -> str:
        if kind == "service":
            return self.estate.services[key]
        if kind == "taskdef":
            return self.estate.task_definitions[key]
        if kind == "cluster":
            return self.estate.clusters[f"{region}/{key}"]
        raise KeyError(kind)


def seed_mixed_estate(server: MotoServer, regions: Sequence[str] = (HOME_REGION,), *, over_http: bool = False) -> SeededAccount:
    """Reset the server, seed the estate, read the enrichment facts, and create the audit user.

    The server runs in this process on moto's global backends, so by default the seeding goes straight
    to them through moto's in-process mock (three to four times faster than a few hundred HTTP round
    trips); `over_http=True` seeds through the server's HTTP API instead. Either way the CLI under test
    sees the same estate, over HTTP."""
    server.reset()
    if over_http:
        return _seed(server.session(), server.url, regions, lambda service, region: server.client(service, region))
    from moto import mock_aws

    mock = mock_aws()
    mock.start(reset=False)
    try:
        session = server.session()
        clients: dict[tuple[str, str], Any] = {}

        def client_for(service: str, region: str) -> Any:
            if (service, region) not in clients:
                clients[(service, region)] = session.client(service, region_name=region)
            return clients[(service, region)]

        return _seed(session, None, regions, client_for)
    finally:
        mock.stop(remove_data=False)  # keep the state: the server serves it


def _seed(session: Any, endpoint_url: str | None, regions: Sequence[str], client_for: Any) -> SeededAccount:
    estate = seed_estate(session, endpoint_url=endpoint_url, regions=tuple(regions))
    facts = collect_facts(client_for, list(regions), backstory=demo_backstory())
    iam = client_for("iam", HOME_REGION)
    iam.create_user(UserName=AUDIT_USER, Tags=[{"Key": "Purpose", "Value": "audit"}])
    iam.attach_user_policy(UserName=AUDIT_USER, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    key = iam.create_access_key(UserName=AUDIT_USER)["AccessKey"]
    return SeededAccount(
        estate=estate, facts=facts, regions=tuple(regions), access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"]
    )


def find(findings: list[dict[str, Any]], check: str, arn: str, container: str | None = None) -> list[dict[str, Any]]:
    """Findings (report.json dicts) of `check` on the resource `arn` (and container)."""
    return [f for f in findings if f["check_id"] == check and f["resource"]["arn"] == arn and f.get("container") == container]


def resource_exists(server: MotoServer, resource: dict[str, str], account_id: str) -> bool:
    """Does the resource a finding names exist in moto? (Asked directly, not through the proxy.)"""
    arn, kind = resource["arn"], resource["type"]
    if kind == "AWS::::Account":
        return arn == f"arn:aws:iam::{account_id}:root"
    region = arn.split(":")[3]
    if kind == "AWS::ECS::Cluster":
        found = server.client("ecs", region).describe_clusters(clusters=[arn])["clusters"]
        return any(c["clusterArn"] == arn and c["status"] == "ACTIVE" for c in found)
    if kind == "AWS::ECS::Service":
        cluster = arn.split(":service/", 1)[1].split("/")[0]
        found = server.client("ecs", region).describe_services(cluster=cluster, services=[arn])["services"]
        return any(s["serviceArn"] == arn for s in found)
    if kind == "AWS::ECS::TaskDefinition":
        try:
            return server.client("ecs", region).describe_task_definition(taskDefinition=arn)["taskDefinition"]["taskDefinitionArn"] == arn
        except Exception:
            return False
    if kind == "AWS::ECR::Repository":
        name = arn.split(":repository/", 1)[1]
        try:
            return bool(server.client("ecr", region).describe_repositories(repositoryNames=[name])["repositories"])
        except Exception:
            return False
    if kind == "AWS::IAM::Role":
        try:
            server.client("iam", "us-east-1").get_role(RoleName=arn.rsplit("/", 1)[-1])
            return True
        except Exception:
            return False
    if kind.startswith("AWS::ElasticLoadBalancingV2::"):
        elbv2 = server.client("elbv2", region)
        try:
            if kind.endswith("TargetGroup"):
                return bool(elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"])
            return bool(elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"])
        except Exception:
            return False
    if kind == "AWS::EC2::SecurityGroup":
        try:
            return bool(server.client("ec2", region).describe_security_groups(GroupIds=[arn.rsplit("/", 1)[-1]])["SecurityGroups"])
        except Exception:
            return False
    if kind == "AWS::GuardDuty::Detector":
        return arn.rsplit("/", 1)[-1] in server.client("guardduty", region).list_detectors()["DetectorIds"]
    raise AssertionError(f"resource_exists does not know {kind} ({arn})")
