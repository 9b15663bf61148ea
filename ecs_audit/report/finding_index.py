"""A report's findings sorted into the groups the formats list, in one pass: each roll-up, list and
filter of the HTML and Markdown, and report.json's tables, then walk their own group instead of
every finding again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecs_audit.catalogue import Severity
from ecs_audit.findings import SORT_KEY, Finding, Status

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
    # Whether the findings are worst first already (as build_report leaves them): sorting them, or any
    # of these groups, would keep their order.
    ordered: bool
    # The first finding of each resource ARN (report.json's resource table).
    first_by_arn: dict[str, Finding]
    # The values the HTML filters offer (those that occur): the cluster None for account-level results.
    severities: set[Severity]
    clusters: set[str | None]
    accounts: set[str]
    regions: set[str]
    services: set[str]
    owners: set[str]

    @property
    def failing(self) -> list[Finding]:
        return self.by_status.get(Status.FAIL, [])

    def of_statuses(self, statuses: Iterable[Status]) -> list[Finding]:
        """The findings with these statuses, status by status."""
        return [f for status in statuses for f in self.by_status.get(status, ())]

    def of_checks(self, check_ids: Iterable[str]) -> list[Finding]:
        """The findings of these checks, check by check."""
        return [f for check_id in check_ids for f in self.by_check.get(check_id, ())]

    def worst_first(self, findings: list[Finding]) -> list[Finding]:
        """findings (some of the indexed ones, in their order) sorted worst first."""
        return findings if self.ordered else sorted(findings, key=SORT_KEY)


def index_findings(findings: Iterable[Finding]) -> FindingIndex:
    by_check: dict[str, list[Finding]] = {}
    by_status: dict[Status, list[Finding]] = {}
    attention: list[Finding] = []
    changed: list[Finding] = []
    ordered = True
    previous: tuple | None = None
    first_by_arn: dict[str, Finding] = {}
    severities: set[Severity] = set()
    clusters: set[str | None] = set()
    accounts: set[str] = set()
    regions: set[str] = set()
    services: set[str] = set()
    owners: set[str] = set()
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
            attention.append(finding)
        if finding.change is not None:
            changed.append(finding)
        if ordered:
            key = finding.sort_key
            if previous is not None and key < previous:
                ordered = False
            previous = key
        resource = finding.resource
        if resource.arn not in first_by_arn:
            first_by_arn[resource.arn] = finding
        severities.add(finding.severity)
        clusters.add(finding.cluster)
        accounts.add(finding.account_id)
        regions.add(finding.region)
        if resource.type == "AWS::ECS::Service" and resource.name:
            services.add(resource.name)
        if finding.owner:
            owners.add(finding.owner)
    return FindingIndex(by_check, by_status, attention, changed, ordered, first_by_arn, severities, clusters, accounts, regions, services, owners)
