"""A report's findings sorted into the groups the formats list, in one pass: each roll-up, list and
filter of the HTML and Markdown, and report.json's tables, then walk their own group instead of
every finding again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ecs_audit.catalogue import Severity
from ecs_audit.findings import Finding, Status

# FAIL, WARN and UNKNOWN: the results a reader has to look at.
_ATTENTION = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN})


@dataclass(frozen=True)
class FindingIndex:
    """The findings by check, by status, and the attention (FAIL/WARN/UNKNOWN) and changed (compared
    with a baseline) ones, every group in the findings' own order; and the values the filters offer."""

    by_check: dict[str, list[Finding]]
    by_status: dict[Status, list[Finding]]
    attention: list[Finding]
    changed: list[Finding]
    # The first finding of each resource ARN (report.json's resource table).
    first_by_arn: dict[str, Finding] = field(default_factory=dict)
    # The values the HTML filters offer (those that occur): the cluster None for account-level results.
    statuses: set[Status] = field(default_factory=set)
    severities: set[Severity] = field(default_factory=set)
    clusters: set[str | None] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)

    @property
    def failing(self) -> list[Finding]:
        return self.by_status.get(Status.FAIL, [])

    def of_statuses(self, statuses: Iterable[Status]) -> list[Finding]:
        """The findings with these statuses, status by status."""
        return [f for status in statuses for f in self.by_status.get(status, ())]

    def of_checks(self, check_ids: Iterable[str]) -> list[Finding]:
        """The findings of these checks, check by check."""
        return [f for check_id in check_ids for f in self.by_check.get(check_id, ())]


def index_findings(findings: Iterable[Finding]) -> FindingIndex:
    index = FindingIndex({}, {}, [], [])
    by_check = index.by_check
    by_status = index.by_status
    for finding in findings:
        mine = by_check.get(finding.check_id)
        if mine is None:
            mine = by_check[finding.check_id] = []
        mine.append(finding)
        status = finding.status
        mine = by_status.get(status)
        if mine is None:
            mine = by_status[status] = []
        mine.append(finding)
        if status in _ATTENTION:
            index.attention.append(finding)
        if finding.change is not None:
            index.changed.append(finding)
        index.statuses.add(status)
        index.severities.add(finding.severity)
        index.clusters.add(finding.cluster)
        index.accounts.add(finding.account_id)
        index.regions.add(finding.region)
        resource = finding.resource
        if resource.arn not in index.first_by_arn:
            index.first_by_arn[resource.arn] = finding
        if resource.type == "AWS::ECS::Service" and resource.name:
            index.services.add(resource.name)
        if finding.owner:
            index.owners.add(finding.owner)
    return index
