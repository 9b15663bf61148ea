"""Amazon GuardDuty: the region's detector, its runtime-monitoring features, ECS coverage and open
findings on ECS resources.

Cost per region with ECS clusters (none elsewhere): one paginated ListDetectors (50 a page; a region has at most one detector), one
GetDetector per detector, and, only when runtime monitoring is on, a paginated ListCoverage filtered to
resource type ECS (50 a page). With an enabled detector: a paginated ListFindings filtered to
unarchived ECS findings of severity >= 4 (50 a page) and one GetFindings per 50 ids.
"""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.guardduty import CoverageResource, Detector, Finding, GuardDutyInventory
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("guardduty")
SERVICE = SOURCE.client
PAGE_SIZE = 50  # ListDetectors, ListCoverage and ListFindings MaxResults
FINDINGS_BATCH = 50  # GetFindings FindingIds limit
# Finding resource types of ECS workloads, and the lowest severity SECURITY-019 reports (MEDIUM).
ECS_FINDING_RESOURCE_TYPES = ("ECSCluster", "Container")
MIN_FINDING_SEVERITY = 4


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> GuardDutyInventory | None:
    # The runner starts it once ListClusters has named clusters (inventory/parts.py: LISTED) and not
    # at all where there are none: the checks are not applicable there without reading GuardDuty.
    if region.ecs is None:
        return None
    detector_ids = ctx.paginate(SERVICE, "ListDetectors", "DetectorIds", PaginationConfig={"PageSize": PAGE_SIZE})
    if detector_ids is None:
        return None  # failure recorded: without the list, "no detector" cannot be told from "not read"
    detectors: list[Detector] = []
    for detector_id in sorted(set(detector_ids)):
        detector = _detector(ctx, detector_id)
        if detector is None:
            return None  # a detector that could not be read must not look like GuardDuty being off
        detectors.append(detector)
    inventory = GuardDutyInventory(detectors=detectors)
    enabled = [d for d in detectors if d.enabled]
    if enabled:
        if ctx.collects(SERVICE, "ListFindings", "GetFindings"):
            inventory = inventory.model_copy(update={"findings": _findings(ctx, enabled[0].detector_id)})
    covered = [d for d in detectors if d.runtime_monitoring_on]
    if not covered:
        return inventory
    coverage = _coverage(ctx, covered[0].detector_id)
    return inventory.model_copy(update={"coverage": coverage})


def _findings(ctx: CollectContext, detector_id: str) -> list[Finding] | None:
    arn = ctx.arn(SERVICE, f"detector/{detector_id}")
    ids = ctx.paginate(
        SERVICE,
        "ListFindings",
        "FindingIds",
        resources=[arn],
        DetectorId=detector_id,
        FindingCriteria={
            "Criterion": {
                "resource.resourceType": {"Equals": list(ECS_FINDING_RESOURCE_TYPES)},
                "service.archived": {"Equals": ["false"]},
                "severity": {"GreaterThanOrEqual": MIN_FINDING_SEVERITY},
            }
        },
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    if ids is None:
        return None
    unique = sorted(set(ids))
    findings: list[Finding] = []
    for start in range(0, len(unique), FINDINGS_BATCH):
        response = ctx.call(SERVICE, "GetFindings", resources=[arn], DetectorId=detector_id, FindingIds=unique[start : start + FINDINGS_BATCH])
        if not isinstance(response, dict):
            return None
        for item in response.get("Findings") or []:
            finding = validated(ctx, SERVICE, "GetFindings", Finding, item, [arn])
            if finding is None:
                return None
            if not finding.archived:
                findings.append(finding)
    return sorted(findings, key=lambda f: f.id)


def _detector(ctx: CollectContext, detector_id: str) -> Detector | None:
    arn = ctx.arn(SERVICE, f"detector/{detector_id}")
    response = ctx.call(SERVICE, "GetDetector", resources=[arn], DetectorId=detector_id)
    if not isinstance(response, dict):
        return None
    return validated(ctx, SERVICE, "GetDetector", Detector, dict(response, DetectorId=detector_id), [arn])


def _coverage(ctx: CollectContext, detector_id: str) -> list[CoverageResource] | None:
    items = ctx.paginate(
        SERVICE,
        "ListCoverage",
        "Resources",
        DetectorId=detector_id,
        FilterCriteria={"FilterCriterion": [{"CriterionKey": "RESOURCE_TYPE", "FilterCondition": {"Equals": ["ECS"]}}]},
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    if items is None:
        return None
    resources: list[CoverageResource] = []
    for item in items:
        resource = validated(ctx, SERVICE, "ListCoverage", CoverageResource, item, [])
        if resource is None:
            return None
        resource_type = resource.resource_details.resource_type if resource.resource_details else None
        if resource_type in (None, "ECS"):
            resources.append(resource)
    return resources
