"""End to end: `ecs-audit review` (installed CLI) against `scan` on a moto server.

Parity: every task definition of the demo account, saved as `aws ecs describe-task-definition
--include TAGS` prints it, is reviewed from the file; then the same definitions are registered in an
empty account (one cluster) and scanned. Every check the review decides from the file must reach the
same status and message as the scan; the review's other results must say why the file cannot decide.

--live: a definition whose task role is an administrator and whose log group exists is reviewed
against the account through the guarded session and the scan's collectors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ecs_audit.demo.account import HOME_REGION, PLANTED_SECRET_VALUES
from ecs_audit.demo.builders import images, scan_result
from ecs_audit.demo.seeder import Region, Seeder
from tests.e2e.conftest import aws_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.report_json import read_report
from tests.support.seed import seed_mixed_estate

pytestmark = pytest.mark.e2e

_READ_ONLY_FIELDS = ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy", "deregisteredAt")


def _demo_definitions(server: MotoServer) -> list[dict[str, Any]]:
    """The demo's ACTIVE task definitions (latest revision of each family), as describe-task-definition prints them."""
    seed_mixed_estate(server)
    ecs = server.client("ecs", HOME_REGION)
    families = ecs.list_task_definition_families(status="ACTIVE")["families"]
    out = []
    for family in sorted(families):
        described = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
        out.append(json.loads(json.dumps({"taskDefinition": described["taskDefinition"], "tags": described.get("tags", [])}, default=str)))
    return out


# Checks whose verdict depends on whether a service runs the revision, not only on the definition.
_DEPENDS_ON_DEPLOYMENT = frozenset({"TASKDEF-004"})


def _key(finding: dict[str, Any]) -> tuple[str, str, str]:
    return (finding["check_id"], finding["resource"]["name"].rsplit(":", 1)[0], finding.get("container") or "")


def test_review_of_a_file_equals_the_scan_of_the_registered_definition(moto_server: MotoServer, tmp_path: Path) -> None:
    definitions = _demo_definitions(moto_server)
    assert len(definitions) >= 5, "the demo should have several task definition families"
    files = tmp_path / "defs"
    files.mkdir()
    for item in definitions:
        (files / f"{item['taskDefinition']['family']}.json").write_text(json.dumps(item, indent=2))

    # The same definitions registered in an empty account with one cluster (a region without clusters is not audited).
    moto_server.reset()
    ecs = moto_server.client("ecs", HOME_REGION)
    ecs.create_cluster(clusterName="review-parity")
    for item in definitions:
        body = {k: v for k, v in item["taskDefinition"].items() if k not in _READ_ONLY_FIELDS}
        ecs.register_task_definition(**body, **({"tags": item["tags"]} if item["tags"] else {}))

    env = aws_env(tmp_path / "home", moto_server.url, AWS_DEFAULT_REGION=HOME_REGION)
    scan = run_cli(["scan", "--region", HOME_REGION, "--format", "json", "-o", str(tmp_path / "scan"), "-q"], env, tmp_path, timeout=300)
    assert scan.returncode == 0, str(scan)
    review = run_cli(["review", str(files), "--format", "json", "-o", str(tmp_path / "review"), "--region", HOME_REGION], env, tmp_path)
    assert review.returncode == 0, str(review)

    review_doc = (tmp_path / "review" / "review.json").read_text()
    for secret in PLANTED_SECRET_VALUES:
        assert secret not in review_doc
    reviewed = json.loads(review_doc)["findings"]
    families = {item["taskDefinition"]["family"] for item in definitions}
    scanned = [f for f in read_report(tmp_path / "scan" / "report.json")["findings"]
               if f["resource"]["type"] == "AWS::ECS::TaskDefinition" and f["resource"]["name"].rsplit(":", 1)[0] in families]
    scan_by_key = {_key(f): f for f in scanned}

    decided = [f for f in reviewed if f["status"] != "UNKNOWN"]
    undecided = [f for f in reviewed if f["status"] == "UNKNOWN"]
    assert len({f["check_id"] for f in decided}) >= 20, sorted({f["check_id"] for f in decided})
    mismatches = []
    for finding in decided:
        other = scan_by_key.get(_key(finding))
        if other is not None and finding["check_id"] in _DEPENDS_ON_DEPLOYMENT and "no service uses it" in other["message"]:
            # The parity account runs no service, which a scan knows and a definition file cannot say:
            # the review judges the definition as a service would run it (TASKDEF-004 FAIL, not WARN).
            assert (other["status"], finding["status"]) in {("WARN", "FAIL"), ("PASS", "PASS"), ("NOT_APPLICABLE", "NOT_APPLICABLE")}, (other, finding)
            continue
        if other is None or (other["status"], other["message"]) != (finding["status"], finding["message"]):
            mismatches.append((_key(finding), finding["status"], finding["message"], other and (other["status"], other["message"])))
    assert not mismatches, mismatches
    # And the other way: every result the scan has for a check the review runs, the review has too.
    reviewed_checks = {f["check_id"] for f in reviewed}
    reviewed_keys = {_key(f) for f in reviewed}
    missing = [k for k in scan_by_key if k[0] in reviewed_checks and k not in reviewed_keys]
    assert not missing, missing
    # Nothing the review leaves open is open for another reason than the file, except an image in another
    # account's registry (the demo's images, re-registered here in moto's default account), which a scan
    # cannot read either (IMAGE-005 names that account).
    for finding in undecided:
        assert finding["message"].startswith("not decidable from a definition file") or (
            "'s ECR registry" in finding["message"] and finding["check_id"].startswith("IMAGE-")
        ), finding
    # Every file was recognised as describe-task-definition output.
    assert {f["format"] for f in json.loads(review_doc)["files"]} == {"describe-task-definition"}


