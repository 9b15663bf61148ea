"""The settings file (`--config`, or ECS_AUDIT_CONFIG): the check settings the checklist calls
configurable at the top level, and how to run (`run:`: profile, regions, formats, output, history,
alerts) beside them. Command-line options override `run:`."""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.inputs import load_yaml, model_error


class SidecarExcuse(BaseModel):
    """Containers whose image matches `image` (a glob) are excused from `checks`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = Field(min_length=1)
    checks: list[str] = Field(min_length=1)
    reason: str = Field(min_length=3)

    def matches(self, image: str) -> bool:
        return fnmatchcase(image, self.image)


FailOn = Literal["critical", "high", "medium", "low", "never"]
NotifyOn = Literal["critical", "high", "medium", "low"]
# The report formats (ecs_audit.report.render.FILE_NAMES; a unit test keeps the two the same).
ReportFormat = Literal["html", "md", "json", "sarif", "junit", "csv", "pdf", "ocsf", "asff"]


class RunSettings(BaseModel):
    """The `run:` section: the defaults for `scan`'s options (and `evaluate`'s and `demo`'s where they
    have them). Relative paths are taken from the settings file's directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = Field(default=None, description="--profile: the AWS profile.")
    regions: list[str] = Field(default=[], description="--region: regions to audit (default: the profile's region).")
    all_regions: bool = Field(default=False, description="--all-regions: every region enabled in each account.")
    role_arn: str | None = Field(default=None, description="--role-arn: assume this role first.")
    external_id: str | None = Field(default=None, description="--external-id: ExternalId for the assumed roles.")
    role_session_name: str | None = Field(default=None, description="--role-session-name (default ecs-audit).")
    duration: int | None = Field(default=None, ge=900, le=43200, description="--duration: assumed-role session seconds (default 3600).")
    org_role_name: str | None = Field(default=None, description="--org-role-name: audit every ACTIVE account of the organisation through this role.")
    accounts: list[str] = Field(default=[], description="--accounts: only these account ids (with org_role_name).")
    exclude_accounts: list[str] = Field(default=[], description="--exclude-accounts: skip these account ids.")
    max_workers: int | None = Field(default=None, ge=1, le=64, description="--max-workers (default 8).")
    pacing: bool = Field(default=True, description="false: --no-pacing, for endpoints without AWS's rate limits (moto, LocalStack).")
    formats: list[ReportFormat] = Field(default=[], description="--format: html, md, json, sarif, junit, csv, pdf, ocsf, asff (default html, md, json).")
    output_dir: str | None = Field(
        default=None,
        description="--output-dir; `{date}` (YYYY-MM-DD, UTC) and `{time}` (HHMMSS) are filled in, e.g. `reports/{date}`.",
    )
    fail_on: FailOn | None = Field(default=None, description="--fail-on: exit 1 on an unwaived FAIL this severe or worse (default never).")
    waivers: str | None = Field(default=None, description="--waivers: the waivers file.")
    answers: str | None = Field(default=None, description="--answers: the MANUAL answers file.")
    checks: list[str] = Field(default=[], description="--checks: only these check ids or areas.")
    skip_checks: list[str] = Field(default=[], description="--skip-checks: leave out these check ids or areas.")
    history: str | None = Field(
        default=None, description="--history: keep every run in this directory; the previous run is the baseline."
    )
    notify: str | None = Field(
        default=None,
        description="--notify: Slack-compatible webhook URL, posted to when something changed. It carries a token: "
        "prefer ECS_AUDIT_NOTIFY in the environment.",
    )
    notify_on: NotifyOn | None = Field(
        default=None, description="--notify-on: the least severity of a new FAIL worth a message (default high)."
    )

    @field_validator("accounts", "exclude_accounts", mode="before")
    @classmethod
    def _account_ids(cls, value: object) -> object:
        # YAML reads an unquoted 111122223333 as a number; a leading zero would be lost, so only
        # 12-digit numbers are taken (quote account ids: "012345678901").
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) and len(str(v)) == 12 else v for v in value]
        return value

    @field_validator("notify")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        # The message never repeats the value: it carries a token.
        if value is not None and not value.strip().lower().startswith(("https://", "http://")):
            raise ValueError("not an http(s) URL (the value is not shown: it may carry a token)")
        return value


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
        default=[],
        description="SECURITY-006/017: environment variable names known not to hold secrets: exact names or glob "
        "patterns (`FEATURE_*_TOKEN_TTL`; `*`, `?`, `[...]`), case-sensitive.",
    )

    @field_validator("secret_env_allowlist")
    @classmethod
    def _allowlist_names_something(cls, entries: list[str]) -> list[str]:
        # A pattern of wildcards alone would silence every secret-looking variable, unseen.
        for entry in entries:
            if not entry.strip("*?"):
                raise ValueError(f"{entry!r} would allow every variable name; name the variables or a narrower pattern")
        return entries

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
        default=100,
        ge=0,
        le=10000,
        description="SECURITY-017: how many other revisions are read per in-use family: those newer than the deployed "
        "one first, then older ones, each newest first; the rest are named unread.",
    )
    history_region_budget: int = Field(
        default=1000,
        ge=0,
        le=100000,
        description="SECURITY-017: at most this many DescribeTaskDefinition calls per region for family histories, "
        "shared round-robin between families (about 100 s at the default API share); unread revisions are named.",
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
            "*datadoghq/agent*",
            "*lacework/datacollector*",
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


def config_path(given: Path | None) -> Path | None:
    """--config, else ECS_AUDIT_CONFIG."""
    if given is not None:
        return given
    from_env = os.environ.get("ECS_AUDIT_CONFIG", "").strip()
    return Path(from_env) if from_env else None


def _read(path: Path) -> dict[str, Any]:
    raw = load_yaml(path, "config") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"config {path}: expected a mapping of settings")
    return raw


def load_run_settings(path: Path | None) -> RunSettings:
    """The file's `run:` section, validated (empty settings without a file or section)."""
    if path is None:
        return RunSettings()
    section = _read(path).get("run")
    if section is None:
        return RunSettings()
    if not isinstance(section, dict):
        raise UsageError(f"config {path}: invalid at run: expected a mapping of run settings")
    try:
        return RunSettings.model_validate(section)
    except ValidationError as exc:
        raise model_error(path, "config", exc, prefix="run.") from None


def load_config(path: Path | None, catalogue: Catalogue | None = None) -> AuditConfig:
    """The check settings of the file, validated; with `catalogue`, check ids it names must exist.
    (The `run:` section is read by load_run_settings.)"""
    if path is None:
        return AuditConfig()
    raw = {key: value for key, value in _read(path).items() if key != "run"}
    try:
        config = AuditConfig.model_validate(raw)
    except ValidationError as exc:
        raise model_error(path, "config", exc) from None
    if catalogue is not None:
        known = {entry.id for entry in catalogue.checks}
        for number, excuse in enumerate(config.sidecars, start=1):
            unknown = sorted(set(excuse.checks) - known)
            if unknown:
                raise UsageError(f"config {path}: sidecars entry {number}: unknown check ids {', '.join(unknown)}; see `ecs-audit checks`")
    return config
