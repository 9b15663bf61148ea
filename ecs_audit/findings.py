"""Results of checks: statuses, verdicts (what a check function returns) and findings (what reports show)."""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from ecs_audit.catalogue import Reference, Severity


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    UNKNOWN = "UNKNOWN"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    WAIVED = "WAIVED"
    MANUAL = "MANUAL"

    @property
    def rank(self) -> int:
        """Worst first when sorting."""
        return {"FAIL": 6, "WARN": 5, "UNKNOWN": 4, "MANUAL": 3, "WAIVED": 2, "PASS": 1, "NOT_APPLICABLE": 0}[self.value]


class Verdict(NamedTuple):
    """What a check function decides about one resource. (Immutable like a frozen dataclass, and a
    third as costly to make: an audit makes one per result, tens of thousands. The evidence default
    is shared: a verdict's evidence is never changed, only copied into its finding.)"""

    status: Status
    message: str
    evidence: dict[str, Any] = {}
    # Only where the rule grades a finding differently from its check (e.g. IMAGE-005).
    severity: Severity | None = None


def ok(message: str, evidence: dict[str, Any] | None = None) -> Verdict:
    return Verdict(Status.PASS, message, evidence or {})


def fail(message: str, evidence: dict[str, Any] | None = None, *, severity: Severity | None = None) -> Verdict:
    return Verdict(Status.FAIL, message, evidence or {}, severity)


def warn(message: str, evidence: dict[str, Any] | None = None, *, severity: Severity | None = None) -> Verdict:
    return Verdict(Status.WARN, message, evidence or {}, severity)


def na(reason: str, evidence: dict[str, Any] | None = None) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, reason, evidence or {})


def unknown(reason: str, evidence: dict[str, Any] | None = None) -> Verdict:
    return Verdict(Status.UNKNOWN, reason, evidence or {})


