"""Amazon ECR: every repository of this account's private registry in this region, and the images
that in-use task definitions reference in it.

Shapes mirror DescribeRepositories, GetRegistryScanningConfiguration and DescribeImages; the rest are
records of our own. Maps keyed by repository name hold only what was read: a missing key means "not
read" (the failure is in the errors), and NO_POLICY means the API said there is none.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from fnmatch import fnmatchcase

from ecs_audit.inventory.base import AwsShape, Record

# GetLifecyclePolicy / GetRepositoryPolicy answered "not found": the repository has no such policy.
NO_POLICY = "none"
# DescribeImageScanFindings answered ScanNotFoundException: the image was never scanned.
SCAN_NOT_FOUND = "NOT_FOUND"

# Severities from most to least severe, as ECR and Inspector name them.
SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED")


def severity_rank(severity: str | None) -> int:
    """Higher is worse; unknown severities rank lowest."""
    name = (severity or "").upper()
    return len(SEVERITY_ORDER) - SEVERITY_ORDER.index(name) if name in SEVERITY_ORDER else 0


# --- repositories ----------------------------------------------------------------------------


class ImageScanningConfiguration(AwsShape):
    scan_on_push: bool = False


class EncryptionConfiguration(AwsShape):
    encryption_type: str | None = None
    kms_key: str | None = None


class ImageTagMutabilityExclusionFilter(AwsShape):
    filter_type: str | None = None
    filter: str


class Repository(AwsShape):
    repository_arn: str
    repository_name: str
    registry_id: str | None = None
    repository_uri: str | None = None
    created_at: datetime | None = None
    image_tag_mutability: str | None = None
    image_tag_mutability_exclusion_filters: list[ImageTagMutabilityExclusionFilter] = []
    image_scanning_configuration: ImageScanningConfiguration | None = None
    encryption_configuration: EncryptionConfiguration | None = None


# --- registry scanning -----------------------------------------------------------------------


class ScanningRepositoryFilter(AwsShape):
    filter: str
    filter_type: str | None = None

    def matches(self, repository_name: str) -> bool:
        """ECR's rule: without a wildcard the filter matches names that contain it; with one, `*`
        stands for zero or more characters of the whole name."""
        if "*" not in self.filter:
            return self.filter in repository_name
        return fnmatchcase(repository_name, self.filter)


class RegistryScanningRule(AwsShape):
    scan_frequency: str
    repository_filters: list[ScanningRepositoryFilter] = []

    def matches(self, repository_name: str) -> bool:
        # A rule without filters matches nothing: never assume coverage.
        return any(f.matches(repository_name) for f in self.repository_filters)

    def label(self) -> str:
        return f"{self.scan_frequency} [{', '.join(f.filter for f in self.repository_filters)}]"


class RegistryScanningConfiguration(AwsShape):
    scan_type: str = "BASIC"
    rules: list[RegistryScanningRule] = []

    def rules_for(self, repository_name: str) -> list[RegistryScanningRule]:
        return [rule for rule in self.rules if rule.matches(repository_name)]

    @property
    def is_enhanced(self) -> bool:
        return self.scan_type == "ENHANCED"


class RepositoryScanningConfiguration(AwsShape):
    """BatchGetRepositoryScanningConfiguration: the scanning that actually applies to one repository
    (the registry rule that matched it, or its own deprecated scanOnPush)."""

    repository_name: str
    repository_arn: str | None = None
    scan_on_push: bool | None = None
    scan_frequency: str | None = None
    applied_scan_filters: list[ScanningRepositoryFilter] = []


# --- images ----------------------------------------------------------------------------------


class ImageScanStatus(AwsShape):
    status: str | None = None
    description: str | None = None


class ImageScanFindingsSummary(AwsShape):
    image_scan_completed_at: datetime | None = None
    vulnerability_source_updated_at: datetime | None = None
    finding_severity_counts: dict[str, int] = {}


class ImageDetail(AwsShape):
    registry_id: str | None = None
    repository_name: str
    image_digest: str
    image_tags: list[str] = []
    image_size_in_bytes: int | None = None
    image_pushed_at: datetime | None = None
    image_scan_status: ImageScanStatus | None = None
    image_scan_findings_summary: ImageScanFindingsSummary | None = None
    last_recorded_pull_time: datetime | None = None
    image_status: str | None = None


class Vulnerability(Record):
    """One vulnerability, reduced to what a report lists."""

    id: str
    severity: str
    package: str | None = None

    def describe(self) -> str:
        return f"{self.id} ({self.severity.lower()}{', ' + self.package if self.package else ''})"


def top_vulnerabilities(items: list[Vulnerability], limit: int = 5) -> list[Vulnerability]:
    """The most severe first, one entry per id."""
    seen: dict[str, Vulnerability] = {}
    for item in items:
        kept = seen.get(item.id)
        if kept is None or severity_rank(item.severity) > severity_rank(kept.severity):
            seen[item.id] = item
    ordered = sorted(seen.values(), key=lambda v: (-severity_rank(v.severity), v.id))
    return ordered[:limit]


class ScanFindings(Record):
    """DescribeImageScanFindings of one image under BASIC scanning."""

    repository_name: str
    image_digest: str
    # The API's scan status, or SCAN_NOT_FOUND when the image was never scanned.
    status: str
    completed_at: datetime | None = None
    severity_counts: dict[str, int] = {}
    top: list[Vulnerability] = []


class MissingImage(Record):
    """An image a task definition references that DescribeImages says does not exist."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    def describe(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"


