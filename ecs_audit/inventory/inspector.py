"""Amazon Inspector: ECR scanning status, rescan configuration and findings for in-use image digests.

Shapes mirror BatchGetAccountStatus, GetConfiguration and ListFindings; findings are not kept as
returned but reduced per image digest to severity counts and the most severe vulnerabilities.
"""

from __future__ import annotations

from datetime import datetime

from ecs_audit.inventory.base import AwsShape, Record
from ecs_audit.inventory.ecr import Vulnerability

# --- BatchGetAccountStatus -------------------------------------------------------------------


class State(AwsShape):
    status: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class ResourceState(AwsShape):
    ecr: State | None = None


class AccountState(AwsShape):
    account_id: str
    state: State | None = None
    resource_state: ResourceState | None = None


# --- GetConfiguration ------------------------------------------------------------------------


class EcrRescanDurationState(AwsShape):
    rescan_duration: str | None = None  # LIFETIME or DAYS_<n>, counted from the push date
    status: str | None = None
    updated_at: datetime | None = None
    pull_date_rescan_duration: str | None = None  # DAYS_<n>, counted from the last pull or use
    pull_date_rescan_mode: str | None = None  # LAST_PULL_DATE or LAST_IN_USE_AT


class EcrConfigurationState(AwsShape):
    rescan_duration_state: EcrRescanDurationState | None = None


def duration_days(value: str | None) -> int | None:
    """DAYS_30 -> 30; LIFETIME and unknown values -> None (no limit known)."""
    if value and value.startswith("DAYS_") and value[5:].isdigit():
        return int(value[5:])
    return None


# --- ListFindings (read in the collector, stored reduced) -------------------------------------


class VulnerablePackage(AwsShape):
    name: str | None = None
    version: str | None = None


class PackageVulnerabilityDetails(AwsShape):
    vulnerability_id: str | None = None
    vulnerable_packages: list[VulnerablePackage] = []


class AwsEcrContainerImageDetails(AwsShape):
    repository_name: str | None = None
    image_hash: str | None = None
    registry: str | None = None


class ResourceDetails(AwsShape):
    aws_ecr_container_image: AwsEcrContainerImageDetails | None = None


class FindingResource(AwsShape):
    type: str | None = None
    id: str | None = None
    details: ResourceDetails | None = None


class Finding(AwsShape):
    finding_arn: str
    severity: str | None = None
    status: str | None = None
    title: str | None = None
    last_observed_at: datetime | None = None
    resources: list[FindingResource] = []
    package_vulnerability_details: PackageVulnerabilityDetails | None = None

    @property
    def image_digests(self) -> list[str]:
        out = []
        for resource in self.resources:
            image = resource.details.aws_ecr_container_image if resource.details else None
            if image and image.image_hash:
                out.append(image.image_hash)
        return out

    @property
    def vulnerability_id(self) -> str:
        details = self.package_vulnerability_details
        return (details.vulnerability_id if details else None) or self.title or self.finding_arn

    @property
    def package(self) -> str | None:
        details = self.package_vulnerability_details
        if not details or not details.vulnerable_packages:
            return None
        first = details.vulnerable_packages[0]
        return " ".join(part for part in (first.name, first.version) if part) or None


class ImageFindings(Record):
    """The ACTIVE Inspector findings of one image digest: counts by severity (one per vulnerability)
    and the most severe vulnerabilities."""

    severity_counts: dict[str, int] = {}
    top: list[Vulnerability] = []
    last_observed_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.severity_counts.values())


class InspectorInventory(Record):
    """Inspector's view of this account's ECR images in this region."""

    collected_at: datetime | None = None
    # BatchGetAccountStatus for this account (None: not read).
    account: AccountState | None = None
    # GetConfiguration's ECR part (None: not read).
    ecr_configuration: EcrConfigurationState | None = None
    # Image digest -> its findings; every digest asked about has an entry (zero counts when clean).
    findings: dict[str, ImageFindings] = {}

    @property
    def ecr_status(self) -> str | None:
        """ENABLED, DISABLED, ...: whether Inspector scans ECR images in this account; None if not read."""
        if self.account is None:
            return None
        state = self.account.resource_state.ecr if self.account.resource_state else None
        return state.status if state else None

    @property
    def rescan(self) -> EcrRescanDurationState | None:
        return self.ecr_configuration.rescan_duration_state if self.ecr_configuration else None
