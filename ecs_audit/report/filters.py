"""Jinja filters and helpers shared by the report templates.

Ordering, grouping and formatting live here so the templates only lay things out. Every value a
template prints passes through `clean` (installed as the environment's finalize hook): control
characters (terminal escapes, bidi overrides) never reach a report.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from ecs_audit.catalogue import Catalogue, CheckEntry, Severity
from ecs_audit.findings import SEVERITY_VALUES, SORT_KEY, STATUS_VALUES, Finding, Status
from ecs_audit.report.finding_index import FindingIndex
from ecs_audit.report.model import AreaScore, Report

# Characters that start inline markup anywhere in a line; `@` and `://` would become mentions and autolinks.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|<>~&@]|:(?=//))")
# Characters that only mean something at the start of a line (lists, quotes, headings, numbered lists).
_MD_LINE_START = re.compile(r"^(\d*)([-+=>.)])")
# C0/C1 controls except tab and newline, plus Unicode bidi overrides and isolates ("Trojan Source").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

STATUS_ORDER: tuple[Status, ...] = tuple(sorted(Status, key=lambda s: -s.rank))
SEVERITY_ORDER: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: -s.rank))
# Results a reader has to look at; the rest (PASS, N/A, WAIVED) are collapsed or counted only.
ATTENTION = frozenset({Status.FAIL, Status.WARN, Status.UNKNOWN})
ACCOUNT_LEVEL = "Account-level"
# data-cluster value of account-level results; cannot collide with a cluster name ([A-Za-z0-9_-]).
ACCOUNT_KEY = "(account-level)"
_STATUS_LABELS = {Status.NOT_APPLICABLE: "N/A"}


def clean(value: Any) -> Any:
    """Drop control characters from text; leave already-built markup and non-text values alone."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    if value.isascii() and value.isprintable():
        return value  # the common case, without the regular expression: nothing to drop
    return _CONTROL.sub("", value)


def _shorten(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def md(value: object, limit: int | None = None) -> str:
    """Escape text for Markdown (tables included): no markup, links, HTML or line breaks survive.

    With `limit`, the text is shortened to that many characters (before escaping)."""
    text = " ".join(_CONTROL.sub("", str(value)).split())
    text = _MD_SPECIAL.sub(r"\\\1", _shorten(text, limit)).replace("www.", "www\\.")
    return _MD_LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) or m.group(2) in "-+=>" else m.group(0), text)


def md_html(value: object, limit: int | None = None) -> Markup:
    """Text for raw HTML inside Markdown (e.g. <summary>), where backslash escapes do not apply."""
    text = " ".join(_CONTROL.sub("", str(value)).split())
    return escape(_shorten(text, limit))


def status_label(status: Status | str) -> str:
    status = Status(status)
    return _STATUS_LABELS.get(status, status.value)


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    """FAIL > WARN > UNKNOWN > MANUAL > WAIVED > PASS > NOT_APPLICABLE, then severity, then id."""
    return sorted(findings, key=SORT_KEY)


def by_check(findings: Iterable[Finding]) -> list[list[Finding]]:
    """Findings of the same check together, worst first; checks in the order of their worst finding."""
    groups: dict[str, list[Finding]] = {}
    for finding in worst_first(findings):
        groups.setdefault(finding.check_id, []).append(finding)
    return list(groups.values())


def is_open(finding: Finding) -> bool:
    """Whether a finding's details start expanded."""
    return finding.status in ATTENTION


@dataclass(frozen=True)
class ClusterGroup:
    key: str
    label: str
    findings: list[Finding]


@dataclass(frozen=True)
class AreaGroup:
    area: str
    title: str
    score: AreaScore | None
    clusters: list[ClusterGroup] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for group in self.clusters for f in group.findings]

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status.value == status)


def cluster_key(finding: Finding) -> str:
    return finding.cluster if finding.cluster is not None else ACCOUNT_KEY


def cluster_label(finding: Finding) -> str:
    return finding.cluster if finding.cluster is not None else ACCOUNT_LEVEL


def group_findings(findings: Iterable[Finding], catalogue: Catalogue, report: Report | None = None) -> list[AreaGroup]:
    """Findings by area (catalogue order, unknown areas last), then by cluster (account-level first),
    each group worst first. Every catalogue area is listed, with or without findings."""
    by_area: dict[str, list[Finding]] = {}
    for finding in findings:
        by_area.setdefault(finding.area, []).append(finding)
    scores = {a.area: a for a in report.summary.areas} if report is not None else {}
    titles = {a.area: a.title for a in catalogue.areas}
    order = catalogue.area_names + sorted(set(by_area) - set(titles))
    groups = []
    for area in order:
        clusters: dict[str, list[Finding]] = {}
        for finding in by_area.get(area, []):
            clusters.setdefault(cluster_key(finding), []).append(finding)
        keys = sorted(clusters, key=lambda k: (k != ACCOUNT_KEY, k))
        groups.append(
            AreaGroup(
                area=area,
                title=titles.get(area, area),
                score=scores.get(area),
                clusters=[ClusterGroup(k, cluster_label(clusters[k][0]), worst_first(clusters[k])) for k in keys],
            )
        )
    return groups


