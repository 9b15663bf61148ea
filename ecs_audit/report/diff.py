"""Comparing a run with an earlier report.json (`--baseline`, `ecs-audit diff OLD NEW`).

Only FAIL and WARN results are compared (what needs attention; WAIVED ones are accepted). A result
is matched on (check id, account, region, resource, container) and its status, where a task
definition is matched by family, not revision: registering web:43 does not make every finding of
web:42 "new". A result that was WARN and is now FAIL (or the other way round) counts as resolved in
its old status and new in its new one.

- new: FAIL/WARN now, not in the baseline with that status;
- unchanged: FAIL/WARN now and in the baseline;
- resolved: FAIL/WARN in the baseline, not now (listed with the status the same check and resource
  has now: PASS, WAIVED, UNKNOWN..., or none when it was not evaluated).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ecs_audit.errors import UsageError
from ecs_audit.findings import Finding, FindingKey, Status, finding_id, finding_key, resource_key  # noqa: F401 (re-exported)
from ecs_audit.inputs import read_text
from ecs_audit.report.filters import md
from ecs_audit.report.model import READABLE_REPORT_VERSIONS, BaselineInfo, Report, ResolvedFinding, report_from_data
from ecs_audit.text import plain

OPEN = frozenset({Status.FAIL, Status.WARN})

Key = FindingKey


@dataclass(frozen=True)
class Baseline:
    info: BaselineInfo
    findings: list[Finding]


@dataclass(frozen=True)
class Comparison:
    # Every current finding; FAIL/WARN ones carry change "new" or "unchanged".
    findings: list[Finding]
    resolved: list[ResolvedFinding]

    @property
    def new(self) -> list[Finding]:
        return [f for f in self.findings if f.change == "new"]

    @property
    def unchanged(self) -> list[Finding]:
        return [f for f in self.findings if f.change == "unchanged"]

    @property
    def new_fails(self) -> list[Finding]:
        return [f for f in self.new if f.status is Status.FAIL]


def load_report(path: Path, what: str = "baseline") -> Report:
    """A report.json written by ecs-audit (schema version 1, 2 or 3), validated."""
    text = read_text(path, what)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path}: not JSON (line {exc.lineno}: {exc.msg}); give a report.json written by ecs-audit") from None
    if not isinstance(data, dict) or "findings" not in data or "schema_version" not in data:
        raise UsageError(f"{what} {path}: not an ecs-audit report.json (no schema_version and findings); give a report.json written by ecs-audit")
    version = data.get("schema_version")
    if version not in READABLE_REPORT_VERSIONS or isinstance(version, bool):
        raise UsageError(
            f"{what} {path}: report schema version {plain(version)} is not one of "
            f"{', '.join(map(str, READABLE_REPORT_VERSIONS))}; compare reports written by ecs-audit"
        )
    try:
        return report_from_data(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise UsageError(f"{what} {path}: invalid report at {plain(where)}: {plain(error['msg'])}; give an unmodified report.json") from None


def load_baseline(path: Path) -> Baseline:
    report = load_report(path, "baseline")
    info = BaselineInfo(source=str(path), generated_at=report.generated_at, tool_version=report.tool.version)
    return Baseline(info=info, findings=list(report.findings))


def compare(current: list[Finding], baseline: list[Finding]) -> Comparison:
    """Mark current FAIL/WARN findings new or unchanged, and list the baseline's that went away."""
    current = sorted(current, key=lambda f: f.sort_key)
    before = Counter((finding_id(f), f.status) for f in baseline if f.status in OPEN)
    marked: list[Finding] = []
    for finding in current:
        if finding.status not in OPEN:
            marked.append(finding.model_copy(update={"change": None}) if finding.change else finding)
            continue
        slot = (finding_id(finding), finding.status)
        if before[slot] > 0:
            before[slot] -= 1
            change = "unchanged"
        else:
            change = "new"
        marked.append(finding.model_copy(update={"change": change}))
    now = Counter((finding_id(f), f.status) for f in current if f.status in OPEN)
    status_now: dict[str, Status] = {}
    for finding in current:  # worst first: the first status seen for a key is its worst
        status_now.setdefault(finding_id(finding), finding.status)
    resolved: list[ResolvedFinding] = []
    for finding in sorted(baseline, key=lambda f: f.sort_key):
        if finding.status not in OPEN:
            continue
        slot = (finding_id(finding), finding.status)
        if now[slot] > 0:
            now[slot] -= 1
            continue
        resolved.append(ResolvedFinding(finding=finding.model_copy(update={"change": None}), now=status_now.get(slot[0])))
    return Comparison(findings=marked, resolved=resolved)


