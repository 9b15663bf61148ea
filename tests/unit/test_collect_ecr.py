"""The ECR collector against a fake API that enforces ECR's batch limits and "not found" semantics."""

from __future__ import annotations

from typing import Any

from ecs_audit.collect import ecr
from ecs_audit.collect.base import CollectContext
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.ecr import NO_POLICY, SCAN_NOT_FOUND
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.session import ClientFactory
from tests.support.estate import ACCOUNT, build_ecs
from tests.support.fake_api import ApiFault, FakeApi, page

REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
REPO_ARN = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


class FakeEcr:
    """Repositories of images: name -> {digest: [tags]}; policies and scan findings by name/digest."""

    def __init__(self) -> None:
        self.repositories: dict[str, dict[str, list[str]]] = {}
        self.lifecycle: dict[str, str] = {}
        self.policies: dict[str, str] = {}
        self.summaries: dict[str, dict[str, Any]] = {}  # digest -> imageScanFindingsSummary (and status COMPLETE)
        self.scans: dict[str, list[dict[str, Any]]] = {}  # digest -> findings (DescribeImageScanFindings)
        self.scanning: dict[str, Any] = {"scanType": "BASIC", "rules": []}
        self.encryption: dict[str, dict[str, str]] = {}
        self.key_managers: dict[str, str] = {}
        self.denied: set[tuple[str, str]] = set()

    def add(self, repository: str, images: dict[str, list[str]] | None = None) -> None:
        self.repositories[repository] = images or {}

    def batch_get_repository_scanning(self, p: dict) -> dict:
        """AWS's effective setting: the first matching registry rule's frequency, else MANUAL."""
        assert 1 <= len(p["repositoryNames"]) <= 25
        out = []
        for name in p["repositoryNames"]:
            rule = next((r for r in (self.scanning or {}).get("rules", []) if any(f["filter"] in name or f["filter"] == "*" for f in r["repositoryFilters"])), None)
            out.append({"repositoryName": name, "repositoryArn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}", "scanOnPush": False,
                        "scanFrequency": rule["scanFrequency"] if rule else "MANUAL", "appliedScanFilters": rule["repositoryFilters"][:1] if rule else []})
        return {"scanningConfigurations": out, "failures": []}

    def install(self, api: FakeApi) -> None:
        api.on("ecr.DescribeRepositories", self.describe_repositories)
        api.on("ecr.GetRegistryScanningConfiguration", lambda p: {"registryId": ACCOUNT, "scanningConfiguration": self.scanning})
        api.on("ecr.BatchGetRepositoryScanningConfiguration", self.batch_get_repository_scanning)
        api.on("ecr.GetLifecyclePolicy", lambda p: self.policy(p, self.lifecycle, "lifecyclePolicyText", "LifecyclePolicyNotFoundException"))
        api.on("ecr.GetRepositoryPolicy", lambda p: self.policy(p, self.policies, "policyText", "RepositoryPolicyNotFoundException"))
        api.on("ecr.DescribeImages", self.describe_images)
        api.on("ecr.DescribeImageScanFindings", self.describe_image_scan_findings)
        api.on("kms.DescribeKey", lambda p: {"KeyMetadata": {"KeyId": p["KeyId"], "KeyManager": self.key_managers[p["KeyId"]]}})

    def _deny(self, operation: str, repository: str) -> None:
        if (operation, repository) in self.denied:
            raise ApiFault("AccessDeniedException", f"not authorized to perform ecr:{operation}")

    def _repository(self, name: str) -> dict[str, list[str]]:
        if name not in self.repositories:
            raise ApiFault("RepositoryNotFoundException", f"The repository with name '{name}' does not exist in the registry with id '{ACCOUNT}'")
        return self.repositories[name]

    def describe_repositories(self, p: dict[str, Any]) -> dict[str, Any]:
        """The registry's repositories, listed (maxResults 1..1000, default 100) or named (1..100 names,
        never with pagination parameters)."""
        if "repositoryNames" in p:
            names = p["repositoryNames"]
            assert 1 <= len(names) <= 100, len(names)
            assert "nextToken" not in p and "maxResults" not in p
            for name in names:
                self._deny("DescribeRepositories", name)
                self._repository(name)
            return {"repositories": [self.repository(name) for name in names]}
        self._deny("DescribeRepositories", "*")
        return page([self.repository(name) for name in sorted(self.repositories)], p, "repositories", 100, 1000)

    def repository(self, name: str) -> dict[str, Any]:
        return {
            "repositoryArn": REPO_ARN + name,
            "repositoryName": name,
            "registryId": ACCOUNT,
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfiguration": self.encryption.get(name, {"encryptionType": "AES256"}),
        }

    def policy(self, p: dict[str, Any], store: dict[str, str], field: str, not_found: str) -> dict[str, Any]:
        self._repository(p["repositoryName"])
        if p["repositoryName"] not in store:
            raise ApiFault(not_found, "no policy")
        return {"registryId": ACCOUNT, "repositoryName": p["repositoryName"], field: store[p["repositoryName"]]}

    def describe_images(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = p["imageIds"]
        assert 1 <= len(ids) <= 100, len(ids)
        self._deny("DescribeImages", p["repositoryName"])
        images = self._repository(p["repositoryName"])
        found = []
        for image_id in ids:
            assert len(image_id) == 1, image_id  # by digest or by tag, never both
            match = [d for d, tags in images.items() if d == image_id.get("imageDigest") or image_id.get("imageTag") in tags]
            if not match:
                raise ApiFault("ImageNotFoundException", f"The image with imageId {image_id} does not exist within the repository")
            found.append(match[0])
        return {"imageDetails": [self.detail(p["repositoryName"], d) for d in sorted(set(found))]}

    def detail(self, repository: str, image_digest: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "registryId": ACCOUNT,
            "repositoryName": repository,
            "imageDigest": image_digest,
            "imageTags": self.repositories[repository][image_digest],
            "imageSizeInBytes": 50 * 2**20,
            "imagePushedAt": "2026-10-01T00:00:00Z",
        }
        if image_digest in self.summaries:
            out["imageScanStatus"] = {"status": "COMPLETE"}
            out["imageScanFindingsSummary"] = self.summaries[image_digest]
        return out

    def describe_image_scan_findings(self, p: dict[str, Any]) -> dict[str, Any]:
        assert set(p["imageId"]) == {"imageDigest"}
        image_digest = p["imageId"]["imageDigest"]
        if image_digest not in self.scans:
            raise ApiFault("ScanNotFoundException", "no scan")
        findings = self.scans[image_digest]
        counts: dict[str, int] = {}
        for f in findings:
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        body = page(findings, p, "findings", 100, 1000)
        out = {
            "imageScanStatus": {"status": "COMPLETE"},
            "imageScanFindings": {"findingSeverityCounts": counts, "imageScanCompletedAt": "2026-10-30T00:00:00Z", "findings": body["findings"]},
        }
        if "nextToken" in body:
            out["nextToken"] = body["nextToken"]
        return out


def _estate(images: list[str], *, tasks: list[dict[str, Any]] | None = None, **extra: Any) -> RegionInventory:
    """One task definition per image (family f<i>, container c), each in use by a service f<i>
    unless `idle` is set (then only the latest revisions of idle families)."""
    tds = [{"family": f"f{i}", "containerDefinitions": [{"name": "c", "image": image}]} for i, image in enumerate(images)]
    services = [] if extra.pop("idle", False) else [{"serviceName": f"f{i}", "cluster": "c1", "taskDefinition": f"f{i}:1"} for i in range(len(images))]
    extra_tds = extra.pop("task_definitions", [])
    services += extra.pop("services", [])
    ecs = build_ecs({"task_definitions": tds + extra_tds, "services": services, "tasks": tasks or [], **extra})
    return RegionInventory(account_id=ACCOUNT, region="us-east-1", ecs=ecs)


def _collect(fake: FakeEcr, region: RegionInventory):
    api = FakeApi()
    fake.install(api)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", max_workers=8)
    return api, ctx, ecr.collect(ctx, AuditConfig(), region)


def _image_ids(api: FakeApi) -> list[tuple[str, str]]:
    return [
        (p["repositoryName"], next(iter(i.values())))
        for key, p in api.requests
        if key == "ecr.DescribeImages"
        for i in p["imageIds"]
    ]


def test_150_repositories_take_one_listing_call_and_one_of_each_per_repository_call():
    fake = FakeEcr()
    for i in range(150):
        fake.add(f"r{i:03}", {digest(i): ["1"]})
    fake.lifecycle = {f"r{i:03}": '{"rules": []}' for i in range(0, 150, 2)}
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/r{i:03}:1" for i in range(150)]))
    assert ctx.errors == []
    assert api.calls["ecr.DescribeRepositories"] == 1  # 1000 a page
    assert api.calls["ecr.GetRegistryScanningConfiguration"] == 1
    assert api.calls["ecr.BatchGetRepositoryScanningConfiguration"] == 6  # 25 repositories a call
    assert len(inventory.repository_scanning or {}) == 150
    assert api.calls["ecr.GetLifecyclePolicy"] == 150
    assert api.calls["ecr.GetRepositoryPolicy"] == 150
    assert api.calls["ecr.DescribeImages"] == 150
    assert len(inventory.repositories) == 150
    assert inventory.lifecycle_policies["r000"] == '{"rules": []}'
    assert inventory.lifecycle_policies["r001"] == NO_POLICY
    assert set(inventory.repository_policies.values()) == {NO_POLICY}


def test_250_images_of_one_repository_are_described_100_at_a_time_each_once():
    fake = FakeEcr()
    fake.add("app", {digest(i): [f"v{i}"] for i in range(250)})
    # every tag twice (two definitions), and running tasks reporting digests
    images = [f"{REGISTRY}/app:v{i}" for i in range(250)] * 2
    tasks = [{"taskDefinition": "f0:1", "containers": [{"name": "c", "imageDigest": digest(i)}]} for i in range(3)]
    api, ctx, inventory = _collect(fake, _estate(images, tasks=tasks))
    assert ctx.errors == []
    ids = _image_ids(api)
    assert len(ids) == len(set(ids)) == 253  # 250 tags + 3 running digests, each asked once
    assert api.calls["ecr.DescribeImages"] == 3
    assert len(inventory.images) == 250


def test_a_deleted_repository_is_missing_because_the_listing_lacks_it():
    fake = FakeEcr()
    for i in range(100):
        if i != 37:
            fake.add(f"r{i:03}", {digest(i): ["1"]})
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/r{i:03}:1" for i in range(100)]))
    assert ctx.errors == []
    assert inventory.missing_repositories == ["r037"]
    assert len(inventory.repositories) == 99
    assert api.calls["ecr.DescribeRepositories"] == 1
    # no calls about the deleted repository at all
    assert ("r037", "1") not in _image_ids(api)
    assert not any(p.get("repositoryName") == "r037" for key, p in api.requests)
    assert inventory.is_missing("r037", tag="1")


def test_every_repository_of_the_region_is_listed_and_its_policies_read_once_in_use_or_not():
    fake = FakeEcr()
    for i in range(1001):
        fake.add(f"r{i:04}", {digest(i): ["1"]})
    fake.policies["r0500"] = '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}'
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/r0000:1", f"{REGISTRY}/r0001:1"]))
    assert ctx.errors == []
    assert api.calls["ecr.DescribeRepositories"] == 2  # 1000 a page
    assert len(inventory.repositories) == 1001
    assert inventory.in_use_repositories == ["r0000", "r0001"]
    assert api.calls["ecr.GetLifecyclePolicy"] == api.calls["ecr.GetRepositoryPolicy"] == 1001
    assert len({p["repositoryName"] for key, p in api.requests if key == "ecr.GetRepositoryPolicy"}) == 1001
    assert inventory.repository_policies["r0500"].startswith('{"Statement"')
    assert inventory.lifecycle_policies["r0500"] == NO_POLICY
    # only the in-use repositories' scanning and images: IMAGE-003 and the image checks judge only those
    assert api.calls["ecr.BatchGetRepositoryScanningConfiguration"] == 1
    assert sorted(inventory.repository_scanning or {}) == ["r0000", "r0001"]
    assert {p["repositoryName"] for key, p in api.requests if key == "ecr.DescribeImages"} == {"r0000", "r0001"}


def test_a_region_without_clusters_costs_no_call():
    fake = FakeEcr()
    fake.add("app", {digest(1): ["1"]})
    region = _estate([])
    region = region.model_copy(update={"ecs": region.ecs.model_copy(update={"clusters": []})})
    api, ctx, inventory = _collect(fake, region)
    assert sum(api.calls.values()) == 0
    assert inventory.repositories == []


def test_definitions_under_review_are_followed_in_a_region_without_clusters():
    # `ecs-audit review --live` adds the reviewed definitions (review/live.py amend) to a region that
    # may run nothing yet; their images and repositories are still read (review3 item 7).
    fake = FakeEcr()
    fake.add("app", {digest(1): ["1"]})
    fake.add("other", {digest(2): ["2"]})
    region = _estate([f"{REGISTRY}/app:1"], idle=True)
    reviewed = [td.task_definition_arn for td in region.ecs.task_definitions]
    region = region.model_copy(update={"ecs": region.ecs.model_copy(update={"clusters": [], "under_review": reviewed})})
    api, ctx, inventory = _collect(fake, region)
    assert ctx.errors == []
    assert inventory.in_use_repositories == ["app"]
    assert _image_ids(api) == [("app", "1")]
    assert [i.image_digest for i in inventory.images] == [digest(1)]
    assert sorted(inventory.repository_scanning or {}) == ["app"]


def test_deleted_images_are_recorded_as_missing_not_as_errors():
    fake = FakeEcr()
    fake.add("app", {digest(i): [f"v{i}"] for i in range(10) if i not in (3, 7)})
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/app:v{i}" for i in range(10)]))
    assert ctx.errors == []
    assert sorted(m.tag for m in inventory.missing_images) == ["v3", "v7"]
    assert len(inventory.images) == 8
    assert inventory.is_missing("app", tag="v3") and not inventory.is_missing("app", tag="v4")
    assert inventory.find_image("app", tag="v4").image_digest == digest(4)


def test_images_of_other_registries_accounts_and_regions_cost_only_the_listing():
    images = [
        "nginx:1.27",
        "public.ecr.aws/nginx/nginx:1.27",
        f"{REGISTRY.replace('us-east-1', 'eu-west-1')}/app:1",
        "210987654321.dkr.ecr.us-east-1.amazonaws.com/app:1",
    ]
    api, ctx, inventory = _collect(FakeEcr(), _estate(images))
    assert dict(api.calls) == {"ecr.DescribeRepositories": 1}  # the region's own repositories are judged regardless
    assert inventory.repositories == [] and inventory.in_use_repositories == []


def test_a_denied_describe_images_is_recorded_against_its_repository_only():
    fake = FakeEcr()
    fake.add("open", {digest(1): ["1"]})
    fake.add("closed", {digest(2): ["1"]})
    fake.denied.add(("DescribeImages", "closed"))
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/open:1", f"{REGISTRY}/closed:1"]))
    assert [(e.action, e.error_code, e.resources) for e in ctx.errors] == [
        ("ecr:DescribeImages", "AccessDeniedException", [REPO_ARN + "closed"])
    ]
    assert inventory.missing_images == []
    assert [i.repository_name for i in inventory.images] == ["open"]


def test_a_denied_describe_repositories_is_region_wide_and_images_are_still_read():
    fake = FakeEcr()
    fake.add("app", {digest(1): ["1"]})
    fake.denied.add(("DescribeRepositories", "*"))
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/app:1"]))
    assert [(e.action, e.resources) for e in ctx.errors] == [("ecr:DescribeRepositories", [])]
    assert inventory.repositories == [] and inventory.missing_repositories == []
    assert api.calls["ecr.GetLifecyclePolicy"] == 0
    assert len(inventory.images) == 1


def test_the_previous_active_revision_images_are_described_for_rollback():
    fake = FakeEcr()
    fake.add("app", {digest(1): ["1"], digest(2): ["2"]})
    fake.add("old", {})
    region = _estate(
        [],
        task_definitions=[{"family": "app", "revision": 2, "containerDefinitions": [{"name": "web", "image": f"{REGISTRY}/app:2"}]}],
        services=[{"serviceName": "web", "cluster": "c1", "taskDefinition": "app:2"}],
        families=[
            {
                "family": "app",
                "active_revisions": [1, 2],
                "older_revisions": [
                    {
                        "task_definition_arn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app:1",
                        "revision": 1,
                        "status": "ACTIVE",
                        "images": {"web": f"{REGISTRY}/app:1", "side": f"{REGISTRY}/old:9"},
                    }
                ],
            }
        ],
    )
    api, ctx, inventory = _collect(fake, region)
    assert ctx.errors == []
    assert sorted(_image_ids(api)) == [("app", "1"), ("app", "2"), ("old", "9")]
    assert inventory.in_use_repositories == ["app"]
    assert [r.repository_name for r in inventory.repositories] == ["app", "old"]  # listed, but a rollback target is not in use
    assert inventory.is_missing("old", tag="9")
    assert inventory.find_image("app", tag="1") is not None


def test_basic_scan_findings_are_read_only_where_describe_images_does_not_settle_them():
    fake = FakeEcr()
    fake.add("clean", {digest(1): ["1"]})
    fake.add("vulnerable", {digest(2): ["1"]})
    fake.add("unscanned", {digest(3): ["1"]})
    fake.add("never", {digest(4): ["1"]})
    fake.summaries[digest(1)] = {"findingSeverityCounts": {"LOW": 2}, "imageScanCompletedAt": "2026-10-30T00:00:00Z"}
    fake.summaries[digest(2)] = {"findingSeverityCounts": {"CRITICAL": 1}, "imageScanCompletedAt": "2026-10-30T00:00:00Z"}
    fake.scans[digest(2)] = [{"name": f"CVE-2026-{i:04}", "severity": "HIGH" if i else "CRITICAL",
                              "attributes": [{"key": "package_name", "value": "openssl"}, {"key": "package_version", "value": "3.0"}]}
                             for i in range(1500)]
    fake.scans[digest(3)] = [{"name": "CVE-2026-1", "severity": "MEDIUM"}]
    images = [f"{REGISTRY}/{name}:1" for name in ("clean", "vulnerable", "unscanned", "never")]
    api, ctx, inventory = _collect(fake, _estate(images))
    asked = sorted(p["imageId"]["imageDigest"] for key, p in api.requests if key == "ecr.DescribeImageScanFindings")
    assert asked == [digest(2), digest(2), digest(3), digest(4)]  # 1500 findings: two pages of 1000
    scans = {s.repository_name: s for s in inventory.scan_findings}
    assert scans["vulnerable"].severity_counts == {"HIGH": 1499, "CRITICAL": 1}
    assert scans["vulnerable"].top[0].id == "CVE-2026-0000" and scans["vulnerable"].top[0].package == "openssl 3.0"
    assert len(scans["vulnerable"].top) == 5
    assert scans["never"].status == SCAN_NOT_FOUND
    assert "clean" not in scans


def test_enhanced_scanning_reads_no_basic_scan_findings():
    fake = FakeEcr()
    fake.scanning = {"scanType": "ENHANCED", "rules": [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]}
    fake.add("app", {digest(1): ["1"]})
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/app:1"]))
    assert api.calls["ecr.DescribeImageScanFindings"] == 0
    assert inventory.registry_scanning.is_enhanced


def test_each_kms_key_is_described_once():
    fake = FakeEcr()
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"
    for name in ("aa", "bb", "cc"):
        fake.add(name, {digest(ord(name[0])): ["1"]})
        fake.encryption[name] = {"encryptionType": "KMS", "kmsKey": key}
    fake.key_managers[key] = "CUSTOMER"
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/{n}:1" for n in ("aa", "bb", "cc")]))
    assert api.calls["kms.DescribeKey"] == 1
    assert inventory.kms_key_managers == {key: "CUSTOMER"}


def test_the_collector_declares_what_it_calls_and_nothing_that_writes():
    actions = ecr.SOURCE.actions
    assert set(actions) <= ALLOWED_ACTIONS
    assert all(op.split(":")[1].startswith(("Describe", "Get", "List", "BatchGet")) for op in actions)
    assert "ecr:GetAuthorizationToken" not in actions and "ecr:GetDownloadUrlForLayer" not in actions


def test_a_repository_name_ecr_cannot_hold_is_missing_without_poisoning_the_batch():
    fake = FakeEcr()
    fake.add("app", {digest(1): ["1"]})
    api, ctx, inventory = _collect(fake, _estate([f"{REGISTRY}/app:1", f"{REGISTRY}/x:1"]))
    assert ctx.errors == []
    assert inventory.missing_repositories == ["x"]
    assert [r.repository_name for r in inventory.repositories] == ["app"]


def test_idle_families_images_are_described_but_their_repositories_are_not_in_use():
    fake = FakeEcr()
    fake.add("busy", {digest(1): ["1"]})
    fake.add("idle", {digest(2): ["1"]})
    region = _estate([f"{REGISTRY}/busy:1"], task_definitions=[{"family": "nightly", "containerDefinitions": [{"name": "c", "image": f"{REGISTRY}/idle:1"}]}])
    api, ctx, inventory = _collect(fake, region)
    assert ctx.errors == []
    assert inventory.in_use_repositories == ["busy"]
    assert [r.repository_name for r in inventory.repositories] == ["busy", "idle"]  # every repository is listed
    assert {i.repository_name for i in inventory.images} == {"busy", "idle"}


def test_paced_under_basic_scanning_the_images_in_use_are_sent_ahead_with_their_scan_findings():
    # ECS's IN_USE step (every task definition in use described) comes long before the other
    # families' and the rollback targets' revisions are read: the images in use and the scan findings
    # they call for are sent then, and the collector takes those answers; the repository's other
    # images (here the rollback target) take a second DescribeImages. The inventory is the same.
    from ecs_audit.pacing import Pacer

    fake = FakeEcr()
    fake.add("app", {digest(1): ["1"], digest(2): ["2"]})
    fake.summaries[digest(2)] = {"findingSeverityCounts": {"HIGH": 1}}
    fake.scans[digest(2)] = [{"name": "CVE-1", "severity": "HIGH"}]
    region = _estate(
        [],
        task_definitions=[{"family": "app", "revision": 2, "containerDefinitions": [{"name": "web", "image": f"{REGISTRY}/app:2"}]}],
        services=[{"serviceName": "web", "cluster": "c1", "taskDefinition": "app:2"}],
        families=[{
            "family": "app", "active_revisions": [1, 2],
            "older_revisions": [{
                "task_definition_arn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app:1", "revision": 1,
                "status": "ACTIVE", "images": {"web": f"{REGISTRY}/app:1"},
            }],
        }],
    )
    plain_api, _, plain = _collect(fake, region)  # nothing sent ahead: one call for both images
    assert plain_api.calls["ecr.DescribeImages"] == 1

    api = FakeApi()
    fake.install(api)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS, pacer=Pacer(1.0)), ACCOUNT, "us-east-1", max_workers=8)
    assert ctx.paced
    ctx.prefetch("ecr", "GetRegistryScanningConfiguration")  # as the runner does on the first definition
    in_use_view = region.ecs.model_copy(update={"families": []})  # IN_USE: no history read yet
    ecr.prefetch_in_use_images(ctx, in_use_view)
    ctx.sent_all_ahead()
    assert _image_ids(api) == [("app", "2")]
    assert api.calls["ecr.DescribeImageScanFindings"] == 1
    inventory = ecr.collect(ctx, AuditConfig(), region)
    ctx.settle()
    assert ctx.errors == []
    assert _image_ids(api) == [("app", "2"), ("app", "1")]  # one more call, for the rollback target
    assert api.calls["ecr.DescribeImageScanFindings"] == 1 and api.calls["ecr.GetRegistryScanningConfiguration"] == 1
    assert inventory.model_copy(update={"collected_at": plain.collected_at}) == plain
    assert [s.top[0].id for s in inventory.scan_findings] == ["CVE-1"]


def test_unpaced_or_enhanced_nothing_is_sent_ahead_and_each_repository_takes_one_call():
    from ecs_audit.pacing import Pacer

    fake = FakeEcr()
    fake.add("app", {digest(2): ["2"]})
    region = _estate([f"{REGISTRY}/app:2"])
    for paced, scan_type in ((False, "BASIC"), (True, "ENHANCED")):
        fake.scanning = {"scanType": scan_type, "rules": []}
        api = FakeApi()
        fake.install(api)
        ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS, pacer=Pacer(1.0), paced=paced), ACCOUNT, "us-east-1")
        ctx.prefetch("ecr", "GetRegistryScanningConfiguration")
        ecr.prefetch_in_use_images(ctx, region.ecs)
        ctx.sent_all_ahead()
        assert api.calls["ecr.DescribeImages"] == 0, (paced, scan_type)
        ecr.collect(ctx, AuditConfig(), region)
        assert api.calls["ecr.DescribeImages"] == 1
