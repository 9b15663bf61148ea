"""Waivers (`--waivers waivers.yaml`): accepted FAIL/WARN results, each with a reason, an owner and
an expiry date.

The file is a YAML list:

    - check: SECURITY-001
      resource: "arn:aws:ecs:*:123456789012:task-definition/legacy-worker:*"
      reason: legacy worker writes to its root filesystem; fix tracked in OPS-1234
      owner: platform-team@example.com
      expires: 2027-03-31

`resource` is a glob (fnmatch: `*`, `?`, `[...]`) on the resource's ARN; for a container's result the
ARN followed by `/CONTAINER` matches too. An entry may instead (or as well) name one result by its
stable finding id (`id: SECURITY-001/4e398d35127eacd2`, as report.json and SARIF's findingId show):
`check` is then the id's and `resource` may be left out; what an entry gives must all match. A FAIL or WARN result of `check` whose resource matches
becomes WAIVED and stays in every report with the waiver's reason, owner and expiry. A waiver applies
up to and including its `expires` date (UTC, the report's date); after that it stops applying and is
listed as expired. A waiver that matches no FAIL or WARN result is listed as stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase, translate
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.findings import Finding, Status, Waiver
from ecs_audit.inputs import load_yaml_list, parse_date, validate_entries
from ecs_audit.report.model import WaiverNote
from ecs_audit.text import plain

WHAT = "waivers"
WAIVABLE = frozenset({Status.FAIL, Status.WARN})
_EXAMPLE = '"- {check: SECURITY-001, resource: \'arn:aws:ecs:*:task-definition/web:*\', reason: ..., owner: ..., expires: 2027-03-31}"'
_HINTS = {
    "check": "give a check id such as SECURITY-001 (see `ecs-audit checks`)",
    "id": "give a finding id such as SECURITY-001/4e398d35127eacd2 (report.json's findings[].id), or check and resource",
    "resource": "give a glob on the resource ARN, e.g. 'arn:aws:ecs:*:123456789012:service/prod/*'",
    "reason": "say why the result is accepted",
    "owner": "name who owns the waiver (a team or an e-mail address)",
    "expires": "give the last day the waiver applies as YYYY-MM-DD",
}
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_FINDING_ID = re.compile(r"^([A-Za-z0-9_-]+)/([0-9a-f]{16})$")


class WaiverEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    check: str = Field(min_length=1)
    # None for an entry that names its result by `id` alone.
    resource: str | None = Field(default=None, min_length=1)
    # A stable finding id (findings.finding_id): the entry waives that one result.
    id: str | None = None
    reason: str = Field(min_length=3)
    owner: str = Field(min_length=1)
    expires: date

    @model_validator(mode="before")
    @classmethod
    def _check_from_id(cls, data: object) -> object:
        """`id` gives the check; without `id`, `check` and `resource` are both needed."""
        if not isinstance(data, dict):
            return data
        ident = data.get("id")
        if ident is None:
            if "check" in data and "resource" not in data:
                raise PydanticCustomError("resource_missing", "field 'resource' is missing; give a glob on the resource ARN, or the finding's id", {})
            return data
        match = _FINDING_ID.match(ident.strip()) if isinstance(ident, str) else None
        if match is None:
            return {"check": "-", **data}  # the id's field validator says what is wrong
        check = data.get("check")
        if isinstance(check, str) and check.strip() and check.strip() != match.group(1):
            raise PydanticCustomError("check_mismatch", "check {check} is not the check of id {id}", {"check": plain(check), "id": plain(ident)})
        return {**data, "check": match.group(1)}

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _FINDING_ID.match(value):
            raise ValueError(f"{plain(value)!r} is not a finding id (CHECK-ID/ and 16 hex digits, e.g. SECURITY-001/4e398d35127eacd2)")
        return value

    @field_validator("check", "resource", "id", "reason", "owner", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        if isinstance(value, (int, float, bool)) or value is None:
            raise ValueError("expected text")
        return value

    @field_validator("expires", mode="before")
    @classmethod
    def _date(cls, value: object) -> date:
        return parse_date(value)

    @field_validator("resource")
    @classmethod
    def _glob(cls, value: str | None) -> str | None:
        if value is not None:
            check_glob(value)
        return value


def check_glob(glob: str) -> None:
    """Refuse globs that cannot be meant: whitespace, unclosed brackets, not an ARN pattern."""
    if _SPACE_OR_CONTROL.search(glob):
        raise ValueError(f"{plain(glob)!r} contains whitespace or control characters, which no ARN has")
    if not (glob.startswith("arn:") or glob.startswith("*")):
        raise ValueError(f"{plain(glob)!r} is not a glob on an ARN (it must start with 'arn:' or '*')")
    i = 0
    while i < len(glob):
        if glob[i] == "[":
            # As in fnmatch: a "]" right after "[" or "[!" is part of the set.
            start = i + 1
            if glob[start : start + 1] == "!":
                start += 1
            if glob[start : start + 1] == "]":
                start += 1
            end = glob.find("]", start)
            if end == -1:
                raise ValueError(f"{plain(glob)!r} has an unclosed '[' (write [[] for a literal '[')")
            i = end
        i += 1
    try:
        re.compile(translate(glob))
    except re.error as exc:
        raise ValueError(f"{plain(glob)!r} is not a valid glob ({exc})") from None


@dataclass(frozen=True)
class WaiverFile:
    path: Path
    entries: tuple[WaiverEntry, ...]


@dataclass(frozen=True)
class WaiverOutcome:
    findings: list[Finding]
    expired: list[WaiverNote]
    stale: list[WaiverNote]


def load_waivers(path: Path, catalogue: Catalogue) -> WaiverFile:
    raw = load_yaml_list(path, WHAT, _EXAMPLE)
    entries = validate_entries(raw, WaiverEntry, path, WHAT, _HINTS)
    ids = {entry.id for entry in catalogue.checks}
    for number, entry in enumerate(entries, start=1):
        if entry.check not in ids:
            hint = f"did you mean {entry.check.upper()}?" if entry.check.upper() in ids else "see `ecs-audit checks` for the ids"
            raise UsageError(f"{WHAT} {path}: entry {number}, field 'check': unknown check id {plain(entry.check)!r}; {hint}")
    return WaiverFile(path=path, entries=tuple(entries))


def matches(entry: WaiverEntry, finding: Finding) -> bool:
    if finding.check_id != entry.check:
        return False
    if entry.id is not None and finding.id != entry.id:
        return False
    if entry.resource is None:
        return True
    if fnmatchcase(finding.resource.arn, entry.resource):
        return True
    return finding.container is not None and fnmatchcase(f"{finding.resource.arn}/{finding.container}", entry.resource)


def is_expired(entry: WaiverEntry, today: date) -> bool:
    """A waiver applies up to and including its expiry date."""
    return entry.expires < today


def apply_waivers(findings: list[Finding], waivers: WaiverFile | None, today: date) -> WaiverOutcome:
    """FAIL/WARN results matched by an unexpired waiver become WAIVED (the first matching entry wins)."""
    if waivers is None or not waivers.entries:
        return WaiverOutcome(findings=list(findings), expired=[], stale=[])
    entries = list(waivers.entries)
    hits = [0] * len(entries)
    out: list[Finding] = []
    for finding in findings:
        if finding.status not in WAIVABLE:
            out.append(finding)
            continue
        applied: WaiverEntry | None = None
        for index, entry in enumerate(entries):
            if matches(entry, finding):
                hits[index] += 1
                if applied is None and not is_expired(entry, today):
                    applied = entry
        if applied is None:
            out.append(finding)
            continue
        waiver = Waiver(
            check=applied.check,
            resource=applied.resource or "*",
            id=applied.id,
            reason=applied.reason,
            owner=applied.owner,
            expires=applied.expires.isoformat(),
            status=finding.status,
        )
        out.append(finding.model_copy(update={"status": Status.WAIVED, "waiver": waiver}))
    expired = [_note(i, e, hits[i]) for i, e in enumerate(entries) if is_expired(e, today)]
    stale = [_note(i, e, 0) for i, e in enumerate(entries) if not is_expired(e, today) and hits[i] == 0]
    return WaiverOutcome(findings=out, expired=expired, stale=stale)


def _note(index: int, entry: WaiverEntry, count: int) -> WaiverNote:
    return WaiverNote(
        entry=index + 1,
        check=entry.check,
        resource=entry.resource or "*",
        id=entry.id,
        reason=entry.reason,
        owner=entry.owner,
        expires=entry.expires.isoformat(),
        matches=count,
    )
