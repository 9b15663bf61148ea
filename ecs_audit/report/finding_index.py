"""A report's findings sorted into the groups the HTML and Markdown templates list, in one pass:
each roll-up, list and filter then walks its own group instead of every finding again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ecs_audit.catalogue import Severity
from ecs_audit.findings import Finding, Status

# FAIL, WARN and UNKNOWN: the results a reader has to look at.
_ATTENTION = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN})


@dataclass(frozen=True)
class FindingIndex:
    """The findings by check, and the FAIL, attention (FAIL/WARN/UNKNOWN) and changed (compared with a
    baseline) ones, every group in the findings' own order; and the values the filters offer."""

    by_check: dict[str, list[Finding]]
    failing: list[Finding]
    attention: list[Finding]
    changed: list[Finding]
    # The values the HTML filters offer (those that occur): the cluster None for account-level results.
    statuses: set[Status] = field(default_factory=set)
    severities: set[Severity] = field(default_factory=set)
    clusters: set[str | None] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)

    def of_checks(self, check_ids: Iterable[str]) -> list[Finding]:
        """The findings of these checks, check by check."""
        return [f for check_id in check_ids for f in self.by_check.get(check_id, ())]


def index_findings(findings: Iterable[Finding]) -> FindingIndex:
    index = FindingIndex({}, [], [], [])
    by_check = index.by_check
    for finding in findings:
        mine = by_check.get(finding.check_id)
        if mine is None:
            mine = by_check[finding.check_id] = []
        mine.append(finding)
        status = finding.status
        if status in _ATTENTION:
            index.attention.append(finding)
            if status is Status.FAIL:
                index.failing.append(finding)
        if finding.change is not None:
            index.changed.append(finding)
        index.statuses.add(status)
        index.severities.add(finding.severity)
        index.clusters.add(finding.cluster)
        index.accounts.add(finding.account_id)
        index.regions.add(finding.region)
        resource = finding.resource
        if resource.type == "AWS::ECS::Service" and resource.name:
            index.services.add(resource.name)
        if finding.owner:
            index.owners.add(finding.owner)
    return index
