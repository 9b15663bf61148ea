"""The Inspector collector against a fake API that enforces the ListFindings filter and page limits."""

from __future__ import annotations

from typing import Any

from ecs_audit.collect import inspector
from ecs_audit.collect.base import CollectContext
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.ecr import EcrInventory
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.session import ClientFactory
from tests.support.estate import ACCOUNT, build_ecs
from tests.support.fake_api import ApiFault, FakeApi, page

REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def finding(image_digest: str, cve: str, severity: str, repository: str = "app") -> dict[str, Any]:
    return {
        "findingArn": f"arn:aws:inspector2:us-east-1:{ACCOUNT}:finding/{repository}-{image_digest[-6:]}-{cve}",
        "awsAccountId": ACCOUNT,
        "type": "PACKAGE_VULNERABILITY",
        "description": "d",
        "remediation": {},
        "severity": severity,
        "status": "ACTIVE",
        "firstObservedAt": "2026-10-01T00:00:00Z",
        "lastObservedAt": "2026-10-30T00:00:00Z",
        "resources": [
            {
                "type": "AWS_ECR_CONTAINER_IMAGE",
                "id": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{repository}/{image_digest}",
                "details": {"awsEcrContainerImage": {"repositoryName": repository, "imageHash": image_digest, "registry": ACCOUNT}},
            }
        ],
        "packageVulnerabilityDetails": {"vulnerabilityId": cve, "source": "NVD", "vulnerablePackages": [{"name": "openssl", "version": "3.0.1"}]},
    }


