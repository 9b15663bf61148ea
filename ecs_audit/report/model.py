"""The report: findings plus the summary every format shows (schema version 3 of report.json)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ConfigDict

from ecs_audit.catalogue import Catalogue, Severity
from ecs_audit.findings import SORT_KEY, Finding, Status, computed_once
from ecs_audit.inventory.errors import ApiError
from ecs_audit.report.finding_index import FindingIndex, index_findings
from ecs_audit.report.trend import HistorySection

REPORT_SCHEMA_VERSION = 3
# Versions of report.json that --baseline and `ecs-audit diff` read.
READABLE_REPORT_VERSIONS = (1, 2, 3)

# Share of a check's weight that a result earns towards the score.
_CREDIT = {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}
# Passing weight every score starts with (one critical check's weight): a handful of low-severity
# results cannot swing a small area's score, while a large estate's score is its results'.
PRIOR_WEIGHT = 10
# The best grade a run (or an area) can get with an unwaived FAIL of this severity.
GRADE_CAPS = ((Severity.CRITICAL, "D"), (Severity.HIGH, "B"))
_GRADES = ("A", "B", "C", "D", "F")
_WEIGHT = {severity: severity.weight for severity in Severity}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tool(_Model):
    name: str = "ecs-audit"
    version: str


class AuditScope(_Model):
    accounts: list[str]
    regions: list[str]
    caller_arn: str | None = None
    # Organisation account names by id, where the snapshot has them.
    account_names: dict[str, str] = {}
    # Checks left out with --checks / --skip-checks (catalogue ids, catalogue order).
    skipped_checks: list[str] = []


class AreaScore(_Model):
    area: str
    title: str
    score: int | None
    grade: str
    counts: dict[str, int]
    # Why the grade is worse than the score's ("2 critical FAIL"), None when it is not capped.
    grade_cap: str | None = None


class ChangeSummary(_Model):
    """With --baseline: FAIL and WARN results compared with the baseline report's."""

    new: int
    # New results with status FAIL (what `ecs-audit diff` exits 1 for).
    new_fail: int
    resolved: int
    unchanged: int


class AccountScore(_Model):
    """One account's roll-up in an organisation run."""

    account_id: str
    # The account's name in the organisation, where the snapshot has it.
    account_name: str | None = None
    score: int | None
    grade: str
    counts: dict[str, int]
    errors: int
    # Why the account could not be audited (e.g. its role could not be assumed); None when it was.
    unreachable: str | None = None


class Summary(_Model):
    score: int | None
    grade: str
    grade_cap: str | None = None
    areas: list[AreaScore]
    by_status: dict[str, int]
    # FAIL and WARN results (unwaived) by severity: what needs attention.
    by_severity: dict[str, int]
    coverage: float | None
    checks_evaluated: int
    resources_evaluated: int
    errors: int
    # Checks with at least one UNKNOWN result: not evaluated on some or all of their resources.
    checks_unknown: int = 0
    # None without --baseline.
    changes: ChangeSummary | None = None
    expired_waivers: int = 0
    stale_waivers: int = 0
    # Per-account roll-up, worst first (one entry for a single-account run).
    accounts: list[AccountScore] = []


class ReportError(_Model):
    account_id: str
    region: str
    service: str
    operation: str
    error_code: str
    message: str
    permission: str
    resources: list[str] = []


class BaselineInfo(_Model):
    """The report a run was compared with (--baseline)."""

    source: str
    generated_at: datetime
    tool_version: str


class ResolvedFinding(_Model):
    """A FAIL or WARN result of the baseline that this run no longer has."""

    finding: Finding
    # This run's status for the same check and resource (PASS, WAIVED, ...); None when it was not evaluated.
    now: Status | None = None


class WaiverNote(_Model):
    """An entry of the waivers file that waived nothing: expired, or stale (matches no FAIL/WARN)."""

    entry: int  # 1-based position in the waivers file
    check: str
    resource: str
    reason: str
    owner: str
    expires: str
    # The finding id the entry names, if it names one ("resource" is then "*" unless it gave a glob too).
    id: str | None = None
    # FAIL/WARN results the entry matches (for an expired waiver: what it would still waive).
    matches: int = 0