class EvidenceMissing(Exception):
    """Raised by a check (or an estate accessor) when the data it needs was not collected.

    The engine turns it into an UNKNOWN result with this reason: missing data is never a PASS.
    """

    def __init__(self, reason: str, operation: str | None = None, error_code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.operation = operation
        self.error_code = error_code


class ResourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    arn: str
    name: str


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    resource: str
    reason: str
    owner: str
    expires: str
    # The finding id the waiver named (waivers may name one result by id); None when it named a glob only.
    id: str | None = None
    # The status the waiver replaced (FAIL or WARN); None in reports written before it was recorded.
    status: Status | None = None


class Answer(BaseModel):
    """A MANUAL question's answer from the answers file (--answers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: str  # yes | no | n.a.
    who: str
    when: str  # ISO date
    note: str = ""


class computed_once:  # noqa: N801 (used as a decorator, like functools.cached_property)
    """functools.cached_property without its lock (Python 3.11 takes one on every first access,
    and a report asks tens of thousands of findings for their ids): the value is computed on first
    access and kept in the instance's __dict__, where later lookups find it before this descriptor.
    Racing threads would both compute the same value; either may stay."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(computed_once,))

    check_id: str
    title: str
    area: str
    severity: Severity
    status: Status
    account_id: str
    region: str
    resource: ResourceRef
    container: str | None = None
    # The cluster a resource belongs to, for grouping in reports (None for account-level results).
    cluster: str | None = None
    message: str
    evidence: dict[str, Any] = {}
    remediation: str
    references: list[Reference] = []
    waiver: Waiver | None = None
    # MANUAL questions only: the answer that decided the status (None while the question is open).
    answer: Answer | None = None
    # The value of the first configured owner tag (config owner_tags) on the resource, if any.
    owner: str | None = None
    # With --baseline, for FAIL and WARN results: "new" or "unchanged" (resolved ones are listed apart).
    change: Literal["new", "unchanged"] | None = None

    # id and sort_key are worked out once per finding (computed_once keeps them in __dict__, beside
    # the fields; pydantic neither dumps nor compares them): the evaluation and every report format
    # sort the same findings and name them by id. model_copy drops them, since an update may change
    # what they are made of.
    @computed_once
    def id(self) -> str:
        """Stable across runs: see finding_id."""
        return finding_id(self)

    @computed_once
    def sort_key(self) -> tuple:
        return (
            -_STATUS_RANK[self.status],
            -_SEVERITY_RANK[self.severity],
            self.check_id,
            self.account_id,
            self.region,
            self.resource.arn,
            self.container or "",
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Finding:
        copied = super().model_copy(update=update, deep=deep)
        for name in _CACHED:
            copied.__dict__.pop(name, None)
        return copied


# Finding's computed_once names (kept in __dict__ once computed).
_CACHED = ("id", "sort_key")

# The key of every sort of findings (worst first), without a lambda frame per finding.
SORT_KEY = operator.attrgetter("sort_key")


# (name, required, default) of Finding's fields, in declaration order.
_FINDING_FIELDS = tuple((name, f.is_required(), f.default) for name, f in Finding.model_fields.items())


def trusted_finding(**values: Any) -> Finding:
    """Finding.model_construct(**values) for values already of their fields' types, at a fraction of
    its cost (it resolves every field's aliases and defaults on each call, and an audit makes tens of
    thousands of findings). The same instance: fields in declaration order, the given names as the
    fields set, absent optional fields at their defaults (a fresh copy of a mutable one)."""
    data = {}
    for name, required, default in _FINDING_FIELDS:
        if name in values:
            data[name] = values[name]
        elif required:
            raise TypeError(f"trusted_finding: {name} is required")
        else:
            data[name] = default.copy() if isinstance(default, (dict, list)) else default
    return finding_from_fields(data, set(values))


def finding_from_fields(data: dict[str, Any], fields_set: set[str]) -> Finding:
    """A Finding whose __dict__ is `data`: every field, in declaration order, of its type (the
    caller's promise: nothing is checked); `fields_set` as model_fields_set."""
    finding = _new_finding(Finding)
    _set_attribute(finding, "__dict__", data)
    _set_attribute(finding, "__pydantic_fields_set__", fields_set)
    _set_attribute(finding, "__pydantic_extra__", None)
    _set_attribute(finding, "__pydantic_private__", None)
    return finding


# Looked up once: finding_from_fields runs once per result, tens of thousands of times in an audit.
_new_finding = Finding.__new__
_set_attribute = object.__setattr__


# Enum properties cost a lookup chain each; sorting tens of thousands of findings uses these.
_STATUS_RANK = {status: status.rank for status in Status}
_SEVERITY_RANK = {severity: severity.rank for severity in Severity}
# Each status's and severity's value: Enum.value is a property (a Python call), and the report
# formats write it on every result's line.
STATUS_VALUES: dict[Status, str] = {status: status.value for status in Status}
SEVERITY_VALUES: dict[Severity, str] = {severity: severity.value for severity in Severity}

# arn:PARTITION:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION
_TASK_DEFINITION_REVISION = re.compile(r"^(arn:[^:]+:ecs:[^:]*:[^:]*:task-definition/[^:/]+):\d+$")

FindingKey = tuple[str, str, str, str, str]


def resource_key(arn: str) -> str:
    """The ARN, with a task definition's revision dropped (matched by family)."""
    if ":task-definition/" not in arn:
        return arn
    match = _TASK_DEFINITION_REVISION.match(arn)
    return match.group(1) if match else arn


def finding_key(finding: Finding) -> FindingKey:
    """What identifies a result across runs: check, account, region, resource (task definitions by
    family) and container."""
    return (finding.check_id, finding.account_id, finding.region, resource_key(finding.resource.arn), finding.container or "")


def finding_id(finding: Finding) -> str:
    """`CHECK-ID/` plus 16 hex digits of the SHA-256 of the rest of finding_key: the same for the same
    check and resource in every run (registering a new task-definition revision keeps it)."""
    digest = _resource_digest(finding.account_id, finding.region, finding.resource.arn, finding.container or "")
    return f"{finding.check_id}/{digest}"


@functools.lru_cache(maxsize=65_536)
def _resource_digest(account_id: str, region: str, arn: str, container: str) -> str:
    """16 hex digits of the SHA-256 of finding_key without the check: the same for each of a
    resource's checks (a few dozen), so worked out once per resource."""
    return hashlib.sha256("\x1f".join((account_id, region, resource_key(arn), container)).encode("utf-8")).hexdigest()[:16]