# Without a cluster the region runs nothing, yet the reviewed definition's images are still read
# (review3 item 7: the ECR collector returned early and IMAGE-005 went UNKNOWN).
@pytest.mark.parametrize("with_cluster", [True, False], ids=["cluster", "no-cluster"])
def test_live_review_reads_roles_and_log_groups_through_the_collectors(moto_server: MotoServer, tmp_path: Path, with_cluster: bool) -> None:
    moto_server.reset()
    iam = moto_server.client("iam", HOME_REGION)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="review-admin", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="review-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    if with_cluster:
        moto_server.client("ecs", HOME_REGION).create_cluster(clusterName="default")
    moto_server.client("logs", HOME_REGION).create_log_group(logGroupName="/ecs/live")
    seeder = Seeder(moto_server.session(), home_region=HOME_REGION, endpoint_url=moto_server.url)
    moto_server.client("ecr", HOME_REGION).create_repository(
        repositoryName="shop", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True}
    )
    region = Region(seeder, HOME_REGION, {}, SimpleNamespace(images={}), variables={}, names=())
    images(region, images={"shop:1.0": 40})
    scan_result(region, image="shop:1.0", severities={"CRITICAL": 3, "HIGH": 1})
    definition = {
        "family": "live", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "taskRoleArn": role,
        "containerDefinitions": [{
            "name": "app", "image": f"{seeder.ecr_host(HOME_REGION)}/shop:1.0", "cpu": 256, "memory": 512, "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/live", "awslogs-region": HOME_REGION, "awslogs-stream-prefix": "app"}},
        }],
    }
    path = tmp_path / "live.json"
    path.write_text(json.dumps(definition))
    env = aws_env(tmp_path / "home", moto_server.url, AWS_DEFAULT_REGION=HOME_REGION)

    offline = run_cli(["review", str(path), "--format", "json"], env, tmp_path)
    live = run_cli(["review", str(path), "--format", "json", "--live", "--fail-on", "high"], env, tmp_path)
    assert offline.returncode == 0, str(offline)
    assert live.returncode == 1, str(live)  # the administrator task role is a high FAIL
    off = {f["check_id"]: f for f in json.loads(offline.stdout)["findings"]}
    on = {f["check_id"]: f for f in json.loads(live.stdout)["findings"]}
    assert off["SECURITY-009"]["status"] == "UNKNOWN" and off["SECURITY-009"]["message"].startswith("not decidable")
    assert on["SECURITY-009"]["status"] == "FAIL", on["SECURITY-009"]
    assert off["OBSERVABILITY-004"]["status"] == "UNKNOWN"
    assert on["OBSERVABILITY-004"]["status"] in ("FAIL", "WARN"), on["OBSERVABILITY-004"]  # exists, no retention
    # "This change deploys an image with 3 critical CVEs."
    assert off["IMAGE-005"]["status"] == "UNKNOWN" and off["IMAGE-005"]["message"].startswith("not decidable")
    assert on["IMAGE-005"]["status"] == "FAIL" and "3 critical" in on["IMAGE-005"]["message"].lower(), (on["IMAGE-005"]["message"], on["IMAGE-005"].get("evidence"))
    assert on["IMAGE-007"]["status"] != "UNKNOWN", on["IMAGE-007"]
    assert on["OBSERVABILITY-004"]["resource"]["arn"].startswith("arn:aws:ecs:us-east-1:123456789012:")