# Statuses listed resource by resource in a roll-up; PASS and NOT_APPLICABLE are counted (PASS with
# a compact list of names).
LISTED = (Status.FAIL, Status.WARN, Status.UNKNOWN, Status.WAIVED, Status.MANUAL)


@dataclass(frozen=True)
class CheckRollup:
    """One check's results: the resources it affects worst first, the rest counted."""

    check_id: str
    title: str
    area: str
    severity: Severity
    entry: CheckEntry | None
    listed: list[Finding]
    passed: list[Finding]
    counts: dict[str, int]
    # Any result of the check (e.g. a NOT_APPLICABLE one when nothing is listed or passed).
    sample: Finding | None = None

    @property
    def worst(self) -> Status:
        return self.listed[0].status if self.listed else (Status.PASS if self.passed else Status.NOT_APPLICABLE)

    # worst_severity and new are asked for several times per roll-up (sorting, templates): counted once.
    @cached_property
    def worst_severity(self) -> Severity:
        open_ = {f.severity for f in self.listed if f.status in (Status.FAIL, Status.WARN)}
        return max(open_, key=lambda s: s.rank) if open_ else self.severity

    @cached_property
    def new(self) -> int:
        return sum(1 for f in self.listed if f.change == "new")

    @property
    def first(self) -> Finding:
        return (self.listed or self.passed or [self.sample])[0]  # type: ignore[list-item]

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


def rollups(findings: Iterable[Finding], catalogue: Catalogue | None = None) -> list[CheckRollup]:
    """Each check once, worst first: by its worst status, then worst FAIL/WARN severity, then the number
    of resources affected; its FAIL/WARN/UNKNOWN/WAIVED/MANUAL results listed worst first, PASS apart."""
    by_id: dict[str, list[Finding]] = {}
    for finding in findings:
        by_id.setdefault(finding.check_id, []).append(finding)
    return _rollups(by_id, catalogue, worst_first)


def check_rollups(index: FindingIndex, catalogue: Catalogue | None = None) -> list[CheckRollup]:
    """rollups() of the indexed findings."""
    return _rollups(index.by_check, catalogue, index.worst_first)


_STATUS_OF = attrgetter("status")
_LISTED = frozenset(LISTED)


def _rollups(
    by_check: dict[str, list[Finding]], catalogue: Catalogue | None, order: Callable[[list[Finding]], list[Finding]]
) -> list[CheckRollup]:
    """The roll-ups of findings grouped by check (each group in the findings' order); `order` sorts a
    group's listed findings worst first."""
    entries = catalogue_index(catalogue) if catalogue is not None else {}
    out = []
    for check_id, mine in by_check.items():
        tally = Counter(map(_STATUS_OF, mine))
        counts = {status.value: tally.get(status, 0) for status in Status}
        listed = order([f for f in mine if f.status in _LISTED])
        passed = [f for f in mine if f.status is Status.PASS]
        passed.sort(key=lambda f: (f.resource.name, f.container or "", f.account_id, f.region))
        entry = entries.get(check_id)
        first = mine[0]
        out.append(
            CheckRollup(check_id, first.title, first.area, entry.severity if entry else first.severity, entry, listed, passed, counts, first)
        )
    out.sort(key=lambda r: (-r.worst.rank, -r.worst_severity.rank, -(r.count("FAIL") + r.count("WARN")), r.check_id))
    return out


def top_risks(findings: Iterable[Finding], limit: int = 5) -> list[CheckRollup]:
    """The checks with unwaived FAIL results, worst severity first, then most resources affected."""
    failing = [r for r in rollups(f for f in findings if f.status is Status.FAIL)]
    return failing[:limit]


@dataclass(frozen=True)
class OwnerGroup:
    owner: str
    counts: dict[str, int]
    by_severity: dict[str, int]
    checks: list[tuple[str, str, int]]  # (check id, title, FAIL/WARN results), most first


UNOWNED = "(no owner tag)"