class Report(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(computed_once,))

    schema_version: int = REPORT_SCHEMA_VERSION
    tool: Tool
    generated_at: datetime
    scope: AuditScope
    summary: Summary
    findings: list[Finding]
    errors: list[ReportError]
    baseline: BaselineInfo | None = None
    resolved: list[ResolvedFinding] = []
    expired_waivers: list[WaiverNote] = []
    stale_waivers: list[WaiverNote] = []
    # With --history: trend, regressions, ages of open findings, time to fix.
    history: HistorySection | None = None

    @computed_once
    def index(self) -> FindingIndex:
        """The findings grouped for the HTML and Markdown templates, once for every format rendered
        (kept in __dict__ like Finding.id; model_copy drops it, since an update may change the findings)."""
        return index_findings(self.findings)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Report:
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("index", None)
        return copied


def grade_for(score: int | None) -> str:
    if score is None:
        return "N/A"
    for threshold, grade in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
        if score >= threshold:
            return grade
    return "F"


# Tallies of results by (status, severity): everything the scores, grades and counts need.
Tally = dict[tuple[Status, Severity], int]


def tally(findings: list[Finding]) -> Tally:
    counts: Tally = {}
    for finding in findings:
        key = (finding.status, finding.severity)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _score_of_tally(counts: Tally) -> int | None:
    total = 0
    earned = 0.0
    counted = 0
    open_results = False
    for (status, severity), n in counts.items():
        credit = _CREDIT.get(status)
        if credit is None:
            continue
        counted += n
        if credit != 1.0:
            open_results = True
        weight = _WEIGHT[severity]
        total += weight * n
        earned += weight * credit * n
    if counted == 0:
        return None
    score = int(100 * (earned + PRIOR_WEIGHT) / (total + PRIOR_WEIGHT))
    return min(score, 99) if open_results else score


def score_of(findings: list[Finding]) -> int | None:
    """Severity-weighted share of passing results, WARN counting half, starting from PRIOR_WEIGHT of
    passing weight; rounded down, and 100 only without any FAIL or WARN. UNKNOWN, NOT_APPLICABLE,
    WAIVED and MANUAL are left out, and so is severity info (weight 0). None without any result."""
    # Weights are whole numbers and credits halves: the sums are exact in any order.
    return _score_of_tally(tally(findings))


def _grade_cap_of_tally(counts: Tally) -> tuple[str, str] | None:
    for severity, cap in GRADE_CAPS:
        count = counts.get((Status.FAIL, severity), 0)
        if count:
            return cap, f"{count} {severity.value} FAIL"
    return None


def grade_cap(findings: list[Finding]) -> tuple[str, str] | None:
    """(best grade allowed, why) when an unwaived FAIL of a capping severity is present."""
    return _grade_cap_of_tally(tally(findings))


def _capped_grade_of_tally(score: int | None, counts: Tally) -> tuple[str, str | None]:
    grade = grade_for(score)
    cap = _grade_cap_of_tally(counts)
    if grade == "N/A" or cap is None or _GRADES.index(grade) >= _GRADES.index(cap[0]):
        return grade, None
    return cap[0], f"graded {cap[0]} at best: {cap[1]}"


def capped_grade(score: int | None, findings: list[Finding]) -> tuple[str, str | None]:
    """The grade of the score, no better than GRADE_CAPS allow; and the cap's reason when it applied."""
    return _capped_grade_of_tally(score, tally(findings))


def _statuses_of_tally(counts: Tally) -> dict[str, int]:
    by_status = dict.fromkeys(Status, 0)
    for (status, _), n in counts.items():
        by_status[status] += n
    return {status.value: n for status, n in by_status.items()}


def _count_statuses(findings: list[Finding]) -> dict[str, int]:
    return _statuses_of_tally(tally(findings))


def account_scores(
    findings: list[Finding], errors: list[ApiError], accounts: list[str], names: dict[str, str] | None = None
) -> list[AccountScore]:
    """Score per account, worst first; accounts that could not be reached last, with the reason."""
    by_account: dict[str, Tally] = {}
    for finding in findings:
        counts = by_account.setdefault(finding.account_id, {})
        key = (finding.status, finding.severity)
        counts[key] = counts.get(key, 0) + 1
    return _account_scores(by_account, errors, accounts, names)


