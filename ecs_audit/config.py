"""Audit configuration: the knobs the checklist calls configurable, with their defaults."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_audit.errors import UsageError


class SidecarExcuse(BaseModel):
    """Containers whose image matches `image` (a glob) are excused from `checks`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = Field(min_length=1)
    checks: list[str] = Field(min_length=1)
    reason: str = Field(min_length=3)

    def matches(self, image: str) -> bool:
        return fnmatchcase(image, self.image)


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # TAGGING-002 / TAGGING-003
    required_tags: list[str] = ["Environment"]
    version_tag_keys: list[str] = ["Version", "version", "AppVersion", "app-version", "GitCommit", "git-sha", "ImageTag"]
    # SECURITY-006: environment variable names that are known not to hold secrets.
    secret_env_allowlist: list[str] = []
    # SECURITY-014: no API returns the current latest Fargate platform version.
    fargate_latest_platform: dict[str, str] = {"LINUX": "1.4.0", "WINDOWS": "1.0.0"}
    # IMAGE-007
    image_size_warn_mib: int = Field(default=500, gt=0)
    image_size_fail_mib: int = Field(default=1024, gt=0)
    # SECURITY-017: how many older revisions of each in-use family are read.
    history_depth: int = Field(default=100, ge=0, le=10000)
    # Sidecar images excused from chosen checks (e.g. a telemetry collector).
    sidecars: list[SidecarExcuse] = []
    # Recognised runtime-security agents (image globs), for SECURITY-004 and SECURITY-011.
    runtime_security_agents: list[str] = [
        "*falco*",
        "*sysdig/agent*",
        "*sysdig/workload-agent*",
        "*aqua*enforcer*",
        "*twistlock*",
        "*prismacloud*defender*",
        "*crowdstrike*falcon*",
        "*datadog/agent*",
    ]
    # RESILIENCE-007: slowest acceptable target-group tuning. Seconds a new task needs to turn healthy
    # (health-check interval x healthy threshold; the defaults take 30 x 5 = 150) and the longest
    # deregistration delay (default 300; Fargate's stopTimeout cannot exceed 120).
    target_group_max_seconds_to_healthy: int = Field(default=60, gt=0)
    target_group_max_deregistration_delay: int = Field(default=120, ge=0)
    # CLUSTER-002: AMI name globs accepted besides Amazon's ECS-optimised AMIs (e.g. golden images built on them).
    approved_ami_names: list[str] = []

    def sidecar_excuse(self, image: str, check_id: str) -> SidecarExcuse | None:
        for excuse in self.sidecars:
            if check_id in excuse.checks and excuse.matches(image):
                return excuse
        return None


def load_config(path: Path | None) -> AuditConfig:
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
        return AuditConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"config {path}: invalid at {where}: {first['msg']}") from None
