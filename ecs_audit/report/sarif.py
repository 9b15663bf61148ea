"""report.sarif: SARIF 2.1.0 for code-scanning dashboards.

- every catalogue check is a rule (`tool.driver.rules`), with its title, rationale, remediation,
  first documentation link and a default level from its severity;
- every FAIL and WARN result is a SARIF result with a level from the finding's severity (critical
  and high: error, medium: warning, low and info: note);
- WAIVED results are results too, suppressed (`kind: external`, `status: accepted`) with the waiver's
  reason as the justification and its owner and expiry as properties;
- the resource is the location: a logical location (kind `resource`, the ARN as fully qualified
  name, the container appended for container results) plus the ARN as the artifact URI, which code
  scanning services require;
- collection errors are tool execution notifications; expired and stale waivers are configuration
  notifications.

PASS, UNKNOWN, NOT_APPLICABLE and MANUAL results are not SARIF results (they are in report.json).
Strings are plain text (SARIF `text`, never `markdown`) without control characters.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import datetime, timezone
from typing import Any, TextIO
from urllib.parse import quote

from ecs_audit.catalogue import Catalogue, CheckEntry, Severity
from ecs_audit.findings import SEVERITY_VALUES, SORT_KEY, STATUS_VALUES, Finding, Status, finding_key
from ecs_audit.report.filters import clean
from ecs_audit.report.json_text import compact_encoder
from ecs_audit.report.model import Report, WaiverNote
from ecs_audit.report.text_output import write_joined

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
RESULT_STATUSES = (Status.FAIL, Status.WARN, Status.WAIVED)  # worst first

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads rules' "security-severity" (0.0-10.0) to rank security alerts.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
_FINGERPRINT = "ecsAuditFinding/v1"
# Characters a URI may hold as they are (RFC 3986 unreserved, reserved and "%").
_URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


def utc_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a Z (naive times are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def level_of(severity: Severity) -> str:
    return LEVELS[severity]


def _rule_name(entry: CheckEntry) -> str:
    words = re.findall(r"[A-Za-z0-9]+", entry.title)
    return "".join(w[:1].upper() + w[1:] for w in words) or entry.id.replace("-", "")


def _rule(entry: CheckEntry) -> dict[str, Any]:
    help_text = entry.remediation + (f"\n\n{entry.remediation_snippet}" if entry.remediation_snippet else "")
    properties: dict[str, Any] = {
        "tags": list(dict.fromkeys(["ecs", entry.area.lower(), *(s.label.lower() for s in entry.scope)])),
        "severity": entry.severity.value,
        "automated": entry.automated,
    }
    if entry.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[entry.severity]
    if entry.deprecated:
        properties["deprecated"] = True
    if entry.references:
        properties["references"] = [r.label for r in entry.references]
    rule: dict[str, Any] = {
        "id": entry.id,
        "name": _rule_name(entry),
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": entry.rationale},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": level_of(entry.severity), "enabled": not entry.deprecated},
        "properties": properties,
    }
    link = next((r.url for r in entry.references if r.url and r.url.startswith("https://")), None)
    if link:
        rule["helpUri"] = link
    return rule


def fingerprint(finding: Finding) -> str:
    """Stable across runs and task-definition revisions: the SHA-256 of what finding_id hashes
    (check, account, region, resource with task definitions by family, container)."""
    return hashlib.sha256("\x1f".join(finding_key(finding)).encode("utf-8")).hexdigest()


# GitHub code scanning shows a result only with a physical location (docs/reports.md): the
# resource's identity is the logical location; the physical one is a readable, stable path under
# the AWS uri base (account/region/resource), never the ARN as a file name.
_PATH_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def resource_path(finding: Finding) -> str:
    arn = finding.resource.arn
    parts = arn.split(":", 5)
    tail = parts[5] if len(parts) == 6 and parts[0] == "arn" else arn
    service = parts[2] if len(parts) == 6 else "aws"
    segments = [finding.account_id, finding.region, service, *[p for p in re.split(r"[/:]", tail) if p]]
    if finding.container:
        segments.append(finding.container)
    return "/".join(_PATH_UNSAFE.sub("_", seg) or "_" for seg in segments)


def _location(finding: Finding, cache: dict[tuple, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The result's location; with `cache`, made once per resource (the same dict for every check's
    result on it: results are only encoded, never changed)."""
    key = (finding.account_id, finding.region, finding.resource.arn, finding.resource.name, finding.container)
    if cache is not None:
        known = cache.get(key)
        if known is None:
            known = cache[key] = _location(finding)
        return known
    name = finding.resource.name + (f"/{finding.container}" if finding.container else "")
    qualified = finding.resource.arn + (f"/{finding.container}" if finding.container else "")
    return {
        "physicalLocation": {"artifactLocation": {"uri": quote(resource_path(finding), safe="/"), "uriBaseId": "AWS"}},
        "logicalLocations": [{"name": name, "fullyQualifiedName": qualified, "kind": "resource"}],
    }


