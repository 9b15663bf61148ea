"""The MANUAL questionnaire and its answers file (`--answers answers.yaml`).

Every MANUAL question of the catalogue (entries with `automated: false`) appears in every report as
one ACCOUNT-level result on the first audited account and region. Unanswered it is MANUAL (an open
question); an answer turns it into PASS (yes), FAIL (no) or NOT_APPLICABLE (n.a.), and the report
shows who answered, when and their note. The file is a YAML list:

    - id: MANUAL-004
      answer: yes            # yes | no | n.a.
      who: jane.doe@example.com
      when: 2026-10-20
      note: task sizes come from the k6 load test of 2026-10-12
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ecs_audit.catalogue import Catalogue, CheckEntry
from ecs_audit.errors import UsageError
from ecs_audit.inventory.arns import account_resource
from ecs_audit.findings import Answer, Finding, Status
from ecs_audit.inputs import load_yaml_list, parse_date, validate_entries
from ecs_audit.inventory.snapshot import Inventory
from ecs_audit.text import plain

WHAT = "answers"
STATUS_OF = {"yes": Status.PASS, "no": Status.FAIL, "n.a.": Status.NOT_APPLICABLE}
_ALIASES = {"yes": "yes", "y": "yes", "true": "yes", "no": "no", "n": "no", "false": "no", "n.a.": "n.a.", "n/a": "n.a.", "na": "n.a."}
_EXAMPLE = '"- {id: MANUAL-004, answer: yes, who: jane@example.com, when: 2026-10-20, note: ...}"'
_HINTS = {
    "id": "give a MANUAL question id such as MANUAL-004 (see `ecs-audit checks`)",
    "answer": "answer yes, no or n.a.",
    "who": "name who answered",
    "when": "give the date of the answer as YYYY-MM-DD",
    "note": "say why (a note is required for n.a.)",
}


class AnswerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1)
    answer: Literal["yes", "no", "n.a."]
    who: str = Field(min_length=1)
    when: date
    note: str = ""

    @field_validator("id", "who", "note", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        if isinstance(value, (int, float, bool)) or value is None:
            raise ValueError("expected text")
        return value

    @field_validator("answer", mode="before")
    @classmethod
    def _answer(cls, value: object) -> str:
        # YAML 1.1 reads unquoted yes/no as booleans.
        if value is True:
            return "yes"
        if value is False:
            return "no"
        if isinstance(value, str) and value.strip().lower() in _ALIASES:
            return _ALIASES[value.strip().lower()]
        raise ValueError(f"{plain(value)!r} is not an answer")

    @field_validator("when", mode="before")
    @classmethod
    def _date(cls, value: object) -> date:
        return parse_date(value)

    @model_validator(mode="after")
    def _note_for_na(self) -> "AnswerEntry":
        if self.answer == "n.a." and not self.note:
            raise ValueError("field 'note' is required for an n.a. answer: say why the question does not apply")
        return self


@dataclass(frozen=True)
class AnswersFile:
    path: Path
    entries: tuple[AnswerEntry, ...]

    def get(self, question_id: str) -> AnswerEntry | None:
        for entry in self.entries:
            if entry.id == question_id:
                return entry
        return None


def questions(catalogue: Catalogue) -> list[CheckEntry]:
    """The MANUAL questionnaire: every catalogue entry no API can decide, in catalogue order."""
    return [entry for entry in catalogue.checks if not entry.automated and not entry.deprecated]


def load_answers(path: Path, catalogue: Catalogue) -> AnswersFile:
    raw = load_yaml_list(path, WHAT, _EXAMPLE)
    entries = validate_entries(raw, AnswerEntry, path, WHAT, _HINTS)
    ids = {entry.id: entry for entry in catalogue.checks}
    open_ids = {entry.id for entry in questions(catalogue)}
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if entry.id not in ids:
            hint = f"did you mean {entry.id.upper()}?" if entry.id.upper() in open_ids else "see `ecs-audit checks` for the MANUAL ids"
            raise UsageError(f"{WHAT} {path}: entry {number}, field 'id': unknown question id {plain(entry.id)!r}; {hint}")
        if entry.id not in open_ids:
            why = "is deprecated" if ids[entry.id].deprecated else "is an automated check, not a MANUAL question"
            raise UsageError(f"{WHAT} {path}: entry {number}, field 'id': {entry.id} {why}; remove the entry")
        if entry.id in seen:
            raise UsageError(
                f"{WHAT} {path}: entry {number}, field 'id': {entry.id} is already answered in entry {seen[entry.id]}; keep one answer"
            )
        seen[entry.id] = number
    return AnswersFile(path=path, entries=tuple(entries))


def questionnaire_target(inventory: Inventory) -> tuple[str, str, str] | None:
    """(partition, account, region) that carries the questionnaire: the first account and its first region."""
    accounts = sorted(inventory.accounts, key=lambda a: a.account_id)
    for account in accounts:
        regions = sorted(r.region for r in account.regions)
        if regions:
            return inventory.partition, account.account_id, regions[0]
    if accounts:
        return inventory.partition, accounts[0].account_id, "global"
    return None


def manual_findings(
    catalogue: Catalogue, partition: str, account_id: str, region: str, answers: AnswersFile | None
) -> list[Finding]:
    resource = account_resource(partition, account_id)
    findings = []
    for entry in questions(catalogue):
        answer = answers.get(entry.id) if answers is not None else None
        if answer is None:
            status = Status.MANUAL
            message = "open question: no API can decide it; answer it in the answers file (--answers) with yes, no or n.a."
            recorded = None
        else:
            status = STATUS_OF[answer.answer]
            message = f"answered {answer.answer} by {answer.who} on {answer.when.isoformat()}" + (f": {answer.note}" if answer.note else "")
            recorded = Answer(answer=answer.answer, who=answer.who, when=answer.when.isoformat(), note=answer.note)
        findings.append(
            Finding(
                check_id=entry.id,
                title=entry.title,
                area=entry.area,
                severity=entry.severity,
                status=status,
                account_id=account_id,
                region=region,
                resource=resource,
                message=message,
                remediation=entry.remediation,
                references=list(entry.references),
                answer=recorded,
            )
        )
    return findings


def add_questionnaire(findings: list[Finding], catalogue: Catalogue, inventory: Inventory, answers: AnswersFile | None) -> list[Finding]:
    """The findings plus the questionnaire (replacing any MANUAL results already there)."""
    target = questionnaire_target(inventory)
    if target is None:
        return list(findings)
    ids = {entry.id for entry in questions(catalogue)}
    kept = [f for f in findings if f.check_id not in ids]
    return kept + manual_findings(catalogue, *target, answers)
