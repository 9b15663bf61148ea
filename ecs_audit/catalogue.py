"""The check catalogue: checks/*.yaml loaded and validated.

The catalogue is the one source of every check's title, severity, scope, rationale, remediation and
references; code refers to checks by id only.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ecs_audit.errors import UsageError
from ecs_audit.inputs import packaged_yaml
from ecs_audit.package_data import data_dir

CHECK_ID = re.compile(r"^(?P<area>[A-Z]+)-(?P<number>\d{3})$")
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def weight(self) -> int:
        return {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}[self.value]

    @property
    def rank(self) -> int:
        """Higher is worse; used for sorting and --fail-on."""
        return {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}[self.value]


class Scope(str, Enum):
    """What one result of a check is about. How each is enumerated: ecs_audit.evaluation.scopes."""

    ACCOUNT = "ACCOUNT"
    CLUSTER = "CLUSTER"
    SERVICE = "SERVICE"
    TASKDEF = "TASKDEF"
    CONTAINER = "CONTAINER"
    REPO = "REPO"  # every ECR repository of the region
    IN_USE_REPO = "IN_USE_REPO"  # the repositories in-use images come from
    LB = "LB"
    TARGET_GROUP = "TARGET_GROUP"

    @property
    def label(self) -> str:
        """The name reports and listings show. Target groups are shown under the load-balancing
        scope they were published with, and in-use repositories as repositories, so listings and
        reports read as before."""
        if self is Scope.TARGET_GROUP:
            return "LB"
        return "REPO" if self is Scope.IN_USE_REPO else self.value


class Reference(BaseModel):
    """A cross-reference (Security Hub control, Config rule, Checkov id...) or a documentation link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    id: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _id_or_url(self) -> "Reference":
        if not self.id and not self.url:
            raise ValueError("a reference needs an id or a url")
        if self.url and not self.url.startswith("https://"):
            raise ValueError("reference urls must be https")
        return self

    @property
    def label(self) -> str:
        return f"{self.source} {self.id}" if self.id else self.source


class CheckEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=3)
    severity: Severity
    scope: list[Scope] = Field(min_length=1)
    # IAM actions whose data the check reads beyond what enumerating its scope needs. A recorded
    # failure of one of them makes the check UNKNOWN for the resources that call covered.
    needs: list[str] = []
    # Of `needs`, those only a PASS requires: when one of them failed, the check still runs, and a
    # FAIL or WARN it reaches from the evidence that was read stands (naming the failed call); any
    # other result becomes UNKNOWN. Partial evidence may decide a failure, never a pass.
    pass_needs: list[str] = []
    evidence: str = ""
    rule: str = ""
    rationale: str = Field(min_length=10)
    remediation: str = Field(min_length=10)
    # An optional concrete fix: a task-definition JSON fragment or a CLI command.
    remediation_snippet: str | None = None
    references: list[Reference] = []
    automated: bool = True
    deprecated: bool = False

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not CHECK_ID.match(value):
            raise ValueError(f"check id {value!r} is not of the form AREA-NNN")
        return value

    @field_validator("needs")
    @classmethod
    def _iam_actions(cls, value: list[str]) -> list[str]:
        for action in value:
            if not IAM_ACTION.match(action):
                raise ValueError(f"needs: {action!r} is not an IAM action (service:Operation)")
        if len(set(value)) != len(value):
            raise ValueError("needs: an action is listed twice")
        return value

    @model_validator(mode="after")
    def _pass_needs_are_needs(self) -> "CheckEntry":
        extra = sorted(set(self.pass_needs) - set(self.needs))
        if extra:
            raise ValueError(f"pass_needs {extra} are not among the check's needs")
        return self

    @cached_property
    def area(self) -> str:
        """The id's prefix (asked for every result the check gives: worked out once)."""
        return self.id.split("-", 1)[0]


class Area(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    area: str
    title: str
    order: int
    description: str = ""
    checks: list[CheckEntry]

    @model_validator(mode="after")
    def _ids_in_area(self) -> "Area":
        for entry in self.checks:
            if entry.area != self.area:
                raise ValueError(f"{entry.id} is filed under area {self.area}")
        return self


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    areas: list[Area]

    @property
    def checks(self) -> list[CheckEntry]:
        return [entry for area in self.areas for entry in area.checks]

    def get(self, check_id: str) -> CheckEntry:
        for entry in self.checks:
            if entry.id == check_id:
                return entry
        raise KeyError(check_id)

    def area(self, name: str) -> Area:
        for area in self.areas:
            if area.area == name:
                return area
        raise KeyError(name)

    @property
    def area_names(self) -> list[str]:
        return [area.area for area in self.areas]


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load every checks/*.yaml, refusing duplicates and malformed entries."""
    directory = directory or data_dir("checks")
    areas: list[Area] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw = packaged_yaml(path.read_text(encoding="utf-8"))
            area = Area.model_validate(raw)
        except yaml.YAMLError as exc:
            raise UsageError(f"catalogue {path.name}: invalid YAML: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise UsageError(f"catalogue {path.name}: invalid at {where}: {first['msg']}") from None
        for entry in area.checks:
            if entry.id in seen:
                raise UsageError(f"catalogue: {entry.id} is defined in {seen[entry.id]} and {path.name}")
            seen[entry.id] = path.name
        areas.append(area)
    if not areas:
        raise UsageError(f"catalogue: no checks found in {directory}")
    areas.sort(key=lambda a: a.order)
    return Catalogue(areas=areas)