def owner_groups(findings: Iterable[Finding]) -> list[OwnerGroup]:
    """FAIL/WARN/UNKNOWN results by owner (config owner_tags), most FAIL first; untagged last."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        if f.status in ATTENTION:
            groups.setdefault(f.owner or UNOWNED, []).append(f)
    out = []
    for owner, mine in groups.items():
        counts = {s.value: 0 for s in (Status.FAIL, Status.WARN, Status.UNKNOWN)}
        by_severity = {sev.value: 0 for sev in SEVERITY_ORDER}
        per_check: dict[str, tuple[str, int]] = {}
        for f in mine:
            status = f.status
            counts[STATUS_VALUES[status]] += 1
            if status in (Status.FAIL, Status.WARN):
                by_severity[SEVERITY_VALUES[f.severity]] += 1
                title, n = per_check.get(f.check_id, (f.title, 0))
                per_check[f.check_id] = (title, n + 1)
        checks = sorted(((cid, t, n) for cid, (t, n) in per_check.items()), key=lambda c: (-c[2], c[0]))
        out.append(OwnerGroup(owner, counts, by_severity, checks))
    out.sort(key=lambda g: (g.owner == UNOWNED, -g.counts["FAIL"], -g.counts["WARN"], g.owner))
    return out


def service_key(finding: Finding) -> str:
    """The ECS service a result concerns (data-service in the HTML), or empty."""
    if finding.resource.type == "AWS::ECS::Service":
        return finding.resource.name
    return ""


def type_label(resource_type: str) -> str:
    """AWS::ECS::Service -> ECS Service; AWS::::Account -> Account."""
    parts = [p for p in resource_type.split("::") if p and p != "AWS"]
    return " ".join(parts) or resource_type


def account_label(account_id: str, names: dict[str, str]) -> str:
    name = names.get(account_id)
    return f"{name} ({account_id})" if name else account_id


def _evidence_text(evidence: dict[str, Any], limit: int) -> str:
    # evidence_value(value, limit) without the call for short printable strings (most values).
    text = "; ".join(
        f"{key}={value if type(value) is str and len(value) <= limit and value.isascii() and value.isprintable() else evidence_value(value, limit)}"
        for key, value in sorted(evidence.items())
    )
    return _shorten(text, limit)


def _escape_text(text: str) -> str:
    """markupsafe.escape(text) as a str (the same entities), without building Markup objects."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")


class RollupTables:
    """One report's roll-up tables (the rows of listed results, the PASS names), built here rather
    than in the template: at tens of thousands of rows a template macro per row costs seconds. Every
    value is escaped; data-* attributes (status s, severity v, account a, region r, cluster c,
    service sv, owner o, change ch) are written only where they say something (absent means empty,
    or the check's severity). A resource's cells (its filter values, name and place) are made once
    for all its checks' rows."""

    def __init__(self, report: Report, evidence_limit: int = 120) -> None:
        self._multi_account = len(report.scope.accounts) > 1
        self._multi_region = len(report.scope.regions) > 1
        self._names = report.scope.account_names
        self._evidence_limit = evidence_limit
        self._texts: dict[str, str] = {}
        self._resources: dict[tuple, tuple[str, str, str]] = {}

    def _text_of(self, value: str) -> str:
        """escape(clean(value)) as text, made once per distinct value (clusters, accounts repeat)."""
        done = self._texts.get(value)
        if done is None:
            done = self._texts[value] = _escape_text(clean(value))
        return done

    def _resource_cells(self, f: Finding) -> tuple[str, str, str]:
        """The data-* attributes a, r, c, sv and o (each after a space), the name cell and the place cell."""
        ref = f.resource
        key = (ref.type, ref.name, f.container, f.cluster, f.owner, f.account_id, f.region)
        cells = self._resources.get(key)
        if cells is not None:
            return cells
        text_of = self._text_of
        attrs = ""
        if self._multi_account:
            attrs += f' data-a="{text_of(f.account_id)}"'
        if self._multi_region:
            attrs += f' data-r="{text_of(f.region)}"'
        attrs += f' data-c="{text_of(f.cluster if f.cluster is not None else ACCOUNT_KEY)}"'
        if ref.type == "AWS::ECS::Service" and ref.name:  # service_key(f)
            attrs += f' data-sv="{text_of(ref.name)}"'
        if f.owner:
            attrs += f' data-o="{text_of(f.owner)}"'
        name = text_of(ref.name) + (" › " + text_of(f.container) if f.container else "")
        where = [text_of(f.cluster if f.cluster is not None else ACCOUNT_LEVEL)]  # cluster_label
        if self._multi_account or self._names:
            where.append(text_of(account_label(f.account_id, self._names)))
        if self._multi_region:
            where.append(text_of(f.region))
        cells = self._resources[key] = (attrs, name, " · ".join(where))
        return cells

    def rows(self, r: CheckRollup) -> Markup:
        """The rows of a roll-up's resource table."""
        out: list[str] = []
        for f in r.listed:
            status = STATUS_VALUES[f.status]
            attrs, name, where = self._resource_cells(f)
            head = f'data-s="{status}"'
            badge = _STATUS_LABELS.get(f.status, status)  # status_label
            if f.severity is not r.severity:
                severity = SEVERITY_VALUES[f.severity]
                head += f' data-v="{severity}"'
                badge += f" · {severity}"
            head += attrs
            if f.change:
                head += f' data-ch="{f.change}"'
            if f.change == "new":
                badge += ' <b class="new">new</b>'
            text = _escape_text(clean(f.message))
            if f.waiver is not None:
                w = f.waiver
                text += f'<br><i>Waived until {escape(clean(w.expires))} by {escape(clean(w.owner))}: {escape(clean(w.reason))}</i>'
            if f.answer is not None:
                a = f.answer
                text += f'<br><i>Answered {escape(clean(a.answer))} by {escape(clean(a.who))} on {escape(clean(a.when))}{": " + str(escape(clean(a.note))) if a.note else ""}</i>'
            if f.evidence:
                text += f'<small class="ev">{_escape_text(_evidence_text(f.evidence, self._evidence_limit))}</small>'
            out.append(f"<tr {head}><td>{badge}</td><td>{name}</td><td>{where}</td><td>{text}</td></tr>")
        return Markup("\n".join(out))

    def pass_names(self, r: CheckRollup, limit: int = 200) -> Markup:
        """The names of a roll-up's PASS resources (the first `limit`), escaped once per name for all checks."""
        text_of = self._text_of
        names = [text_of(f.resource.name) + (" › " + text_of(f.container) if f.container else "") for f in r.passed[:limit]]
        more = f" … and {len(r.passed) - limit} more (report.json)" if len(r.passed) > limit else ""
        return Markup(" · ".join(names) + more)




