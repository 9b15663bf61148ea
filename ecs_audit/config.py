"""Audit configuration: the knobs the checklist calls configurable, with their defaults."""

from __future__ import annotations

from typing import Literal

from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.text import one_line


class SidecarExcuse(BaseModel):
    """Containers whose image matches `image` (a glob) are excused from `checks`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = Field(min_length=1)
    checks: list[str] = Field(min_length=1)
    reason: str = Field(min_length=3)

    def matches(self, image: str) -> bool:
        return fnmatchcase(image, self.image)


class AuditConfig(BaseModel):
    """Settings from `--config FILE` (YAML). Every field is documented in docs/configuration.md,
    which is generated from these descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required_tags: list[str] = Field(
        default=["Environment"], description="TAGGING-002: tag keys every cluster, service and task definition must carry."
    )
    version_tag_keys: list[str] = Field(
        default=["Version", "version", "AppVersion", "app-version", "GitCommit", "git-sha", "ImageTag"],
        description="TAGGING-003: tag keys that carry an application version.",
    )
    secret_env_allowlist: list[str] = Field(
        default=[], description="SECURITY-006/017: environment variable names known not to hold secrets."
    )
    fargate_latest_platform: dict[str, str] = Field(
        default={"LINUX": "1.4.0", "WINDOWS": "1.0.0"},
        description="SECURITY-014: the current latest Fargate platform version per OS family (no API returns it).",
    )
    vulnerability_fail_severity: Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"] = Field(
        default="HIGH",
        description="IMAGE-005: the lowest vulnerability severity that fails an image in use (CRITICAL, HIGH, MEDIUM or LOW).",
    )
    owner_tags: list[str] = Field(
        default=["Owner", "Team"],
        description="Reports: tag keys naming a resource's owner, first found wins; the HTML report groups findings by owner.",
    )
    image_size_warn_mib: int = Field(default=500, gt=0, description="IMAGE-007: WARN above this image size (MiB).")
    image_size_fail_mib: int = Field(default=1024, gt=0, description="IMAGE-007: FAIL above this image size (MiB).")
    history_depth: int = Field(
        default=100, ge=0, le=10000, description="SECURITY-017: how many older revisions of each in-use family are read."
    )
    sidecars: list[SidecarExcuse] = Field(
        default=[],
        description="Sidecar images excused from chosen checks: a list of {image: glob, checks: [ids], reason}; "
        "excused results are NOT_APPLICABLE and say so.",
    )
    runtime_security_agents: list[str] = Field(
        default=[
            "*falco*",
            "*sysdig/agent*",
            "*sysdig/workload-agent*",
            "*aqua*enforcer*",
            "*twistlock*",
            "*prismacloud*defender*",
            "*crowdstrike*falcon*",
            "*datadog/agent*",
            "*sysdig/host-shield*",
            "*aquasec/*",
            "*falcon-sensor*",
        ],
        description="SECURITY-004/011: image globs of recognised runtime-security agents.",
    )
    target_group_max_seconds_to_healthy: int = Field(
        default=60,
        gt=0,
        description="RESILIENCE-007: slowest acceptable time for a new task to turn healthy (health-check interval "
        "x healthy threshold; the ELB defaults take 30 x 5 = 150 s).",
    )
    target_group_max_deregistration_delay: int = Field(
        default=120, ge=0, description="RESILIENCE-007: longest acceptable deregistration delay (ELB default 300 s)."
    )
    approved_ami_names: list[str] = Field(
        default=[],
        description="CLUSTER-002: AMI name globs accepted besides Amazon's ECS-optimised AMIs (e.g. golden images built on them).",
    )

    def sidecar_excuse(self, image: str, check_id: str) -> SidecarExcuse | None:
        for excuse in self.sidecars:
            if check_id in excuse.checks and excuse.matches(image):
                return excuse
        return None


def load_config(path: Path | None, catalogue: Catalogue | None = None) -> AuditConfig:
    """The settings file, validated; with `catalogue`, check ids it names must exist."""
    if path is None:
        return AuditConfig()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UsageError(f"config {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"config {path}: cannot read it ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UsageError(f"config {path}: invalid YAML{where}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"config {path}: expected a mapping of settings")
    try:
        config = AuditConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = one_line(".".join(str(part) for part in first["loc"]))
        raise UsageError(f"config {path}: invalid at {where}: {one_line(first['msg'])}") from None
    if catalogue is not None:
        known = {entry.id for entry in catalogue.checks}
        for number, excuse in enumerate(config.sidecars, start=1):
            unknown = sorted(set(excuse.checks) - known)
            if unknown:
                raise UsageError(f"config {path}: sidecars entry {number}: unknown check ids {', '.join(unknown)}; see `ecs-audit checks`")
    return config
