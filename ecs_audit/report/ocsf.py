"""report.ocsf.json: OCSF Detection Finding events (class_uid 2004, OCSF 1.5.0), a JSON array, for
SIEMs and Amazon Security Lake custom sources (https://schema.ocsf.io/1.5.0/classes/detection_finding).

- every unwaived FAIL and WARN result is one event, activity Create, status New;
- with a baseline (--baseline or --history) every resolved result is one event too, activity Close,
  status Resolved, so a SIEM can close what it opened;
- finding_info.uid is the finding's stable id (the same in report.json and SARIF), so events of the
  same problem correlate across runs.
Messages and remediation are plain text; evidence is not exported."""

from __future__ import annotations

import json
from typing import Any

from ecs_audit.catalogue import Catalogue, Severity
from ecs_audit.findings import Finding, Status
from ecs_audit.report.filters import clean
from ecs_audit.report.model import Report

OCSF_VERSION = "1.5.0"
CLASS_UID = 2004
CATEGORY_UID = 2
SEVERITY_IDS = {Severity.INFO: 1, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}
_ACTIVITIES = {"create": (1, "Create"), "close": (3, "Close")}
_STATUSES = {"create": (1, "New"), "close": (4, "Resolved")}
AWS_ACCOUNT_TYPE_ID = 10


def finding_uid(finding: Finding) -> str:
    """Stable across runs: the finding's own id (ecs_audit.findings.finding_id)."""
    return finding.id


def _millis(report: Report) -> int:
    return int(report.generated_at.timestamp() * 1000)


def _event(finding: Finding, report: Report, activity: str) -> dict[str, Any]:
    activity_id, activity_name = _ACTIVITIES[activity]
    status_id, status_name = _STATUSES[activity]
    account = {"uid": finding.account_id, "name": finding.account_id, "type_id": AWS_ACCOUNT_TYPE_ID, "type": "AWS Account"}
    references = [r.url for r in finding.references if r.url]
    name = finding.resource.name + (f"/{finding.container}" if finding.container else "")
    event: dict[str, Any] = {
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"Detection Finding: {activity_name}",
        "severity_id": SEVERITY_IDS[finding.severity],
        "severity": finding.severity.value.capitalize() if finding.severity is not Severity.INFO else "Informational",
        "status_id": status_id,
        "status": status_name,
        "time": _millis(report),
        "message": clean(finding.message) if activity == "create" else f"Resolved: {clean(finding.title)}",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "ecs-audit", "vendor_name": "ecs-audit", "version": report.tool.version},
        },
        "finding_info": {
            "uid": finding_uid(finding),
            "title": clean(finding.title),
            "desc": clean(finding.message),
            "types": [finding.area],
            "analytic": {"uid": finding.check_id, "name": clean(finding.title), "type_id": 1, "type": "Rule"},
        },
        "cloud": {"provider": "AWS", "region": finding.region, "account": account},
        "resources": [
            {"uid": finding.resource.arn, "name": clean(name), "type": finding.resource.type, "region": finding.region,
             "cloud_partition": finding.resource.arn.split(":")[1] if finding.resource.arn.startswith("arn:") else None}
        ],
        "remediation": {"desc": clean(finding.remediation), "references": references},
        "unmapped": {"check_id": finding.check_id, "result": finding.status.value, "change": finding.change},
    }
    if event["resources"][0]["cloud_partition"] is None:
        del event["resources"][0]["cloud_partition"]
    if not references:
        del event["remediation"]["references"]
    return event


def events(report: Report) -> list[dict[str, Any]]:
    out = [_event(f, report, "create") for f in report.findings if f.status in (Status.FAIL, Status.WARN)]
    out += [_event(r.finding, report, "close") for r in report.resolved]
    return out


def render_ocsf(report: Report, catalogue: Catalogue) -> str:
    return json.dumps(events(report), indent=2, ensure_ascii=False) + "\n"
