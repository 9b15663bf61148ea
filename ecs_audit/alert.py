"""The one line that says why a run exits 1: which unwaived FAIL results crossed --fail-on.

It goes to stderr with or without --quiet, so a cron job that fails mails the reason with it."""

from __future__ import annotations

from collections import Counter

from ecs_audit.catalogue import Severity
from ecs_audit.findings import Finding, Status
from ecs_audit.report.model import Report

# How many checks and resources the line names before "and N more".
SHOWN = 3


def breaches(report: Report, fail_on: Severity | None) -> list[Finding]:
    """Unwaived FAIL results at or above `fail_on`, worst first (what makes the exit code 1)."""
    if fail_on is None:
        return []
    found = [f for f in report.findings if f.status is Status.FAIL and f.severity.rank >= fail_on.rank]
    return sorted(found, key=lambda f: (-f.severity.rank, f.sort_key))


def _where(finding: Finding) -> str:
    name = finding.resource.name + (f"/{finding.container}" if finding.container else "")
    return f"{finding.check_id} {name} ({finding.account_id} {finding.region})"


def fail_on_line(report: Report, fail_on: Severity | None) -> str | None:
    """`--fail-on high: 3 FAIL at high or above (2 critical, 1 high), 2 new since 2026-12-03T06:15:00+00:00:
    SECURITY-001 web/app (111122223333 us-east-1), ... and 1 more`; None when nothing crossed it."""
    found = breaches(report, fail_on)
    if not found or fail_on is None:
        return None
    by_severity = Counter(f.severity for f in found)
    severities = ", ".join(f"{by_severity[s]} {s.value}" for s in sorted(by_severity, key=lambda s: -s.rank))
    if report.baseline is not None:
        new = sum(1 for f in found if f.change == "new")
        since = f"{new} new since {report.baseline.generated_at.isoformat()}"
    else:
        since = "no earlier run to compare with"
    # New ones first: they are the news.
    ordered = sorted(found, key=lambda f: (f.change != "new", -f.severity.rank, f.sort_key))
    shown = "; ".join(_where(f) for f in ordered[:SHOWN])
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    checks = sorted({f.check_id for f in found})
    return (
        f"--fail-on {fail_on.value}: {len(found)} FAIL at {fail_on.value} or above ({severities}) in "
        f"{len(checks)} checks, {since}: {shown}{more}"
    )