def _result(
    finding: Finding, rule_index: dict[str, int], with_baseline: bool, locations: dict[tuple, dict[str, Any]] | None = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "status": finding.status.value,
        "severity": finding.severity.value,
        "accountId": finding.account_id,
        "region": finding.region,
        "resourceType": finding.resource.type,
        "resourceArn": finding.resource.arn,
        "findingId": finding.id,
    }
    if finding.container:
        properties["container"] = finding.container
    if finding.cluster is not None:
        properties["cluster"] = finding.cluster
    if finding.evidence:
        properties["evidence"] = finding.evidence
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "level": level_of(finding.severity),
        "message": {"text": f"{finding.message} ({finding.resource.type} {finding.resource.name})"},
        "locations": [_location(finding, locations)],
        "partialFingerprints": {_FINGERPRINT: fingerprint(finding)},
        "properties": properties,
    }
    if finding.check_id in rule_index:
        result["ruleIndex"] = rule_index[finding.check_id]
    if with_baseline and finding.change:
        result["baselineState"] = finding.change
    if finding.status is Status.WAIVED:
        waiver = finding.waiver
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if waiver is not None:
            suppression["justification"] = waiver.reason
            suppression["properties"] = {
                "owner": waiver.owner,
                "expires": waiver.expires,
                "resourceGlob": waiver.resource,
                **({"findingId": waiver.id} if waiver.id else {}),
                **({"waivedStatus": waiver.status.value} if waiver.status else {}),
            }
        result["suppressions"] = [suppression]
    return result


def _result_line(
    finding: Finding, rule_index: dict[str, int], with_baseline: bool, locations: dict[tuple, dict[str, Any]], texts: dict[tuple, str]
) -> str:
    """_encode_clean(_result(finding, ...)), written directly for the common result (not waived, no
    baseline state): keys in sorted order, strings through json's own string encoder, each
    resource's location encoded once. Anything that would need cleaning takes the general way."""
    if finding.status is Status.WAIVED or (with_baseline and finding.change):
        return _encode_clean(_result(finding, rule_index, with_baseline, locations))
    ref = finding.resource
    key = (finding.account_id, finding.region, ref.arn, ref.name, finding.container)
    location = texts.get(key)
    if location is None:
        location = texts[key] = _encode([_location(finding, locations)])
    properties = ['"accountId":' + _string(finding.account_id)]
    if finding.cluster is not None:
        properties.append('"cluster":' + _string(finding.cluster))
    if finding.container:
        properties.append('"container":' + _string(finding.container))
    if finding.evidence:
        properties.append('"evidence":' + _encode(finding.evidence))
    properties.append(
        f'"findingId":{_string(finding.id)},"region":{_string(finding.region)},"resourceArn":{_string(ref.arn)},'
        f'"resourceType":{_string(ref.type)},"severity":{_string(SEVERITY_VALUES[finding.severity])},"status":{_string(STATUS_VALUES[finding.status])}'
    )
    message = _string(f"{finding.message} ({ref.type} {ref.name})")
    text = (
        f'{{"level":{_string(level_of(finding.severity))},"locations":{location},"message":{{"text":{message}}},'
        f'"partialFingerprints":{{{_string(_FINGERPRINT)}:{_string(fingerprint(finding))}}},"properties":{{{",".join(properties)}}},'
        f'"ruleId":{_string(finding.check_id)}'
    )
    index = rule_index.get(finding.check_id)
    text += "}" if index is None else f',"ruleIndex":{index}}}'
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return _encode_clean(_result(finding, rule_index, with_baseline, locations))


def _waiver_notification(note: WaiverNote, kind: str) -> dict[str, Any]:
    if kind == "expired":
        text = (
            f"waiver entry {note.entry} ({note.check} on {note.resource}, owner {note.owner}) expired on {note.expires} "
            f"and no longer applies; it matches {note.matches} FAIL/WARN results"
        )
    else:
        text = f"waiver entry {note.entry} ({note.check} on {note.resource}, owner {note.owner}) is stale: it matches no FAIL or WARN result"
    return {"level": "warning", "message": {"text": text}, "properties": {"waiver": kind, "entry": note.entry}}