# --- `ecs-audit diff` ------------------------------------------------------------------------


def diff_exit_code(comparison: Comparison) -> int:
    """1 when there are new FAIL results, else 0."""
    return 1 if comparison.new_fails else 0


def _where(f: Finding) -> str:
    name = f.resource.name + (f"/{f.container}" if f.container else "")
    return f"{name} ({f.account_id} {f.region})"


def _counts(comparison: Comparison) -> dict[str, int]:
    return {
        "new": len(comparison.new),
        "new_fail": len(comparison.new_fails),
        "resolved": len(comparison.resolved),
        "unchanged": len(comparison.unchanged),
    }


def diff_text(old: Report, new: Report, comparison: Comparison, old_name: str, new_name: str) -> str:
    c = _counts(comparison)
    lines = [
        f"Changes from {old_name} ({old.generated_at.isoformat()}) to {new_name} ({new.generated_at.isoformat()}):",
        f"  {c['new']} new ({c['new_fail']} FAIL), {c['resolved']} resolved, {c['unchanged']} unchanged FAIL/WARN results",
    ]
    if comparison.new:
        lines += ["", "New:"]
        lines += [f"  {f.status.value:<5} {f.severity.value:<8} {f.check_id:<18} {_where(f)}: {f.message}" for f in comparison.new]
    if comparison.resolved:
        lines += ["", "Resolved:"]
        for r in comparison.resolved:
            f = r.finding
            now = f"now {r.now.value}" if r.now else "no longer evaluated"
            lines.append(f"  {f.status.value:<5} {f.severity.value:<8} {f.check_id:<18} {_where(f)}: {now}")
    return "\n".join(plain(line) for line in lines) + "\n"


def diff_markdown(old: Report, new: Report, comparison: Comparison, old_name: str, new_name: str) -> str:
    c = _counts(comparison)
    out = [
        f"## ECS audit: changes since {md(old_name)}",
        "",
        f"{md(old_name)} ({md(old.generated_at.isoformat())}) → {md(new_name)} ({md(new.generated_at.isoformat())})",
        "",
        "| | FAIL/WARN results |",
        "|:--|--:|",
        f"| New | {c['new']} ({c['new_fail']} FAIL) |",
        f"| Resolved | {c['resolved']} |",
        f"| Unchanged | {c['unchanged']} |",
    ]
    if comparison.new:
        out += ["", "### New", "", "| Status | Severity | Check | Resource | Message |", "|:--|:--|:--|:--|:--|"]
        for f in comparison.new:
            out.append(
                f"| {md(f.status.value)} | {md(f.severity.value)} | **{md(f.check_id)}** {md(f.title, 100)} | {md(_where(f), 160)} | {md(f.message, 200)} |"
            )
    if comparison.resolved:
        out += ["", "### Resolved", "", "| Was | Severity | Check | Resource | Now |", "|:--|:--|:--|:--|:--|"]
        for r in comparison.resolved:
            f = r.finding
            now = r.now.value if r.now else "not evaluated"
            out.append(f"| {md(f.status.value)} | {md(f.severity.value)} | **{md(f.check_id)}** {md(f.title, 100)} | {md(_where(f), 160)} | {md(now)} |")
    return "\n".join(out) + "\n"


def diff_json(old: Report, new: Report, comparison: Comparison, old_name: str, new_name: str) -> str:
    data = {
        "old": {"source": old_name, "generated_at": old.generated_at.isoformat()},
        "new": {"source": new_name, "generated_at": new.generated_at.isoformat()},
        "counts": _counts(comparison),
        "new_findings": [f.model_dump(mode="json") for f in comparison.new],
        "resolved": [r.model_dump(mode="json") for r in comparison.resolved],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


DIFF_FORMATS = {"text": diff_text, "md": diff_markdown, "json": diff_json}