def _account_scores(
    by_account: dict[str, Tally], errors: list[ApiError], accounts: list[str], names: dict[str, str] | None
) -> list[AccountScore]:
    out = []
    for account_id in accounts:
        mine = by_account.get(account_id, {})
        account_errors = [e for e in errors if e.account_id == account_id]
        blocked = next((e for e in account_errors if e.service == "sts" and e.operation == "AssumeRole"), None)
        score = _score_of_tally(mine)
        out.append(
            AccountScore(
                account_id=account_id,
                account_name=(names or {}).get(account_id),
                score=score,
                grade=_capped_grade_of_tally(score, mine)[0],
                counts=_statuses_of_tally(mine),
                errors=len(account_errors),
                unreachable=blocked.describe() if blocked else None,
            )
        )
    out.sort(key=lambda a: (a.unreachable is not None, a.score is None, a.score or 0, a.account_id))
    return out


# What summarise counts findings by, and what makes a resource distinct (after its type).
_TALLY_KEY = attrgetter("area", "account_id", "check_id", "status", "severity")
_RESOURCE_KEY = attrgetter("resource.type", "account_id", "region", "resource.arn", "container")


def summarise(
    findings: list[Finding],
    catalogue: Catalogue,
    errors: list[ApiError],
    accounts: list[str] | None = None,
    account_names: dict[str, str] | None = None,
) -> Summary:
    # The findings counted by area, account, check, status and severity in C (a few hundred distinct
    # keys), then tallied from those counts by area, by account and overall.
    by_area: dict[str, Tally] = {}
    by_account: dict[str, Tally] = {}
    overall: Tally = {}
    checks: set[str] = set()
    unknown_checks: set[str] = set()
    for (area, account_id, check_id, status, severity), n in Counter(map(_TALLY_KEY, findings)).items():
        key = (status, severity)
        for counts in (by_area.setdefault(area, {}), by_account.setdefault(account_id, {}), overall):
            counts[key] = counts.get(key, 0) + n
        if status is not Status.MANUAL:
            checks.add(check_id)
            if status is Status.UNKNOWN:
                unknown_checks.add(check_id)
    resources = {key[1:] for key in set(map(_RESOURCE_KEY, findings)) if key[0] != "AWS::::Account"}
    areas = []
    for area in catalogue.areas:
        in_area = by_area.get(area.area, {})
        score = _score_of_tally(in_area)
        grade, cap = _capped_grade_of_tally(score, in_area)
        areas.append(
            AreaScore(area=area.area, title=area.title, score=score, grade=grade, counts=_statuses_of_tally(in_area), grade_cap=cap)
        )
    by_status = _statuses_of_tally(overall)
    by_severity = {severity.value: 0 for severity in Severity}
    for (status, severity), n in overall.items():
        if status in (Status.FAIL, Status.WARN):
            by_severity[severity.value] += n
    evaluated = sum(by_status[s.value] for s in (Status.PASS, Status.FAIL, Status.WARN, Status.WAIVED, Status.NOT_APPLICABLE))
    unknown = by_status[Status.UNKNOWN.value]
    score = _score_of_tally(overall)
    grade, cap = _capped_grade_of_tally(score, overall)
    return Summary(
        score=score,
        grade=grade,
        grade_cap=cap,
        areas=areas,
        by_status=by_status,
        by_severity=by_severity,
        coverage=round(evaluated / (evaluated + unknown), 4) if evaluated + unknown else None,
        checks_evaluated=len(checks),
        checks_unknown=len(unknown_checks),
        resources_evaluated=len(resources),
        errors=len(errors),
        accounts=_account_scores(by_account, errors, sorted(accounts if accounts is not None else by_account), account_names),
    )