def sarif_document(report: Report, catalogue: Catalogue, *, encoded: bool = False) -> dict[str, Any]:
    """The SARIF document; with `encoded`, each result as its final text (_encode_clean) instead of a dict."""
    entries = catalogue.checks
    known = {e.id for e in entries}
    # Results of checks missing from the catalogue still get a rule.
    extra = sorted(check_id for check_id in report.index.by_check if check_id not in known)
    rules = [_rule(e) for e in entries] + [
        {"id": check_id, "shortDescription": {"text": check_id}, "properties": {"tags": ["ecs"]}} for check_id in extra
    ]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    with_baseline = report.baseline is not None
    locations: dict[tuple, dict[str, Any]] = {}
    # Status by status (RESULT_STATUSES is worst first), each in the findings' order: worst first
    # already when the findings are. Sorted otherwise: the same order as sorting the findings with
    # these statuses (findings with equal sort keys have the same status, and keep their order).
    chosen = report.index.of_statuses(RESULT_STATUSES)
    if not report.index.ordered:
        chosen.sort(key=SORT_KEY)
    results: list[Any]
    if encoded:
        texts: dict[tuple, str] = {}
        results = [_result_line(f, rule_index, with_baseline, locations, texts) for f in chosen]
    else:
        results = [_result(f, rule_index, with_baseline, locations) for f in chosen]
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"{e.permission} failed ({e.error_code}) in {e.account_id} {e.region}: {e.message}"},
            "properties": {"accountId": e.account_id, "region": e.region, "permission": e.permission, "errorCode": e.error_code, "resources": e.resources},
        }
        for e in report.errors
    ]
    configuration = [_waiver_notification(n, "expired") for n in report.expired_waivers] + [
        _waiver_notification(n, "stale") for n in report.stale_waivers
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "endTimeUtc": utc_timestamp(report.generated_at),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    if configuration:
        invocation["toolConfigurationNotifications"] = configuration
    summary = report.summary
    run_properties: dict[str, Any] = {
        "score": summary.score,
        "grade": summary.grade,
        "coverage": summary.coverage,
        "byStatus": summary.by_status,
        "accounts": report.scope.accounts,
        "regions": report.scope.regions,
        "reportSchemaVersion": report.schema_version,
        # The organisation roll-up, worst account first.
        "accountScores": [a.model_dump() for a in summary.accounts],
    }
    if report.baseline is not None and summary.changes is not None:
        run_properties["baseline"] = {
            "source": report.baseline.source,
            "generatedAt": report.baseline.generated_at.isoformat(),
            **summary.changes.model_dump(),
        }
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"AWS": {"description": {"text": "AWS resources, as ACCOUNT/REGION/SERVICE/RESOURCE; the ARN is each result's logical location"}}},
        "invocations": [invocation],
        "results": results,
        "properties": run_properties,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _clean(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if value.isascii() and value.isprintable() else clean(value)
    if kind is dict:
        return {(k if type(k) is str and k.isascii() and k.isprintable() else clean(str(k))): _clean(v) for k, v in value.items()}
    if kind is list:
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# Stands for the results while the rest of the document is encoded (no report contains it).
_RESULTS_MARK = "\x00results\x00"
_RESULT_INDENT = "\n        "  # runs[0].results' items, at indent=2
_encode = compact_encoder()
# A str as _encode writes it (ensure_ascii=False).
_string = json.encoder.encode_basestring


def _encode_clean(result: dict[str, Any]) -> str:
    """_encode(_clean(result)), without walking a result that has nothing to clean: when its
    encoding is printable ASCII without a single escape, no string in it (key or value) holds a
    control character, a bidi override or anything else `clean` drops. (Its keys are strings: ours,
    and evidence keys, which are strings in findings.)"""
    text = _encode(result)
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return _encode(_clean(result))


def render_sarif(report: Report, catalogue: Catalogue) -> str:
    """The document indented (indent=2, sorted keys), with one result a line: a large run's
    thousands of results stay readable and diffable, and are encoded by json's C encoder."""
    out = io.StringIO()
    write_sarif(report, catalogue, out)
    return out.getvalue()


def write_sarif(report: Report, catalogue: Catalogue, out: TextIO) -> None:
    """render_sarif's text, the results written a batch at a time."""
    document = sarif_document(report, catalogue, encoded=True)
    results = document["runs"][0]["results"]
    document["runs"][0]["results"] = []
    document = _clean(document)
    document["runs"][0]["results"] = _RESULTS_MARK
    before, after = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).split(json.dumps(_RESULTS_MARK), 1)
    out.write(before)
    if results:
        out.write("[")
        write_joined(out, (_RESULT_INDENT + r for r in results), ",")
        out.write("\n      ]")
    else:
        out.write("[]")
    out.write(after + "\n")