class EcrInventory(Record):
    """This registry's repositories and its side of the in-use images (nothing from other registries,
    accounts or regions)."""

    # When the data was read: the reference for image and scan ages.
    collected_at: datetime | None = None
    # Repositories that in-use task definitions and running tasks pull from (existing or not).
    in_use_repositories: list[str] = []
    # Every repository of the registry in this region, in use or not (DescribeRepositories).
    repositories: list[Repository] = []
    # Referenced repositories that do not exist (RepositoryNotFoundException).
    missing_repositories: list[str] = []
    registry_scanning: RegistryScanningConfiguration | None = None
    # The effective scanning of each existing in-use repository (None: not read, the failure is recorded).
    repository_scanning: dict[str, RepositoryScanningConfiguration] | None = None
    # Repository name -> policy text, or NO_POLICY (every repository).
    lifecycle_policies: dict[str, str] = {}
    repository_policies: dict[str, str] = {}
    # KMS key as named by a repository's encryptionConfiguration.kmsKey -> KeyManager (AWS or CUSTOMER).
    kms_key_managers: dict[str, str] = {}
    # Images of in-use definitions, running tasks and rollback targets (by tag or digest).
    images: list[ImageDetail] = []
    missing_images: list[MissingImage] = []
    # BASIC scan findings of in-use image digests, where DescribeImages alone did not suffice.
    scan_findings: list[ScanFindings] = []

    def repository(self, name: str) -> Repository | None:
        for repository in self.repositories:
            if repository.repository_name == name:
                return repository
        return None

    def find_image(self, repository: str, *, tag: str | None = None, digest: str | None = None) -> ImageDetail | None:
        """The described image with this digest (or, without a digest, carrying this tag)."""
        if digest is not None:
            return self._images_by_reference.get((repository, "digest", digest))
        if tag is not None:
            return self._images_by_reference.get((repository, "tag", tag))
        return None

    @cached_property
    def _images_by_reference(self) -> dict[tuple[str, str, str], ImageDetail]:
        """The first described image of each (repository, "digest", digest) and (repository, "tag",
        tag): every in-use container's image is looked up, by several checks."""
        index: dict[tuple[str, str, str], ImageDetail] = {}
        for image in self.images:
            index.setdefault((image.repository_name, "digest", image.image_digest), image)
            for tag in image.image_tags:
                index.setdefault((image.repository_name, "tag", tag), image)
        return index

    def is_missing(self, repository: str, *, tag: str | None = None, digest: str | None = None) -> bool:
        """True when the repository, or this image in it, is known not to exist."""
        if repository in self.missing_repositories:
            return True
        for missing in self.missing_images:
            if missing.repository != repository:
                continue
            if digest is not None and missing.digest == digest:
                return True
            if digest is None and tag is not None and missing.tag == tag:
                return True
        return False

    def scan(self, digest: str) -> ScanFindings | None:
        for findings in self.scan_findings:
            if findings.image_digest == digest:
                return findings
        return None
