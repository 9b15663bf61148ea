"""End to end: known-good real-world configurations raise no false alarm, real-world defects are caught.

Two small estates are seeded into the moto server and scanned by the installed CLI through the tests'
proxy, which supplies what moto lacks in AWS's own shapes (GuardDuty findings, registeredBy,
container-instance attributes, task platformFamily).

Known good (us-east-1 unless said): Windows containers on EC2 without runtimePlatform; FireLens
routing to CloudWatch Logs; a Falco DAEMON service covering an EC2 cluster (us-west-2, no GuardDuty);
GuardDuty runtime monitoring with selective cluster inclusion (GuardDutyManaged=true, agent
management off); a binpack service; an ECS Anywhere (External) instance; a scheduled-task-only
family; a hardened Fargate service; revisions registered by a person through IAM Identity Center that
run nowhere (a draft family never deployed, and a hand-made first revision superseded by the pipeline's
second, which is the one deployed).

Real-world defects: a Windows container running as ContainerAdministrator, FireLens writing to a
log group that was deleted, a plaintext DB_PASS, the Docker socket mounted, a task role with iam:* on
every role, an in-use revision registered by a person through IAM Identity Center, an open
high-severity GuardDuty runtime finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_audit.report.model import expand_report
from tests.e2e.conftest import Run, aws_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy, api_params, api_reply

pytestmark = pytest.mark.e2e

HOME = "us-east-1"
WEST = "us-west-2"
WINDOWS_IMAGE = "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"
FIRELENS_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
SSO_PRINCIPAL = "arn:aws:sts::{account}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com"
PIPELINE_PRINCIPAL = "arn:aws:sts::{account}:assumed-role/github-actions-deploy/GitHubActions"
# (family, revision) registered by a person through IAM Identity Center; every other by the pipeline.
SSO_REGISTERED = {("console-edit", 1), ("sso-draft", 1), ("handoff", 1)}


@dataclass
class Scan:
    run: Run
    report: dict[str, Any]
    account_id: str


def _container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "essential": True, "cpu": 256, "memory": 512, **extra}


def _hardened(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return _container(
        name,
        image,
        readonlyRootFilesystem=True,
        user="1000",
        privileged=False,
        healthCheck={"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 10},
        **extra,
    )


def _seed(moto: MotoServer) -> str:
    moto.reset()
    account = moto.client("sts").get_caller_identity()["Account"]
    logs, iam = moto.client("logs"), moto.client("iam")
    for group in ("/ecs/firelens", "/ecs/firelens-app"):
        logs.create_log_group(logGroupName=group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="roles-admin-task", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(
        RoleName="roles-admin-task",
        PolicyName="manage-roles",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": f"arn:aws:iam::*:role/*"}]}),
    )

    ecs = moto.client("ecs", HOME)
    ecs.create_cluster(clusterName="windows")
    ecs.create_cluster(clusterName="fargate", tags=[{"key": "GuardDutyManaged", "value": "true"}])
    ecs.create_cluster(clusterName="onprem")
    # moto registers only EC2 instances: the proxy reports this one as the managed instance it stands for.
    ec2 = moto.client("ec2", HOME)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ecs.register_container_instance(cluster="onprem", instanceIdentityDocument=json.dumps({"instanceId": instance}))

    def register(family: str, containers: list[dict[str, Any]], **extra: Any) -> str:
        return ecs.register_task_definition(family=family, containerDefinitions=containers, **extra)["taskDefinition"]["taskDefinitionArn"]

    def service(cluster: str, name: str, task_definition: str, **extra: Any) -> None:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=task_definition, desiredCount=extra.pop("desiredCount", 1), **extra)

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{HOME}{az}")["Subnet"]["SubnetId"] for i, az in enumerate("abc", 1)]
    group = ec2.create_security_group(GroupName="app", Description="app tasks", VpcId=vpc)["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    # Known good.
    service("windows", "iis", register("win-iis", [_container("iis", WINDOWS_IMAGE, user="ContainerUser")], requiresCompatibilities=["EC2"]), launchType="EC2")
    service("windows", "binpacked", register("packed", [_container("app", "nginx:1.27")], requiresCompatibilities=["EC2"]), launchType="EC2",
            placementStrategy=[{"type": "binpack", "field": "memory"}])
    firelens = register(
        "firelens-app",
        [
            _container("log_router", FIRELENS_IMAGE, essential=True, firelensConfiguration={"type": "fluentbit"},
                       logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/firelens", "awslogs-region": HOME, "awslogs-stream-prefix": "router"}}),
            _container("app", "nginx:1.27", logConfiguration={"logDriver": "awsfirelens", "options": {
                "Name": "cloudwatch_logs", "region": HOME, "log_group_name": "/ecs/firelens-app", "log_stream_prefix": "app-", "auto_create_group": "false"}}),
        ],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="512", memory="1024",
    )
    service("fargate", "firelens", firelens, launchType="FARGATE", networkConfiguration=network)
    hardened = register(
        "hardened",
        [_hardened("app", "nginx:1.27", portMappings=[{"containerPort": 8080}],
                   secrets=[{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:{HOME}:{account}:secret:prod/db-AbCdEf"}],
                   environment=[{"name": "USE_SECRETS_MANAGER", "value": "true"}, {"name": "TOKEN_TTL_SECONDS", "value": "3600"}])],
        requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        runtimePlatform={"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
    )
    service("fargate", "hardened", hardened, launchType="FARGATE", networkConfiguration=network)
    register("nightly-report", [_container("job", "python:3.12-slim")], requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512")
    # Registered by a person (SSO_REGISTERED) but running nowhere: a draft never deployed, and a first
    # revision made by hand that the pipeline's handoff:2 replaced before it was deployed.
    register("sso-draft", [_container("app", "nginx:1.27")], requiresCompatibilities=["EC2"])
    register("handoff", [_container("app", "nginx:1.26")], requiresCompatibilities=["EC2"])
    service("windows", "handoff", register("handoff", [_container("app", "nginx:1.27")], requiresCompatibilities=["EC2"]), launchType="EC2")

    # Real-world defects.
    ecs.create_cluster(clusterName="legacy")
    service("legacy", "win-admin", register("win-admin", [_container("iis", WINDOWS_IMAGE, user="ContainerAdministrator")]), launchType="EC2")
    service("legacy", "lost-logs", register("lost-logs", [
        _container("log_router", FIRELENS_IMAGE, firelensConfiguration={"type": "fluentbit"}),
        _container("app", "nginx:1.27", logConfiguration={"logDriver": "awsfirelens", "options": {"Name": "cloudwatch_logs", "region": HOME, "log_group_name": "/ecs/deleted-group"}}),
    ]), launchType="EC2")
    service("legacy", "plaintext", register("plaintext", [_container("app", "nginx:1.27", environment=[
        {"name": "DB_PASS", "value": "correct-horse-battery-staple"}, {"name": "DATABASE_URL", "value": "postgres://app:s3cr3t-pw@db.internal:5432/app"}])]), launchType="EC2")
    service("legacy", "docker-in-docker", register("docker-in-docker", [_container("ci", "docker:27", mountPoints=[{"sourceVolume": "sock", "containerPath": "/var/run/docker.sock"}])],
                                                   volumes=[{"name": "sock", "host": {"sourcePath": "/var/run/docker.sock"}}]), launchType="EC2")
    service("legacy", "role-admin", register("role-admin", [_container("app", "nginx:1.27")], taskRoleArn="roles-admin-task"), launchType="EC2")
    service("legacy", "console-edit", register("console-edit", [_container("app", "nginx:1.27")]), launchType="EC2")

    # us-west-2: no GuardDuty; Falco runs as a DAEMON service on the EC2 cluster.
    west = moto.client("ecs", WEST)
    west.create_cluster(clusterName="ec2")
    falco = west.register_task_definition(family="falco", containerDefinitions=[_container("falco", "falcosecurity/falco-no-driver:0.39.0")])["taskDefinition"]["taskDefinitionArn"]
    app = west.register_task_definition(family="shop", containerDefinitions=[_container("app", "nginx:1.27")], requiresCompatibilities=["EC2"])["taskDefinition"]["taskDefinitionArn"]
    west.create_service(cluster="ec2", serviceName="falco", taskDefinition=falco, schedulingStrategy="DAEMON", launchType="EC2")
    west.create_service(cluster="ec2", serviceName="shop", taskDefinition=app, desiredCount=2, launchType="EC2")

    # GuardDuty in us-east-1: runtime monitoring on, Fargate agent management off (selective inclusion by tag).
    moto.client("guardduty", HOME).create_detector(
        Enable=True,
        Features=[{"Name": "RUNTIME_MONITORING", "Status": "ENABLED", "AdditionalConfiguration": [
            {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "DISABLED"}, {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]}],
    )
    return account


def _finding(account: str, detector_id: str) -> dict[str, Any]:
    cluster_arn = f"arn:aws:ecs:{HOME}:{account}:cluster/legacy"
    return {
        "AccountId": account, "Arn": f"arn:aws:guardduty:{HOME}:{account}:detector/{detector_id}/finding/f-reverse-shell",
        "Id": "f-reverse-shell", "Region": HOME, "Partition": "aws", "SchemaVersion": "2.0",
        "Type": "Execution:Runtime/ReverseShell", "Title": "A process in a container has created a reverse shell.",
        "Severity": 8.0, "CreatedAt": "2026-11-30T10:00:00.000Z", "UpdatedAt": "2026-11-30T10:00:00.000Z",
        "Resource": {"ResourceType": "ECSCluster", "EcsClusterDetails": {"Name": "legacy", "Arn": cluster_arn,
                     "TaskDetails": {"Arn": f"arn:aws:ecs:{HOME}:{account}:task/legacy/0123456789abcdef0123456789abcdef"}}},
        "Service": {"ServiceName": "guardduty", "DetectorId": detector_id, "Archived": False, "Count": 1},
    }  # fmt: skip


def _install(proxy: FaultProxy, account: str) -> None:
    """What AWS returns and moto does not."""

    def list_findings(call: Call):
        return api_reply(call, {"FindingIds": ["f-reverse-shell"] if call.region == HOME else []})

    def get_findings(call: Call):
        params = api_params(call)
        wanted = set(params.get("FindingIds") or [])
        found = [_finding(account, params["DetectorId"])] if call.region == HOME and "f-reverse-shell" in wanted else []
        return api_reply(call, {"Findings": found})

    def list_coverage(call: Call):
        return api_reply(call, {"Resources": []})

    def registered_by(call: Call, body: Any) -> Any:
        td = body.get("taskDefinition") if isinstance(body, dict) else None
        if td:
            principal = SSO_PRINCIPAL if (td.get("family"), td.get("revision")) in SSO_REGISTERED else PIPELINE_PRINCIPAL
            td.setdefault("registeredBy", principal.format(account=account))
        return body

    def instance_attributes(call: Call, body: Any) -> Any:
        for instance in body.get("containerInstances", []) if isinstance(body, dict) else []:
            attributes = [a for a in instance.get("attributes", []) if a.get("name") != "ecs.os-type"]
            instance["attributes"] = attributes + [{"name": "ecs.os-type", "value": "linux"}]
            if "/onprem/" in instance.get("containerInstanceArn", ""):
                instance["ec2InstanceId"] = "mi-0123456789abcdef0"  # ECS Anywhere: a managed instance
        return body

    proxy.add_fault("guardduty.ListFindings", list_findings, name="stub ListFindings")
    proxy.add_fault("guardduty.GetFindings", get_findings, name="stub GetFindings")
    proxy.add_fault("guardduty.ListCoverage", list_coverage, name="stub ListCoverage")
    proxy.rewrite_json("ecs.DescribeTaskDefinition", registered_by)
    proxy.rewrite_json("ecs.DescribeContainerInstances", instance_attributes)


@pytest.fixture(scope="module")
def scan(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scan]:
    account = _seed(moto_server)
    work = tmp_path_factory.mktemp("real-world")
    proxy = FaultProxy(moto_server.url, caller_arn=f"arn:aws:iam::{account}:user/ecs-audit-e2e").start()
    try:
        _install(proxy, account)
        out = work / "report"
        run = run_cli(["scan", "--region", HOME, "--region", WEST, "-o", str(out), "-q"], aws_env(work / "home", proxy.url), cwd=work, timeout=300)
        # report.json schema 2 keeps each check's fields once: expand findings back to full records.
        report = expand_report(json.loads((out / "report.json").read_text())) if (out / "report.json").exists() else {}
        yield Scan(run, report, account)
    finally:
        proxy.stop()


def _results(scan: Scan, check: str, region: str, name: str, container: str | None = None) -> list[dict[str, Any]]:
    """Findings of `check` in `region` on the resource called `name` (cluster, cluster/service, family:rev, or "account")."""
    out = []
    for finding in scan.report.get("findings", []):
        if finding["check_id"] != check or finding["region"] != region:
            continue
        resource = finding["resource"]
        names = {resource.get("name"), resource["arn"].split(":task-definition/")[-1], "/".join(resource["arn"].rsplit("/", 2)[-2:])}
        if name == "account" and resource["type"] == "AWS::::Account" or name in names:
            if container is None or finding.get("container") == container:
                out.append(finding)
    return out


# (check, region, resource, container, statuses allowed): the known-good configurations.
GOOD = [
    ("SECURITY-001", HOME, "win-iis:1", "iis", {"NOT_APPLICABLE"}),  # Windows: no read-only root filesystem
    ("SECURITY-003", HOME, "win-iis:1", "iis", {"PASS"}),  # ContainerUser is not an administrator
    ("TASKDEF-001", HOME, "win-iis:1", None, {"NOT_APPLICABLE"}),  # task-level sizes are ignored on EC2 Windows
    ("OBSERVABILITY-004", HOME, "firelens-app:1", "app", {"PASS"}),  # FireLens to a group with retention
    ("RESILIENCE-010", HOME, "firelens-app:1", None, {"PASS"}),
    ("OBSERVABILITY-007", HOME, "firelens-app:1", "log_router", {"PASS"}),  # ECS default is non-blocking
    ("SECURITY-011", WEST, "account", None, {"PASS"}),  # the Falco daemon covers the EC2 tasks
    ("SECURITY-011", HOME, "account", None, {"PASS"}),  # GuardDuty runtime monitoring on
    ("SECURITY-012", HOME, "account", None, {"PASS", "WARN"}),  # Fargate clusters included by tag (EC2 managed)
    ("RESILIENCE-003", HOME, "windows/binpacked", None, {"PASS", "NOT_APPLICABLE", "UNKNOWN"}),  # no rebalancing asked of binpack
    ("CLUSTER-001", HOME, "onprem", None, {"NOT_APPLICABLE"}),  # ECS Anywhere is not EC2 capacity
    ("TASKDEF-004", HOME, "nightly-report:1", "job", {"WARN", "NOT_APPLICABLE"}),  # scheduled-only: never a FAIL
    ("CICD-008", HOME, "hardened:1", None, {"PASS"}),
    ("CICD-008", HOME, "sso-draft:1", None, {"NOT_APPLICABLE"}),  # a person's draft that runs nowhere
    ("CICD-008", HOME, "handoff:2", None, {"PASS"}),  # the pipeline's revision is the deployed one
    ("SECURITY-001", HOME, "hardened:1", "app", {"PASS"}),
    ("SECURITY-003", HOME, "hardened:1", "app", {"PASS"}),
    ("SECURITY-006", HOME, "hardened:1", "app", {"PASS"}),  # booleans and numbers are settings
    ("SECURITY-008", HOME, "hardened:1", None, {"PASS", "NOT_APPLICABLE"}),
    ("TASKDEF-004", HOME, "hardened:1", "app", {"PASS"}),
    ("TASKDEF-006", HOME, "hardened:1", None, {"PASS"}),
]

# (check, region, resource, container, status, message fragment): the real-world defects.
DEFECTS = [
    ("SECURITY-003", HOME, "win-admin:1", "iis", "FAIL", "administrator"),
    ("RESILIENCE-010", HOME, "lost-logs:1", None, "FAIL", "/ecs/deleted-group"),
    ("SECURITY-006", HOME, "plaintext:1", "app", "FAIL", "DB_PASS"),
    ("SECURITY-015", HOME, "docker-in-docker:1", None, "FAIL", "/var/run/docker.sock"),
    ("SECURITY-009", HOME, "role-admin:1", None, "FAIL", "iam:* on arn:aws:iam::*:role/*"),
    ("CICD-008", HOME, "console-edit:1", None, "WARN", "registered by a person (IAM Identity Center session alice@example.com"),
    ("SECURITY-019", HOME, "account", None, "FAIL", "Execution:Runtime/ReverseShell"),
]


def test_the_scan_succeeds(scan: Scan) -> None:
    assert scan.run.returncode in (0, 1), scan.run
    assert scan.report.get("findings"), scan.run


@pytest.mark.parametrize(("check", "region", "name", "container", "allowed"), GOOD, ids=[f"{g[0]}-{g[2]}" for g in GOOD])
def test_known_good_configurations_raise_no_false_alarm(scan: Scan, check, region, name, container, allowed) -> None:
    found = _results(scan, check, region, name, container)
    assert found, f"no {check} result on {name} in {region}"
    assert {f["status"] for f in found} <= allowed, [(f["status"], f["message"]) for f in found]


@pytest.mark.parametrize(("check", "region", "name", "container", "status", "fragment"), DEFECTS, ids=[f"{d[0]}-{d[2]}" for d in DEFECTS])
def test_real_world_defects_are_caught(scan: Scan, check, region, name, container, status, fragment) -> None:
    found = _results(scan, check, region, name, container)
    assert [f["status"] for f in found] == [status], [(f["status"], f["message"]) for f in found]
    assert fragment.lower() in found[0]["message"].lower(), found[0]["message"]


def test_a_superseded_revision_registered_by_a_person_raises_no_finding(scan: Scan) -> None:
    # handoff:1 (registered through IAM Identity Center) runs nowhere and is not its family's latest:
    # no check judges it, so it can raise no alarm; handoff:2 is judged instead.
    assert not [f for f in scan.report.get("findings", []) if f["resource"]["arn"].endswith(":task-definition/handoff:1")]
    assert [f["status"] for f in _results(scan, "CICD-008", HOME, "handoff:2")] == ["PASS"]