class FakeInspector:
    def __init__(self, status: str = "ENABLED") -> None:
        self.status = status
        self.findings: list[dict[str, Any]] = []
        self.ignore_filter = False
        self.denied = False

    def install(self, api: FakeApi) -> None:
        api.on("inspector2.BatchGetAccountStatus", self.account_status)
        api.on("inspector2.GetConfiguration", lambda p: {"ecrConfiguration": {"rescanDurationState": {"rescanDuration": "DAYS_30", "status": "SUCCESS"}}})
        api.on("inspector2.ListFindings", self.list_findings)

    def account_status(self, p: dict[str, Any]) -> dict[str, Any]:
        assert p["accountIds"] == [ACCOUNT]
        state = {"status": self.status, "errorCode": "ALREADY_ENABLED", "errorMessage": "-"}
        return {"accounts": [{"accountId": ACCOUNT, "state": state, "resourceState": {"ec2": state, "ecr": state}}], "failedAccounts": []}

    def list_findings(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.denied:
            raise ApiFault("AccessDeniedException", "not authorized to perform inspector2:ListFindings")
        criteria = p["filterCriteria"]
        hashes = [f["value"] for f in criteria["ecrImageHash"]]
        assert 1 <= len(hashes) <= 10
        assert all(f["comparison"] == "EQUALS" for f in criteria["ecrImageHash"])
        assert criteria["findingStatus"] == [{"comparison": "EQUALS", "value": "ACTIVE"}]
        selected = [f for f in self.findings if self.ignore_filter or f["resources"][0]["details"]["awsEcrContainerImage"]["imageHash"] in hashes]
        return page(selected, p, "findings", 10, 100)


def _region(images: list[str], tasks: list[dict[str, Any]] | None = None, ecr: EcrInventory | None = None) -> RegionInventory:
    tds = [{"family": f"f{i}", "containerDefinitions": [{"name": "c", "image": image}]} for i, image in enumerate(images)]
    return RegionInventory(account_id=ACCOUNT, region="us-east-1", ecs=build_ecs({"task_definitions": tds, "tasks": tasks or []}), ecr=ecr)


def _collect(fake: FakeInspector, region: RegionInventory):
    api = FakeApi()
    fake.install(api)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", max_workers=4)
    return api, ctx, inspector.collect(ctx, AuditConfig(), region)


def test_25_digests_take_three_filtered_calls_and_findings_are_paginated_100_a_page():
    fake = FakeInspector()
    fake.findings = [finding(digest(0), f"CVE-2026-{i:04}", "HIGH") for i in range(250)] + [finding(digest(24), "CVE-2026-9", "CRITICAL")]
    api, ctx, inventory = _collect(fake, _region([f"{REGISTRY}/app@{digest(i)}" for i in range(25)]))
    assert ctx.errors == []
    assert api.calls["inspector2.BatchGetAccountStatus"] == 1
    assert api.calls["inspector2.GetConfiguration"] == 1
    batches = [[f["value"] for f in p["filterCriteria"]["ecrImageHash"]] for key, p in api.requests if key == "inspector2.ListFindings" and "nextToken" not in p]
    assert sorted(len(b) for b in batches) == [5, 10, 10]
    assert sorted(d for b in batches for d in b) == [digest(i) for i in range(25)]  # each digest asked once
    assert all(p["maxResults"] == 100 for key, p in api.requests if key == "inspector2.ListFindings")
    assert api.calls["inspector2.ListFindings"] == 5  # 250 findings of one batch: three pages
    assert inventory.findings[digest(0)].severity_counts == {"HIGH": 250}
    assert inventory.findings[digest(24)].severity_counts == {"CRITICAL": 1}
    assert inventory.findings[digest(24)].top[0].describe() == "CVE-2026-9 (critical, openssl 3.0.1)"
    assert inventory.findings[digest(5)].total == 0  # asked about, clean
    assert inventory.rescan.rescan_duration == "DAYS_30" and inventory.ecr_status == "ENABLED"


def test_running_digests_and_tags_resolved_by_ecr_are_asked_about_not_foreign_images():
    ecr = EcrInventory.model_validate(
        {"in_use_repositories": ["web"], "images": [{"repositoryName": "web", "imageDigest": digest(2), "imageTags": ["1"]}]}
    )
    images = [f"{REGISTRY}/web:1", "nginx:1.27", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/far:1", "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared:1"]
    tasks = [{"taskDefinition": "f3:1", "containers": [{"name": "c", "imageDigest": digest(3)}]},
             {"taskDefinition": "f1:1", "containers": [{"name": "c", "imageDigest": digest(9)}]}]
    api, ctx, inventory = _collect(FakeInspector(), _region(images, tasks, ecr))
    asked = sorted(f["value"] for key, p in api.requests if key == "inspector2.ListFindings" for f in p["filterCriteria"]["ecrImageHash"])
    assert asked == [digest(2), digest(3)]  # web:1 resolved by ECR; the other account's image in this region by its running digest


def test_findings_are_counted_once_per_vulnerability_and_foreign_digests_are_ignored():
    fake = FakeInspector()
    fake.ignore_filter = True  # an endpoint (like moto) that does not apply filterCriteria
    fake.findings = [
        finding(digest(1), "CVE-1", "HIGH", "app"),
        finding(digest(1), "CVE-1", "HIGH", "copy"),  # the same image pushed to a second repository
        finding(digest(1), "CVE-2", "MEDIUM"),
        finding(digest(7), "CVE-3", "CRITICAL"),  # not asked about
    ]
    api, ctx, inventory = _collect(fake, _region([f"{REGISTRY}/app@{digest(1)}"]))
    assert inventory.findings[digest(1)].severity_counts == {"HIGH": 1, "MEDIUM": 1}
    assert digest(7) not in inventory.findings


def test_scanning_off_skips_list_findings():
    api, ctx, inventory = _collect(FakeInspector("DISABLED"), _region([f"{REGISTRY}/app@{digest(1)}"]))
    assert api.calls["inspector2.ListFindings"] == 0
    assert inventory.ecr_status == "DISABLED" and inventory.findings == {}


def test_a_denied_list_findings_is_recorded_against_the_images_it_was_about():
    fake = FakeInspector()
    fake.denied = True
    api, ctx, inventory = _collect(fake, _region([f"{REGISTRY}/app@{digest(1)}"]))
    assert [(e.action, e.resources) for e in ctx.errors] == [
        ("inspector2:ListFindings", [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app/{digest(1)}"])
    ]
    assert inventory.findings == {}


def test_no_ecr_image_in_the_region_costs_no_call():
    api, ctx, inventory = _collect(FakeInspector(), _region(["nginx:1.27"]))
    assert sum(api.calls.values()) == 0
    assert inventory.account is None


def test_an_account_missing_from_the_status_answer_is_an_error_not_a_default():
    fake = FakeInspector()
    api = FakeApi()
    fake.install(api)
    api.on("inspector2.BatchGetAccountStatus", lambda p: {"accounts": [], "failedAccounts": []})
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = inspector.collect(ctx, AuditConfig(), _region([f"{REGISTRY}/app@{digest(1)}"]))
    assert inventory.account is None
    assert [e.action for e in ctx.errors] == ["inspector2:BatchGetAccountStatus"]
