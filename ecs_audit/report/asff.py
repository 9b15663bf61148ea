"""report.asff.json: AWS Security Finding Format (SchemaVersion 2018-10-08), a JSON array ready for
`aws securityhub batch-import-findings` (100 findings per call; see docs/reports.md).

- every unwaived FAIL and WARN result is a finding: Compliance FAILED or WARNING, Workflow NEW,
  RecordState ACTIVE;
- with a baseline (--baseline or --history) every resolved result is sent again with the same Id,
  Compliance PASSED, Workflow RESOLVED and RecordState ARCHIVED, which closes it in Security Hub;
- Id is stable across runs (ecs_audit.report.ocsf.finding_uid) so updates replace earlier imports;
- ProductArn is the account's own default product, as for any custom integration
  (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html);
- Title, Description and the recommendation text are cut to ASFF's limits (256, 1024 and 512
  characters: https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html)."""

from __future__ import annotations

import json
from typing import Any

from ecs_audit.catalogue import Catalogue, Severity
from ecs_audit.findings import Finding, Status
from ecs_audit.report.filters import clean
from ecs_audit.report.model import Report
from ecs_audit.report.ocsf import finding_uid
from ecs_audit.report.sarif import utc_timestamp

SCHEMA_VERSION = "2018-10-08"
LABELS = {Severity.CRITICAL: "CRITICAL", Severity.HIGH: "HIGH", Severity.MEDIUM: "MEDIUM", Severity.LOW: "LOW", Severity.INFO: "INFORMATIONAL"}
TITLE_MAX, DESCRIPTION_MAX, RECOMMENDATION_MAX = 256, 1024, 512
TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]


def _cut(text: str, limit: int) -> str:
    text = " ".join(clean(text).split()) or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def resource_type(cloudformation_type: str) -> str:
    """AWS::ECS::TaskDefinition -> AwsEcsTaskDefinition (ASFF's resource type names)."""
    parts = [p for p in cloudformation_type.split("::") if p]
    if len(parts) < 2 or parts[0] != "AWS":
        return "Other"
    return "Aws" + "".join(p[:1].upper() + p[1:].lower() if p.isupper() else p[:1].upper() + p[1:] for p in parts[1:])


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if arn.startswith("arn:") and len(parts) > 1 and parts[1] in ("aws", "aws-cn", "aws-us-gov") else "aws"


def _finding(f: Finding, report: Report, resolved: bool) -> dict[str, Any]:
    partition = _partition(f.resource.arn)
    home = f.region if f.region not in ("", "global") else (report.scope.regions[0] if report.scope.regions else "us-east-1")
    now = utc_timestamp(report.generated_at)
    url = next((r.url for r in f.references if r.url), None)
    recommendation: dict[str, Any] = {"Text": _cut(f.remediation, RECOMMENDATION_MAX)}
    if url:
        recommendation["Url"] = url
    name = f.resource.name + (f"/{f.container}" if f.container else "")
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_uid(f),
        "ProductArn": f"arn:{partition}:securityhub:{home}:{f.account_id}:product/{f.account_id}/default",
        "ProductName": "ecs-audit",
        "CompanyName": "ecs-audit",
        "GeneratorId": f"ecs-audit/{f.check_id}",
        "AwsAccountId": f.account_id,
        "Region": home,
        "Types": TYPES,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": LABELS[f.severity], "Original": f.severity.value},
        "Title": _cut(f"{f.check_id} {f.title}", TITLE_MAX),
        "Description": _cut(f"{name}: {f.message}" if not resolved else f"{name}: resolved ({f.message})", DESCRIPTION_MAX),
        "Remediation": {"Recommendation": recommendation},
        "Resources": [{"Type": resource_type(f.resource.type), "Id": f.resource.arn, "Partition": partition, "Region": home}],
        "Compliance": {"Status": "PASSED" if resolved else ("FAILED" if f.status is Status.FAIL else "WARNING")},
        "Workflow": {"Status": "RESOLVED" if resolved else "NEW"},
        "RecordState": "ARCHIVED" if resolved else "ACTIVE",
        "ProductFields": {"ecs-audit/CheckId": f.check_id, "ecs-audit/Area": f.area, "ecs-audit/Version": report.tool.version},
    }


def findings(report: Report) -> list[dict[str, Any]]:
    out = [_finding(f, report, False) for f in report.findings if f.status in (Status.FAIL, Status.WARN)]
    out += [_finding(r.finding, report, True) for r in report.resolved]
    return out


def render_asff(report: Report, catalogue: Catalogue) -> str:
    return json.dumps(findings(report), indent=2, ensure_ascii=False) + "\n"