def catalogue_index(catalogue: Catalogue) -> dict[str, CheckEntry]:
    return {entry.id: entry for entry in catalogue.checks}


def questionnaire(index: FindingIndex, catalogue: Catalogue) -> list[Finding]:
    """The MANUAL questionnaire's results (checks with `automated: false`), in catalogue order."""
    order = {entry.id: i for i, entry in enumerate(catalogue.checks) if not entry.automated}
    return sorted(index.of_checks(order), key=lambda f: (order[f.check_id], f.account_id, f.region))


def with_change(findings: Iterable[Finding], change: str) -> list[Finding]:
    """Findings whose baseline comparison gave `change` (new, unchanged), worst first."""
    return worst_first(f for f in findings if f.change == change)


def filter_options(index: FindingIndex) -> dict[str, list[tuple[str, str]]]:
    """(value, label) pairs for the HTML filter controls, only for values that occur."""
    clusters = {ACCOUNT_KEY if c is None else c: ACCOUNT_LEVEL if c is None else c for c in index.clusters}
    return {
        "status": [(s.value, status_label(s)) for s in STATUS_ORDER if s in index.by_status],
        "severity": [(s.value, s.value) for s in SEVERITY_ORDER if s in index.severities],
        "account": [(a, a) for a in sorted(index.accounts)],
        "service": [(v, v) for v in sorted(index.services)],
        "owner": [(v, v) for v in sorted(index.owners)],
        "region": [(r, r) for r in sorted(index.regions)],
        "cluster": sorted(clusters.items(), key=lambda kv: (kv[0] != ACCOUNT_KEY, kv[0])),
    }


def evidence_value(value: Any, limit: int = 2000) -> str:
    """An evidence value as compact JSON; plain strings as they are."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return _shorten(clean(text), limit)


def percent(value: float | None, digits: int = 1) -> str:
    """0.9523 -> '95.2%'; None -> 'n/a'."""
    if value is None:
        return "n/a"
    return f"{value * 100:.{digits}f}%"


def timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def grade_class(grade: str) -> str:
    """A CSS-safe class suffix for a grade (A-F, N/A)."""
    return grade.lower() if grade in {"A", "B", "C", "D", "F"} else "na"


def install(env: Environment) -> None:
    from ecs_audit.report import chart

    env.finalize = clean
    env.filters.update(
        md=md,
        md_html=md_html,
        status_label=status_label,
        worst_first=worst_first,
        by_check=by_check,
        evidence_value=evidence_value,
        percent=percent,
        timestamp=timestamp,
        grade_class=grade_class,
        cluster_key=cluster_key,
        cluster_label=cluster_label,
        service_key=service_key,
        type_label=type_label,
    )
    env.tests["open"] = is_open
    env.globals.update(
        group_findings=group_findings,
        catalogue_index=catalogue_index,
        filter_options=filter_options,
        questionnaire=questionnaire,
        with_change=with_change,
        chart=chart,
        rollups=rollups,
        check_rollups=check_rollups,
        RollupTables=RollupTables,
        top_risks=top_risks,
        owner_groups=owner_groups,
        account_label=account_label,
        UNOWNED=UNOWNED,
        STATUS_ORDER=[s.value for s in STATUS_ORDER],
        SEVERITY_ORDER=[s.value for s in SEVERITY_ORDER],
    )
