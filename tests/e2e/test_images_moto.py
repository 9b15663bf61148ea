"""End to end for images and registry: ECR repositories and images, Amazon Inspector (IMAGE-002, IMAGE-003,
IMAGE-004, IMAGE-005, IMAGE-007, IMAGE-008, IMAGE-009, IMAGE-010, CICD-006).

A small estate of its own is seeded into the moto server: well-configured repositories and services and
one planted defect per check. The installed CLI scans it through the tests' proxy, which answers what
moto lacks the way AWS does (Inspector's GetConfiguration; DISABLED for an account that never activated
Inspector; scan status of ENHANCED-scanned images). Then the main calls are denied one at a time and
exactly these checks must turn UNKNOWN, naming the permission.

A second account (an assumed role, isolated in moto) runs ENHANCED scanning with Inspector active, where
IMAGE-004 passes and IMAGE-005 is judged from Inspector's findings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import base_env, run_cli
from tests.support.report_json import read_report
from tests.support.deny import Scan, assert_denial_confined, denied_scans, scan_through_proxy
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy, api_reply, error_reply

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
CLUSTER = "images"
OTHER_ACCOUNT = "111111111111"  # the ENHANCED-scanning account
PARTNER_ACCOUNT = "210987654321"
MY_CHECKS = {"IMAGE-002", "IMAGE-003", "IMAGE-004", "IMAGE-005", "IMAGE-007", "IMAGE-008", "IMAGE-009", "IMAGE-010", "CICD-006"}
# Checks of other groups that read ECR data too (images that no longer exist).
ECR_READERS = {"RESILIENCE-010"}
NOW = datetime.now(timezone.utc)
LIFECYCLE = json.dumps(
    {"rules": [{"rulePriority": 1, "description": "expire untagged", "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                                                   "countUnit": "days", "countNumber": 7}, "action": {"type": "expire"}}]}
)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
ORG_PULL = _policy({"Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-e2eexample"}}})
PUBLIC_PULL = _policy({"Sid": "AnyonePull", "Effect": "Allow", "Principal": "*", "Action": PULL})
PARTNER_PULL = _policy({"Sid": "PartnerPull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER_ACCOUNT}:root"}, "Action": PULL})


@dataclass
class Repo:
    """A repository and what the well-configured default changes for its planted defect."""

    mutability: str = "IMMUTABLE"
    scan_on_push: bool = True
    kms: bool = True
    lifecycle: bool = True
    policy: str | None = ORG_PULL
    size_mib: int = 80


REPOS = {
    "good-app": Repo(),
    "mutable-app": Repo(mutability="MUTABLE"),
    "unscanned-app": Repo(scan_on_push=False),
    "hoard-app": Repo(lifecycle=False),
    "public-app": Repo(policy=PUBLIC_PULL),
    "partner-app": Repo(policy=PARTNER_PULL),
    "aes-app": Repo(kms=False),
    "vuln-app": Repo(),
    "big-app": Repo(size_mib=1200),
    "gone-app": Repo(),
}


@dataclass
class Estate:
    account_id: str
    credentials: dict[str, str]
    task_definitions: dict[str, str]  # family -> ARN of the revision its service runs
    services: dict[str, str]  # family -> service ARN
    repositories: dict[str, str]  # name -> ARN
    digests: dict[str, str]  # "repo:tag" -> digest

    def repo_arn(self, name: str) -> str:
        return self.repositories[name]


def _session(credentials: dict[str, str]) -> boto3.Session:
    return boto3.Session(region_name=REGION, **credentials)


def _push(ecr: Any, repository: str, tag: str, size_mib: int) -> str:
    seed = hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": size_mib * 2**20,
                   "digest": "sha256:" + hashlib.sha256(seed.encode()).hexdigest()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size_mib * 2**20, "digest": f"sha256:{seed}"}],
    }
    return ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)["image"]["imageId"]["imageDigest"]


def _seed_scan(moto: MotoServer, account_id: str, repository: str, tag: str, image_digest: str, counts: dict[str, int],
               findings: list[dict[str, Any]]) -> None:
    """A completed basic scan of one image, as DescribeImageScanFindings returns it."""
    body = {
        "registryId": account_id,
        "repositoryName": repository,
        "imageId": {"imageTag": tag, "imageDigest": image_digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {"imageScanCompletedAt": (NOW - timedelta(days=1)).isoformat(), "findingSeverityCounts": counts, "findings": findings},
    }
    requests.post(f"{moto.url}/moto-api/static/ecr/scan-finding-results",
                  json={"results": [body], "region": REGION, "account_id": account_id}, timeout=10).raise_for_status()


def _seed_estate(moto: MotoServer, credentials: dict[str, str], repos: dict[str, Repo], families: dict[str, list[str]]) -> Estate:
    """Repositories, images, and one service per family running the last of its revisions (images "repo:tag")."""
    session = _session(credentials)
    client = lambda service: session.client(service, endpoint_url=moto.url)  # noqa: E731
    account_id = client("sts").get_caller_identity()["Account"]
    ecr, ecs, kms = client("ecr"), client("ecs"), client("kms")
    key = kms.create_key(Description="ecr images")["KeyMetadata"]["Arn"]
    repositories: dict[str, str] = {}
    digests: dict[str, str] = {}
    wanted_tags: dict[str, set[str]] = {}
    for images in families.values():
        for image in images:
            name, tag = image.split(":")
            wanted_tags.setdefault(name, set()).add(tag)
    for name, repo in repos.items():
        encryption = {"encryptionType": "KMS", "kmsKey": key} if repo.kms else {"encryptionType": "AES256"}
        created = ecr.create_repository(repositoryName=name, imageTagMutability=repo.mutability,
                                        imageScanningConfiguration={"scanOnPush": repo.scan_on_push}, encryptionConfiguration=encryption)
        repositories[name] = created["repository"]["repositoryArn"]
        if repo.lifecycle:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=LIFECYCLE)
        if repo.policy:
            ecr.set_repository_policy(repositoryName=name, policyText=repo.policy)
        for tag in sorted(wanted_tags.get(name, ())):
            digests[f"{name}:{tag}"] = _push(ecr, name, tag, repo.size_mib)
    ecs.create_cluster(clusterName=CLUSTER)
    task_definitions: dict[str, str] = {}
    services: dict[str, str] = {}
    host = f"{account_id}.dkr.ecr.{REGION}.amazonaws.com"
    for family, images in families.items():
        for image in images:
            reference = f"{host}/{image}" if image.split(":")[0] in repos else image
            td = ecs.register_task_definition(
                family=family, networkMode="bridge", requiresCompatibilities=["EC2"],
                containerDefinitions=[{"name": "app", "image": reference, "memory": 256, "essential": True}],
            )
            task_definitions[family] = td["taskDefinition"]["taskDefinitionArn"]
        services[family] = ecs.create_service(cluster=CLUSTER, serviceName=family, taskDefinition=task_definitions[family],
                                              desiredCount=1, launchType="EC2")["service"]["serviceArn"]
    return Estate(account_id, credentials, task_definitions, services, repositories, digests)


# Family -> the images of its revisions, oldest first (the service runs the last).
FAMILIES = {
    "good": ["good-app:0.9", "good-app:1.0"],
    "mutable": ["mutable-app:1"],
    "unscanned": ["unscanned-app:1"],
    "hoard": ["hoard-app:1"],
    "public": ["public-app:1"],
    "partner": ["partner-app:1"],
    "aes": ["aes-app:1"],
    "vuln": ["vuln-app:1"],
    "big": ["big-app:1"],
    "norollback": ["good-app:0.9", "good-app:1.0"],
    "gone": ["gone-app:old", "gone-app:new"],
    "hub": ["public.ecr.aws/docker/library/nginx:1.27"],
}


def _seed(moto: MotoServer) -> Estate:
    moto.reset()
    estate = _seed_estate(moto, {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}, REPOS, FAMILIES)
    session = _session(estate.credentials)
    ecr = session.client("ecr", endpoint_url=moto.url)
    ecs = session.client("ecs", endpoint_url=moto.url)
    # BASIC scanning on push for repositories named *good* (the others rely on their own setting).
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH",
                                                                      "repositoryFilters": [{"filter": "good", "filterType": "WILDCARD"}]}])
    # Rollback targets: norollback's previous revision is deregistered; gone's previous image deleted.
    ecs.deregister_task_definition(taskDefinition="norollback:1")
    ecr.batch_delete_image(repositoryName="gone-app", imageIds=[{"imageTag": "old"}])
    # Basic scans: good-app:1.0 clean, vuln-app:1 with critical findings; the others never scanned.
    for name, tag in (("good-app", "1.0"), ("vuln-app", "1")):
        ecr.start_image_scan(repositoryName=name, imageId={"imageTag": tag})
    _seed_scan(moto, estate.account_id, "good-app", "1.0", estate.digests["good-app:1.0"], {"LOW": 1},
               [{"name": "CVE-2026-0100", "severity": "LOW", "attributes": [{"key": "package_name", "value": "zlib"}]}])
    _seed_scan(moto, estate.account_id, "vuln-app", "1", estate.digests["vuln-app:1"], {"CRITICAL": 2, "HIGH": 1},
               [{"name": "CVE-2026-0001", "severity": "CRITICAL", "attributes": [{"key": "package_name", "value": "openssl"},
                                                                                  {"key": "package_version", "value": "3.0.1"}]},
                {"name": "CVE-2026-0002", "severity": "CRITICAL"}, {"name": "CVE-2026-0003", "severity": "HIGH"}])
    return estate


# --- what the proxy answers for moto ---------------------------------------------------------------


def _realistic(proxy: FaultProxy, *, inspector_active: bool) -> None:
    """Answer the Inspector and ECR calls moto lacks (or answers differently) as AWS does."""

    def account_status(call: Call, body: dict[str, Any]) -> None:
        answered = {a.get("accountId") for a in body.get("accounts", [])}
        for account in call.params().get("accountIds", []):
            if account not in answered:  # never activated: AWS says DISABLED, moto says nothing
                disabled = {"status": "DISABLED"}
                body.setdefault("accounts", []).append(
                    {"accountId": account, "state": dict(disabled), "resourceState": {"ec2": dict(disabled), "ecr": dict(disabled)}})

    proxy.rewrite_json("inspector2.BatchGetAccountStatus", account_status)

    def configuration(call: Call) -> Any:
        if not inspector_active:
            return error_reply(call, "ResourceNotFoundException", "Inspector has not been enabled for this account in this Region.", 404)
        return api_reply(call, {"ecrConfiguration": {"rescanDurationState": {
            "rescanDuration": "LIFETIME", "status": "SUCCESS", "updatedAt": NOW - timedelta(days=30),
            "pullDateRescanDuration": "DAYS_90", "pullDateRescanMode": "LAST_PULL_DATE"}}})

    proxy.add_fault("inspector2.GetConfiguration", configuration, name="stub inspector2.GetConfiguration")

    if inspector_active:
        def scan_status(call: Call, body: dict[str, Any]) -> None:
            for image in body.get("imageDetails", []):  # ENHANCED: Inspector monitors every image continuously
                image.setdefault("imageScanStatus", {"status": "ACTIVE", "description": "Continuous scan is selected for image."})
                image.setdefault("imageScanFindingsSummary", {"imageScanCompletedAt": (NOW - timedelta(hours=3)).timestamp()})

        proxy.rewrite_json("ecr.DescribeImages", scan_status)


def _scan(moto: MotoServer, estate: Estate, work: Path, *denied: str, inspector_active: bool = False, extra: tuple[str, ...] = ()) -> Scan:
    env = {"AWS_ACCESS_KEY_ID": estate.credentials["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": estate.credentials["aws_secret_access_key"],
           **({"AWS_SESSION_TOKEN": estate.credentials["aws_session_token"]} if "aws_session_token" in estate.credentials else {})}
    return scan_through_proxy(moto.url, estate.account_id, work, [REGION], denied,
                              prepare=lambda proxy: _realistic(proxy, inspector_active=inspector_active), env=env, extra=extra)


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    return _seed(moto_server)


@pytest.fixture(scope="module")
def scanned(moto_server: MotoServer, estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return _scan(moto_server, estate, tmp_path_factory.mktemp("images"))


def _arn(estate: Estate, kind: str, key: str) -> str:
    return {"repo": estate.repositories, "taskdef": estate.task_definitions, "service": estate.services}[kind][key]


def _results(scan: Scan, check: str, arn: str, container: str | None = None) -> list[dict[str, Any]]:
    return [f for f in scan.report["findings"] if f["check_id"] == check and f["resource"]["arn"] == arn and f.get("container") == container]


# (check, kind, key, container)
GOOD = [
    ("IMAGE-002", "repo", "good-app", None),
    ("IMAGE-003", "repo", "good-app", None),
    ("IMAGE-005", "taskdef", "good", "app"),
    ("IMAGE-007", "taskdef", "good", "app"),
    ("IMAGE-008", "repo", "good-app", None),
    ("IMAGE-009", "repo", "good-app", None),
    ("IMAGE-010", "repo", "good-app", None),
    ("CICD-006", "service", "good", None),
]

# (check, kind, key, container, status, message fragments)
PLANTED = [
    ("IMAGE-002", "repo", "mutable-app", None, "FAIL", ["MUTABLE"]),
    ("IMAGE-003", "repo", "unscanned-app", None, "FAIL", ["MANUAL"]),
    # The registry has rules and none matches: the repository's own (deprecated) scanOnPush no longer counts.
    ("IMAGE-003", "repo", "mutable-app", None, "FAIL", ["effective scan frequency is MANUAL"]),
    ("IMAGE-004", "account", "", None, "FAIL", ["DISABLED"]),
    ("IMAGE-005", "taskdef", "vuln", "app", "FAIL", ["2 critical and 1 high", "CVE-2026-0001 (critical, openssl 3.0.1)"]),
    ("IMAGE-005", "taskdef", "big", "app", "UNKNOWN", ["never been scanned"]),
    ("IMAGE-005", "taskdef", "hub", "app", "NOT_APPLICABLE", ["not in this account's ECR registry in us-east-1"]),
    ("IMAGE-007", "taskdef", "big", "app", "FAIL", ["1200 MiB"]),
    ("IMAGE-008", "repo", "hoard-app", None, "FAIL", ["no lifecycle policy"]),
    ("IMAGE-009", "repo", "public-app", None, "FAIL", ["AnyonePull"]),
    ("IMAGE-009", "repo", "partner-app", None, "WARN", [f"account {PARTNER_ACCOUNT}"]),
    ("IMAGE-010", "repo", "aes-app", None, "WARN", ["AES256"]),
    ("CICD-006", "service", "norollback", None, "FAIL", ["no earlier revision of norollback is ACTIVE"]),
    ("CICD-006", "service", "gone", None, "FAIL", ["gone-app:old"]),
    ("CICD-006", "service", "hub", None, "NOT_APPLICABLE", ["hub:1"]),
]


def _resource(estate: Estate, kind: str, key: str) -> str:
    return f"arn:aws:iam::{estate.account_id}:root" if kind == "account" else _arn(estate, kind, key)


def test_the_scan_runs_and_records_no_error_of_mine(scanned: Scan) -> None:
    assert scanned.run.returncode == 0, scanned.run
    mine = [e for e in scanned.report["errors"] if e["service"] in ("ecr", "inspector2", "kms")]
    assert mine == []


@pytest.mark.parametrize(("check", "kind", "key", "container"), GOOD, ids=lambda v: str(v))
def test_the_well_configured_resources_pass(scanned: Scan, estate: Estate, check: str, kind: str, key: str, container: str | None) -> None:
    results = _results(scanned, check, _resource(estate, kind, key), container)
    assert [f["status"] for f in results] == ["PASS"], [(f["status"], f["message"]) for f in results]


@pytest.mark.parametrize(("check", "kind", "key", "container", "status", "fragments"), PLANTED, ids=lambda v: str(v))
def test_each_planted_defect_is_found_on_its_resource(
    scanned: Scan, estate: Estate, check: str, kind: str, key: str, container: str | None, status: str, fragments: list[str]
) -> None:
    results = _results(scanned, check, _resource(estate, kind, key), container)
    assert [f["status"] for f in results] == [status], [(f["status"], f["message"]) for f in results]
    for fragment in fragments:
        assert fragment in results[0]["message"], results[0]["message"]


def test_the_critical_image_is_a_critical_finding(scanned: Scan, estate: Estate) -> None:
    (finding,) = _results(scanned, "IMAGE-005", estate.task_definitions["vuln"], "app")
    assert finding["severity"] == "critical"


def test_calls_are_targeted_batched_and_read_only(scanned: Scan, estate: Estate) -> None:
    count = lambda key: sum(1 for c in scanned.calls if c.key == key)  # noqa: E731
    assert count("ecr.DescribeRepositories") == 1  # ten in-use repositories, one batch
    assert count("ecr.GetRegistryScanningConfiguration") == 1
    assert count("ecr.GetLifecyclePolicy") == len(REPOS) and count("ecr.GetRepositoryPolicy") == len(REPOS)
    # one call per repository for its in-use images and rollback targets; gone-app's batch names a deleted
    # image, so it is split in two to find which
    assert count("ecr.DescribeImages") == len(REPOS) + 2
    described = [(c.params()["repositoryName"], json.dumps(i, sort_keys=True))
                 for c in scanned.calls if c.key == "ecr.DescribeImages" and c.status == 200 for i in c.params()["imageIds"]]
    assert len(described) == len(set(described))  # each image described once
    assert count("kms.DescribeKey") == 1  # one customer key shared by the repositories
    assert count("inspector2.ListFindings") == 0  # Inspector's ECR scanning is off
    assert not [c.action for c in scanned.calls if c.mutating]
    assert not {c.action for c in scanned.calls} & {"ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}
    # "not found" answers are evidence (no policy, never scanned, deleted image), never errors
    not_found = {(c.action, c.status) for c in scanned.calls if c.status != 200}
    assert {a for a, _ in not_found} <= {"ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:DescribeImageScanFindings",
                                         "ecr:DescribeImages", "inspector2:GetConfiguration"}, not_found


# --- the main calls denied ---------------------------------------------------------------------

REPO_CHECKS = [("IMAGE-002", "good-app"), ("IMAGE-003", "good-app"), ("IMAGE-008", "good-app"), ("IMAGE-009", "good-app"),
               ("IMAGE-010", "good-app"), ("IMAGE-002", "mutable-app")]
DENIALS: dict[str, list[tuple[str, str, str, str | None]]] = {
    "ecr:DescribeRepositories": [(check, "repo", repo, None) for check, repo in REPO_CHECKS],
    "ecr:DescribeImages": [("IMAGE-005", "taskdef", "good", "app"), ("IMAGE-005", "taskdef", "vuln", "app"),
                           ("IMAGE-007", "taskdef", "good", "app"), ("IMAGE-007", "taskdef", "big", "app"),
                           ("CICD-006", "service", "good", None), ("CICD-006", "service", "gone", None)],
    "ecr:GetRegistryScanningConfiguration": [("IMAGE-003", "repo", "good-app", None), ("IMAGE-004", "account", "", None),
                                             ("IMAGE-005", "taskdef", "good", "app")],
    "ecr:GetLifecyclePolicy": [("IMAGE-008", "repo", "good-app", None), ("IMAGE-008", "repo", "hoard-app", None)],
    "ecr:GetRepositoryPolicy": [("IMAGE-009", "repo", "good-app", None), ("IMAGE-009", "repo", "public-app", None)],
    "inspector2:BatchGetAccountStatus": [("IMAGE-004", "account", "", None)],
}


denied = denied_scans(DENIALS, _scan)


def test_a_denied_call_makes_exactly_the_checks_that_need_it_unknown(denied: tuple[str, Scan], scanned: Scan, estate: Estate) -> None:
    action, scan = denied
    expected = {(check, key, container): _results(scan, check, _resource(estate, kind, key), container) for check, kind, key, container in DENIALS[action]}
    assert_denial_confined(action, scan, scanned, expected, MY_CHECKS | ECR_READERS, count_new=True)


# --- ENHANCED scanning with Inspector active (a second, isolated account) --------------------------

ENHANCED_REPOS = {"good-app": Repo(), "vuln-app": Repo()}
ENHANCED_FAMILIES = {"good": ["good-app:1.0"], "vuln": ["vuln-app:1"], "unseen": ["good-app:2.0"]}


def _inspector_finding(account_id: str, repository: str, image_digest: str, cve: str, severity: str) -> dict[str, Any]:
    return {
        "findingArn": f"arn:aws:inspector2:{REGION}:{account_id}:finding/{hashlib.md5((repository + cve).encode()).hexdigest()}",
        "awsAccountId": account_id,
        "type": "PACKAGE_VULNERABILITY",
        "description": f"{cve} in a package",
        "remediation": {"recommendation": {"text": "upgrade"}},
        "severity": severity,
        "status": "ACTIVE",
        "firstObservedAt": (NOW - timedelta(days=5)).timestamp(),
        "lastObservedAt": (NOW - timedelta(hours=3)).timestamp(),
        "resources": [{"type": "AWS_ECR_CONTAINER_IMAGE", "id": f"arn:aws:ecr:{REGION}:{account_id}:repository/{repository}/{image_digest}",
                       "details": {"awsEcrContainerImage": {"repositoryName": repository, "imageHash": image_digest, "registry": account_id}}}],
        "packageVulnerabilityDetails": {"vulnerabilityId": cve, "source": "NVD",
                                        "vulnerablePackages": [{"name": "glibc", "version": "2.31"}]},
    }


@pytest.fixture(scope="module")
def enhanced(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Estate, Scan]:
    sts = moto_server.client("sts")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/ecs-audit", RoleSessionName="e2e")["Credentials"]
    creds = {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
             "aws_session_token": credentials["SessionToken"]}
    estate = _seed_estate(moto_server, creds, ENHANCED_REPOS, ENHANCED_FAMILIES)
    session = _session(creds)
    session.client("ecr", endpoint_url=moto_server.url).put_registry_scanning_configuration(
        scanType="ENHANCED", rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}])
    session.client("inspector2", endpoint_url=moto_server.url).enable(accountIds=[estate.account_id], resourceTypes=["ECR"])
    # moto hands out ListFindings answers from a queue regardless of the filter: one answer for the one call
    # (three digests, one batch); the collector attributes findings by their image digest.
    findings = [
        _inspector_finding(estate.account_id, "vuln-app", estate.digests["vuln-app:1"], "CVE-2026-4242", "CRITICAL"),
        _inspector_finding(estate.account_id, "vuln-app", estate.digests["vuln-app:1"], "CVE-2026-4243", "HIGH"),
        _inspector_finding(estate.account_id, "good-app", estate.digests["good-app:1.0"], "CVE-2026-0100", "LOW"),
    ]
    requests.post(f"{moto_server.url}/moto-api/static/inspector2/findings-results",
                  json={"results": [findings], "account_id": estate.account_id, "region": REGION}, timeout=10).raise_for_status()
    return estate, _scan(moto_server, estate, tmp_path_factory.mktemp("enhanced"), inspector_active=True)


def test_enhanced_scanning_with_inspector_passes_image_004_and_judges_image_005_by_inspector(enhanced: tuple[Estate, Scan]) -> None:
    estate, scan = enhanced
    assert scan.run.returncode == 0, scan.run
    assert estate.account_id == OTHER_ACCOUNT
    assert [e for e in scan.report["errors"] if e["service"] in ("ecr", "inspector2", "kms")] == []
    status = lambda check, arn, container=None: [(f["status"], f["message"]) for f in _results(scan, check, arn, container)]  # noqa: E731
    assert [s for s, _ in status("IMAGE-004", f"arn:aws:iam::{OTHER_ACCOUNT}:root")] == ["PASS"]
    (vuln,) = _results(scan, "IMAGE-005", estate.task_definitions["vuln"], "app")
    assert (vuln["status"], vuln["severity"]) == ("FAIL", "critical") and "CVE-2026-4242 (critical, glibc 2.31)" in vuln["message"]
    assert [s for s, _ in status("IMAGE-005", estate.task_definitions["good"], "app")] == ["PASS"]
    assert [s for s, _ in status("IMAGE-005", estate.task_definitions["unseen"], "app")] == ["PASS"]  # scanned (ACTIVE), no findings
    listed = [c for c in scan.calls if c.key == "inspector2.ListFindings"]
    assert len(listed) == 1
    hashes = sorted(f["value"] for f in listed[0].params()["filterCriteria"]["ecrImageHash"])
    assert hashes == sorted({estate.digests["vuln-app:1"], estate.digests["good-app:1.0"], estate.digests["good-app:2.0"]})
    assert [c.key for c in scan.calls if c.key == "ecr.DescribeImageScanFindings"] == []


# --- selecting checks trims the calls ----------------------------------------------------------------

POLICY_ACTIONS = {"ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy"}


@pytest.fixture(scope="module")
def image_001_only(moto_server: MotoServer, estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> tuple[Scan, Path]:
    work = tmp_path_factory.mktemp("image-001")
    snapshot = work / "snap.json"
    return _scan(moto_server, estate, work, extra=("--checks", "IMAGE-001", "--save-snapshot", str(snapshot))), snapshot


def test_checks_image_001_reads_no_repository_policy(image_001_only: tuple[Scan, Path], scanned: Scan) -> None:
    scan, _ = image_001_only
    assert scan.run.returncode == 0, scan.run
    assert not [c.action for c in scan.calls if c.action in POLICY_ACTIONS]
    assert [c for c in scan.calls if c.action == "ecr:DescribeRepositories"]  # the repositories are still listed
    # a full selection reads both policies of every repository
    full = {c.action for c in scanned.calls}
    assert POLICY_ACTIONS <= full
    assert len([c for c in scanned.calls if c.action == "ecr:GetLifecyclePolicy"]) == len(REPOS)
    assert len(scan.calls) < len(scanned.calls)


def test_the_trimmed_snapshot_evaluated_with_the_policy_checks_is_unknown(image_001_only: tuple[Scan, Path], tmp_path: Path) -> None:
    _, snapshot = image_001_only
    out = tmp_path / "again"
    run = run_cli(["evaluate", str(snapshot), "-o", str(out), "--checks", "IMAGE-008,IMAGE-009"], base_env(tmp_path / "home"), cwd=tmp_path)
    assert run.returncode == 0, run
    findings = [f for f in read_report(out / "report.json")["findings"] if f["check_id"] in ("IMAGE-008", "IMAGE-009")]
    assert len(findings) >= 2 * len(REPOS)
    assert {f["status"] for f in findings} == {"UNKNOWN"}
    assert all("not collected in this run" in f["message"] for f in findings)