def build_report(
    findings: list[Finding],
    catalogue: Catalogue,
    errors: list[ApiError],
    *,
    version: str,
    generated_at: datetime,
    accounts: list[str],
    regions: list[str],
    caller_arn: str | None,
    baseline: BaselineInfo | None = None,
    resolved: list[ResolvedFinding] | None = None,
    expired_waivers: list[WaiverNote] | None = None,
    stale_waivers: list[WaiverNote] | None = None,
    skipped_checks: list[str] | None = None,
    account_names: dict[str, str] | None = None,
) -> Report:
    """The report. With `baseline`, findings carry their `change` and `resolved` lists what went away."""
    resolved = sorted(resolved or [], key=lambda r: r.finding.sort_key)
    names = {k: v for k, v in (account_names or {}).items() if v}
    summary = summarise(findings, catalogue, errors, accounts, names).model_copy(
        update={
            "changes": change_summary(findings, resolved) if baseline is not None else None,
            "expired_waivers": len(expired_waivers or []),
            "stale_waivers": len(stale_waivers or []),
        }
    )
    report_errors = sorted(
        (
            ReportError(
                account_id=e.account_id,
                region=e.region,
                service=e.service,
                operation=e.operation,
                error_code=e.error_code,
                message=e.message,
                permission=e.action,
                resources=sorted(e.resources),
            )
            for e in errors
        ),
        key=lambda e: (e.account_id, e.region, e.service, e.operation, e.error_code, e.resources, e.message),
    )
    return Report(
        tool=Tool(version=version),
        generated_at=generated_at,
        scope=AuditScope(accounts=sorted(accounts), regions=sorted(regions), caller_arn=caller_arn, account_names=names, skipped_checks=list(skipped_checks or [])),
        summary=summary,
        findings=sorted(findings, key=SORT_KEY),
        errors=report_errors,
        baseline=baseline,
        resolved=resolved,
        expired_waivers=list(expired_waivers or []),
        stale_waivers=list(stale_waivers or []),
    )


def change_summary(findings: list[Finding], resolved: list[ResolvedFinding]) -> ChangeSummary:
    new = [f for f in findings if f.change == "new"]
    return ChangeSummary(
        new=len(new),
        new_fail=sum(1 for f in new if f.status is Status.FAIL),
        resolved=len(resolved),
        unchanged=sum(1 for f in findings if f.change == "unchanged"),
    )


def expand_report(data: dict) -> dict:
    """A schema-2 or -3 report.json's data in the shape of the Report model: each finding gets its
    check's fields, its resource's and (schema 3) its evidence back, and loses its id (derived, never
    trusted from the file)."""
    table = data.get("checks")
    if not isinstance(table, dict):
        return data
    resources = data.get("resources") if isinstance(data.get("resources"), list) else []
    evidence = data.get("evidence") if isinstance(data.get("evidence"), list) else None
    out = {k: v for k, v in data.items() if k not in ("checks", "resources", "evidence")}

    def expand(item: object) -> object:
        if not isinstance(item, dict):
            return item
        item = dict(item)
        if "check_id" not in item and isinstance(item.get("id"), str) and "/" in item["id"]:
            item["check_id"] = item["id"].rsplit("/", 1)[0]
        shared = table.get(item.get("check_id"))
        full = {**(shared if isinstance(shared, dict) else {}), **item}
        full.pop("id", None)
        resource = full.get("resource")
        if isinstance(resource, int) and not isinstance(resource, bool) and 0 <= resource < len(resources) and isinstance(resources[resource], dict):
            entry = resources[resource]
            full["resource"] = {k: entry[k] for k in ("arn", "type", "name") if k in entry}
            for name in ("account_id", "region", "cluster", "owner"):
                if name not in full and name in entry:
                    full[name] = entry[name]
        index = full.get("evidence")
        if evidence is not None and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(evidence):
            full["evidence"] = evidence[index]
        return full

    if isinstance(out.get("findings"), list):
        out["findings"] = [expand(f) for f in out["findings"]]
    if isinstance(out.get("resolved"), list):
        out["resolved"] = [
            {**r, "finding": expand(r.get("finding"))} if isinstance(r, dict) else r for r in out["resolved"]
        ]
    return out


def report_from_data(data: dict) -> Report:
    """A report.json's data (schema 1, 2 or 3) as a Report of this version."""
    return Report.model_validate({**expand_report(data), "schema_version": REPORT_SCHEMA_VERSION})


def report_from_json(text: str) -> Report:
    import json

    return report_from_data(json.loads(text))
