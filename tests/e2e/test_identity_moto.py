"""End to end for identity and references: IAM roles and policies, SSM parameters, Secrets Manager
secrets and CloudWatch log groups (SECURITY-007, SECURITY-009, SECURITY-010, OBSERVABILITY-004,
RESILIENCE-010).

A small estate of its own is seeded into the moto server: one well-configured service and one
planted defect per check. The installed CLI scans it through the tests' proxy; then, once per
service, the main call is denied and exactly these checks must turn UNKNOWN, naming the permission.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Run, aws_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
CLUSTER = "identity"
MY_CHECKS = {"SECURITY-007", "SECURITY-009", "SECURITY-010", "OBSERVABILITY-004", "RESILIENCE-010"}
EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
TRUST = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
)


@dataclass
class Estate:
    account_id: str
    task_definitions: dict[str, str]  # family -> ARN of revision 1


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _seed(moto: MotoServer) -> Estate:
    moto.reset()
    account_id = moto.client("sts").get_caller_identity()["Account"]
    iam = moto.client("iam")
    ssm = moto.client("ssm")
    secrets = moto.client("secretsmanager")
    logs = moto.client("logs")
    ecs = moto.client("ecs")

    def role(name: str, attached: tuple[str, ...] = (), inline: dict[str, str] | None = None) -> str:
        arn = iam.create_role(RoleName=name, Path="/ecs/", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        for policy_arn in attached:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        for policy_name, document in (inline or {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
        return arn

    db = secrets.create_secret(Name="good/db", SecretString='{"password":"e2e-not-a-real-password"}')["ARN"]
    doomed = secrets.create_secret(Name="broken/db", SecretString="e2e-doomed-value")["ARN"]
    secrets.delete_secret(SecretId=doomed, RecoveryWindowInDays=7)
    ssm.put_parameter(Name="/good/api-key", Value="e2e-secure-value", Type="SecureString")
    ssm.put_parameter(Name="/bad/api-key", Value="e2e-plain-value", Type="String")
    logs.create_log_group(logGroupName="/ecs/good")
    logs.put_retention_policy(logGroupName="/ecs/good", retentionInDays=30)
    logs.create_log_group(logGroupName="/ecs/forever")
    ecr = moto.client("ecr")
    ecr.create_repository(repositoryName="app")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": "sha256:" + "b" * 64},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": "sha256:" + "c" * 64}]}
    ecr.put_image(repositoryName="app", imageManifest=json.dumps(manifest), imageTag="1.0")
    registry = f"{account_id}.dkr.ecr.{REGION}.amazonaws.com"

    good_task = role("good-task", inline={"queue": _policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:{REGION}:{account_id}:jobs"})})
    good_exec = role(
        "good-exec",
        attached=(EXEC_POLICY,),
        inline={"secrets": _policy({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                                    "Resource": [db, f"arn:aws:ssm:{REGION}:{account_id}:parameter/good/*"]})},
    )
    admin_task = role("admin-task", attached=("arn:aws:iam::aws:policy/AdministratorAccess",))
    loose_exec = role("loose-exec", attached=(EXEC_POLICY,), inline={"all-secrets": _policy({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})})
    deleted_task = f"arn:aws:iam::{account_id}:role/ecs/deleted-task"  # never created

    def awslogs(group: str) -> dict[str, Any]:
        return {"logDriver": "awslogs", "options": {"awslogs-group": group, "awslogs-region": REGION, "awslogs-stream-prefix": "app"}}

    families = {
        "good": dict(
            taskRoleArn=good_task,
            executionRoleArn=good_exec,
            container=dict(
                image=f"{registry}/app:1.0",
                secrets=[{"name": "DB_PASSWORD", "valueFrom": f"{db}:password::"}, {"name": "API_KEY", "valueFrom": "/good/api-key"}],
                logConfiguration=awslogs("/ecs/good"),
            ),
        ),
        "admin": dict(taskRoleArn=admin_task, executionRoleArn=good_exec, container=dict(logConfiguration=awslogs("/ecs/good"))),
        "loose": dict(taskRoleArn=good_task, executionRoleArn=loose_exec, container=dict(logConfiguration=awslogs("/ecs/good"))),
        "plain": dict(
            executionRoleArn=good_exec,
            container=dict(secrets=[{"name": "API_KEY", "valueFrom": f"arn:aws:ssm:{REGION}:{account_id}:parameter/bad/api-key"}],
                           logConfiguration=awslogs("/ecs/good")),
        ),
        "forever": dict(executionRoleArn=good_exec, container=dict(logConfiguration=awslogs("/ecs/forever"))),
        "broken": dict(
            taskRoleArn=deleted_task,
            executionRoleArn=good_exec,
            container=dict(
                image=f"{registry}/app:0.9", secrets=[{"name": "DB_PASSWORD", "valueFrom": doomed}], logConfiguration=awslogs("/ecs/deleted")
            ),
        ),
    }
    ecs.create_cluster(clusterName=CLUSTER)
    arns: dict[str, str] = {}
    for family, spec in families.items():
        roles = {k: v for k, v in spec.items() if k != "container"}
        container = {"name": "app", "image": "public.ecr.aws/docker/library/nginx:1.27", "memory": 256, "essential": True, **spec["container"]}
        td = ecs.register_task_definition(family=family, networkMode="bridge", requiresCompatibilities=["EC2"], containerDefinitions=[container], **roles)
        arns[family] = td["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=CLUSTER, serviceName=family, taskDefinition=arns[family], desiredCount=1, launchType="EC2")
    return Estate(account_id=account_id, task_definitions=arns)


@dataclass
class Scan:
    run: Run
    report: dict[str, Any]
    calls: list[Call]


def _scan(moto: MotoServer, estate: Estate, work: Path, *denied: str) -> Scan:
    proxy = FaultProxy(moto.url, caller_arn=f"arn:aws:iam::{estate.account_id}:user/ecs-audit-e2e").start()
    try:
        if denied:
            proxy.deny(*denied)
        out = work / "report"
        run = run_cli(["scan", "--region", REGION, "-o", str(out), "-q"], aws_env(work / "home", proxy.url), cwd=work)
        report = read_report(out / "report.json") if (out / "report.json").exists() else {}
        return Scan(run, report, list(proxy.calls))
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    return _seed(moto_server)


@pytest.fixture(scope="module")
def scanned(moto_server: MotoServer, estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return _scan(moto_server, estate, tmp_path_factory.mktemp("identity"))


def _results(scan: Scan, check: str, family: str, estate: Estate, container: str | None = None) -> list[dict[str, Any]]:
    arn = estate.task_definitions[family]
    return [
        f for f in scan.report["findings"]
        if f["check_id"] == check and f["resource"]["arn"] == arn and f.get("container") == container
    ]


GOOD = [
    ("SECURITY-007", "good", "app"),
    ("SECURITY-009", "good", None),
    ("SECURITY-010", "good", None),
    ("OBSERVABILITY-004", "good", "app"),
    ("RESILIENCE-010", "good", None),
]

PLANTED = [
    ("SECURITY-007", "plain", "app", "WARN", ["/bad/api-key (String)"]),
    ("SECURITY-009", "admin", None, "FAIL", ["AdministratorAccess is attached"]),
    ("SECURITY-010", "loose", None, "WARN", ["secretsmanager:GetSecretValue on *"]),
    ("OBSERVABILITY-004", "forever", "app", "WARN", ["/ecs/forever has no retention period"]),
    (
        "RESILIENCE-010", "broken", None, "FAIL",
        ["task role deleted-task", "secret broken/db", "scheduled for deletion", "log group /ecs/deleted", "image app:0.9"],
    ),
]


def test_the_scan_runs_and_my_services_record_no_errors(scanned: Scan) -> None:
    assert scanned.run.returncode == 0, scanned.run
    mine = [e for e in scanned.report["errors"] if e["service"] in ("iam", "ssm", "secretsmanager", "logs")]
    assert mine == []


@pytest.mark.parametrize(("check", "family", "container"), GOOD, ids=lambda v: str(v))
def test_the_well_configured_service_passes(scanned: Scan, estate: Estate, check: str, family: str, container: str | None) -> None:
    results = _results(scanned, check, family, estate, container)
    assert [f["status"] for f in results] == ["PASS"], [(f["status"], f["message"]) for f in results]


@pytest.mark.parametrize(("check", "family", "container", "status", "fragments"), PLANTED, ids=lambda v: str(v))
def test_each_planted_defect_is_found_on_its_resource(
    scanned: Scan, estate: Estate, check: str, family: str, container: str | None, status: str, fragments: list[str]
) -> None:
    results = _results(scanned, check, family, estate, container)
    assert [f["status"] for f in results] == [status], results
    for fragment in fragments:
        assert fragment in results[0]["message"], results[0]["message"]


def test_each_role_and_shared_policy_is_read_once_and_no_secret_value_is_read(scanned: Scan) -> None:
    count = lambda key: sum(1 for c in scanned.calls if c.key == key)  # noqa: E731
    # good-task, good-exec, admin-task, loose-exec, and the deleted role (NoSuchEntity)
    assert count("iam.GetRole") == 5
    # AmazonECSTaskExecutionRolePolicy is attached to two roles, AdministratorAccess to one: read once each
    assert count("iam.GetPolicy") == 2 and count("iam.GetPolicyVersion") == 2
    # two parameters, one batch; two secrets, one call each; three log groups, one batch
    assert count("ssm.DescribeParameters") == 1
    assert count("secretsmanager.DescribeSecret") == 2
    assert count("logs.DescribeLogGroups") == 1
    assert not {c.action for c in scanned.calls} & {"secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters"}
    assert not [c.action for c in scanned.calls if c.mutating]


def test_no_seeded_secret_value_reaches_the_report(scanned: Scan) -> None:
    text = json.dumps(scanned.report)
    for value in ("e2e-not-a-real-password", "e2e-doomed-value", "e2e-secure-value", "e2e-plain-value"):
        assert value not in text


# --- one service's main call denied ----------------------------------------------------------------

DENIALS = {
    "iam:GetRole": [("SECURITY-009", "good", None), ("SECURITY-009", "admin", None), ("SECURITY-010", "good", None),
                    ("SECURITY-010", "loose", None), ("RESILIENCE-010", "good", None)],
    "ssm:DescribeParameters": [("SECURITY-007", "good", "app"), ("SECURITY-007", "plain", "app"), ("RESILIENCE-010", "plain", None)],
    "secretsmanager:DescribeSecret": [("RESILIENCE-010", "good", None)],
    "logs:DescribeLogGroups": [("OBSERVABILITY-004", "good", "app"), ("OBSERVABILITY-004", "forever", "app"), ("RESILIENCE-010", "forever", None)],
}


@pytest.fixture(scope="module", params=sorted(DENIALS))
def denied(request: pytest.FixtureRequest, moto_server: MotoServer, estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Scan]]:
    action = request.param
    yield action, _scan(moto_server, estate, tmp_path_factory.mktemp("denied"), action)


def _key(f: dict[str, Any]) -> tuple:
    return (f["check_id"], f["resource"]["arn"], f.get("container"))


def test_a_denied_call_makes_exactly_the_checks_that_need_it_unknown(denied: tuple[str, Scan], scanned: Scan, estate: Estate) -> None:
    action, scan = denied
    assert scan.run.returncode == 0, scan.run
    assert [c for c in scan.calls if c.action == action and c.injected], f"{action} was never called"
    for check, family, container in DENIALS[action]:
        results = _results(scan, check, family, estate, container)
        assert [f["status"] for f in results] == ["UNKNOWN"], (action, check, family, results)
        assert action in results[0]["message"], results[0]["message"]
    before = {_key(f): f for f in scanned.report["findings"]}
    changed = [
        (_key(f), before[_key(f)]["status"], f["status"], f["message"])
        for f in scan.report["findings"]
        if _key(f) in before and before[_key(f)]["status"] != f["status"]
    ]
    assert changed, "nothing changed"
    assert all(check in MY_CHECKS and status == "UNKNOWN" and action in message for (check, _, _), _, status, message in changed), changed
    errors = [e for e in scan.report["errors"] if e["permission"] == action]
    assert errors and all(e["error_code"] in ("AccessDenied", "AccessDeniedException") for e in errors), scan.report["errors"]


def test_the_other_deleted_references_still_fail_when_one_call_is_denied(denied: tuple[str, Scan], estate: Estate) -> None:
    action, scan = denied
    results = _results(scan, "RESILIENCE-010", "broken", estate)
    assert [f["status"] for f in results] == ["FAIL"], results
    if action != "ssm:DescribeParameters":  # the broken service references no parameter
        assert "could not be verified" in results[0]["message"], results[0]["message"]


def test_the_good_service_s_references_were_all_verified(scanned: Scan, estate: Estate) -> None:
    [result] = _results(scanned, "RESILIENCE-010", "good", estate)
    assert result["evidence"]["verified"] == {"images": 1, "log_groups": 1, "parameters": 1, "roles": 2, "secrets": 1}, result
