"""Amazon GuardDuty: detectors, runtime-monitoring features and ECS coverage.

GuardDuty's boto3 shapes are PascalCase (GetDetector returns `Features`, `Status`, ...)."""

from __future__ import annotations

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape

# The feature that turns on runtime monitoring, and the older name some detectors still report.
RUNTIME_MONITORING_FEATURES = ("RUNTIME_MONITORING", "ECS_RUNTIME_MONITORING")
FARGATE_AGENT_MANAGEMENT = "ECS_FARGATE_AGENT_MANAGEMENT"
EC2_AGENT_MANAGEMENT = "EC2_AGENT_MANAGEMENT"


class DetectorAdditionalConfiguration(PascalShape):
    name: str
    status: str | None = None


class DetectorFeature(PascalShape):
    name: str
    status: str | None = None
    additional_configuration: list[DetectorAdditionalConfiguration] = []

    def additional(self, name: str) -> str:
        """The status of an additional configuration ("DISABLED" when the detector does not list it)."""
        for item in self.additional_configuration:
            if item.name == name:
                return item.status or "DISABLED"
        return "DISABLED"


class Detector(PascalShape):
    """GetDetector's response, plus the id it was asked for (GetDetector does not echo it)."""

    detector_id: str
    status: str | None = None
    features: list[DetectorFeature] = []

    @property
    def enabled(self) -> bool:
        return self.status == "ENABLED"

    @property
    def runtime_monitoring(self) -> DetectorFeature | None:
        """The runtime-monitoring feature, preferring an ENABLED entry if both names are listed."""
        found = [f for f in self.features if f.name in RUNTIME_MONITORING_FEATURES]
        found.sort(key=lambda f: 0 if f.status == "ENABLED" else 1)
        return found[0] if found else None

    @property
    def runtime_monitoring_on(self) -> bool:
        feature = self.runtime_monitoring
        return self.enabled and feature is not None and feature.status == "ENABLED"

    def agent_management(self, name: str) -> str:
        """ENABLED only when the detector, runtime monitoring and the agent management `name` all are."""
        feature = self.runtime_monitoring
        if not self.runtime_monitoring_on or feature is None:
            return "DISABLED"
        return feature.additional(name)


class FargateCoverage(PascalShape):
    issues: list[str] = []
    management_type: str | None = None


class ContainerInstanceCoverage(PascalShape):
    covered_container_instances: int | None = None
    compatible_container_instances: int | None = None


class EcsClusterCoverage(PascalShape):
    cluster_name: str | None = None
    fargate_details: FargateCoverage | None = None
    container_instance_details: ContainerInstanceCoverage | None = None


class CoverageResourceDetails(PascalShape):
    resource_type: str | None = None
    ecs_cluster_details: EcsClusterCoverage | None = None


class CoverageResource(PascalShape):
    resource_id: str | None = None
    coverage_status: str | None = None
    issue: str | None = None
    resource_details: CoverageResourceDetails | None = None

    @property
    def cluster_name(self) -> str | None:
        details = self.resource_details.ecs_cluster_details if self.resource_details else None
        if details and details.cluster_name:
            return details.cluster_name
        # ResourceId is the cluster name for ECS coverage (an ARN in some responses).
        return self.resource_id.rsplit("/", 1)[-1] if self.resource_id else None


class FindingTask(PascalShape):
    arn: str | None = None
    definition_arn: str | None = None


class FindingEcsCluster(PascalShape):
    name: str | None = None
    arn: str | None = None
    task_details: FindingTask | None = None


class FindingContainer(PascalShape):
    name: str | None = None
    image: str | None = None


class FindingResource(PascalShape):
    resource_type: str | None = None
    ecs_cluster_details: FindingEcsCluster | None = None
    container_details: FindingContainer | None = None


class FindingService(PascalShape):
    archived: bool | None = None


class Finding(PascalShape):
    """GetFindings: one threat finding (only the fields that say what, where and how bad)."""

    id: str
    type: str | None = None
    title: str | None = None
    severity: float | None = None
    region: str | None = None
    resource: FindingResource | None = None
    service: FindingService | None = None

    @property
    def archived(self) -> bool:
        return bool(self.service and self.service.archived)

    @property
    def cluster(self) -> FindingEcsCluster | None:
        return self.resource.ecs_cluster_details if self.resource else None

    @property
    def task_arn(self) -> str | None:
        cluster = self.cluster
        return cluster.task_details.arn if cluster and cluster.task_details else None

    @property
    def image(self) -> str | None:
        details = self.resource.container_details if self.resource else None
        return details.image if details else None


class GuardDutyInventory(Record):
    """The region's detector (ListDetectors returns at most one) and its ECS runtime coverage."""

    detectors: list[Detector] = []
    # ListCoverage (resource type ECS); None when it was not read because no detector has runtime
    # monitoring on (nothing can be covered then) or the call failed (the failure is recorded).
    coverage: list[CoverageResource] | None = None
    # Open (unarchived) findings on ECS resources (ListFindings + GetFindings); None when not read
    # because no detector is enabled, or because a call failed (the failure is recorded).
    findings: list[Finding] | None = None

    @property
    def detector(self) -> Detector | None:
        enabled = [d for d in self.detectors if d.enabled]
        return (enabled or self.detectors or [None])[0]

    def coverage_for(self, cluster_name: str) -> list[CoverageResource]:
        return [c for c in self.coverage or [] if c.cluster_name == cluster_name]
