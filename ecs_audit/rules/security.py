"""Checks of the SECURITY area (see checks/security.yaml)."""

from __future__ import annotations

import ntpath
import posixpath
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ecs_audit.catalogue import Severity
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.subjects import AccountSubject, ClusterSubject, ContainerSubject, ServiceSubject, TaskDefSubject
from ecs_audit.evaluation.view import CapacityPlacement, RegionView
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, unknown, warn
from ecs_audit.semantics.iam_policy import (
    admin_actions,
    broad_grants,
    escalation_combinations,
    is_admin_policy_arn,
    is_ecs_task_execution_policy,
    secret_reads,
    self_escalations,
    service_wildcards,
)
from ecs_audit.inventory.arns import name_from_arn
from ecs_audit.inventory.ecs import DAEMON_OPERATIONS, MANAGED_INSTANCES, EnvironmentVariable, ExecuteCommandConfiguration, FamilyHistory
from ecs_audit.inventory.iam import role_account, role_arn, role_name
from ecs_audit.inventory.guardduty import EC2_AGENT_MANAGEMENT, FARGATE_AGENT_MANAGEMENT, CoverageResource, Detector, GuardDutyInventory
from ecs_audit.inventory.guardduty import Finding as GuardDutyFinding
from ecs_audit.redact import (
    FLAG_EMPTY,
    FLAG_FILE_PATH,
    FLAG_NUMBER,
    FLAG_SECRET_REFERENCE,
    VALUE_FLAGS_NOT_SECRET,
    VALUE_FLAGS_THAT_ARE_SECRETS,
    name_allowed,
    name_is_always_secret,
    name_is_password,
    name_looks_secret,
)
from ecs_audit.rules.registry import check
from ecs_audit.semantics.secret_reference import SECRETS_MANAGER, SSM, container_secret_refs

# SECURITY-004
_DANGEROUS_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "DAC_READ_SEARCH"})
# SECURITY-015: these paths and everything under them.
_SENSITIVE_HOST_PATHS = ("/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/run", "/var/run", "/var/lib/docker")
# SECURITY-015 on Windows hosts (lower case): the system directory, Docker's data root, the ECS agent's configuration.
_SENSITIVE_WINDOWS_PATHS = ("c:\\windows", "c:\\programdata\\docker", "c:\\programdata\\amazon\\ecs")
# SECURITY-003: Windows accounts with administrator rights (lower case, without a domain part).
_WINDOWS_ADMIN_USERS = frozenset({"containeradministrator", "system", "administrator"})
# SECURITY-018: options that switch a kernel security profile off (after normalising case and "=").
_PROFILE_DISABLING_OPTIONS = frozenset({"apparmor:unconfined", "label:disable"})


def _is_runtime_security_agent(image: str, config: AuditConfig) -> bool:
    return any(fnmatchcase(image, pattern) for pattern in config.runtime_security_agents)


def _excusing_flags(name: str) -> set[str]:
    """Value flags that make a secret-looking name a pointer or a setting. A file path never excuses a name
    whose value is the secret itself (AWS_SECRET_ACCESS_KEY, DB_PASSWORD): the value may just start with "/"."""
    excusing = {FLAG_SECRET_REFERENCE, FLAG_EMPTY, *VALUE_FLAGS_NOT_SECRET}
    if not name_is_always_secret(name):
        excusing.add(FLAG_FILE_PATH)
    return excusing


def _secret_variables(environment: list[EnvironmentVariable], allowlist: list[str]) -> dict[str, str]:
    """Secret-looking variables (name -> why), for SECURITY-006 and SECURITY-017. Never reads a value."""
    found: dict[str, str] = {}
    for variable in environment:
        if name_allowed(variable.name, allowlist):
            continue
        flags = set(variable.value_flags)
        secret_flags = sorted(flags & VALUE_FLAGS_THAT_ARE_SECRETS)
        if secret_flags:
            found[variable.name] = "value looks like " + ", ".join(secret_flags)
        # A secret-looking name holding an ARN, a file path or nothing is a pointer or a placeholder, and
        # one holding a switch, a number or a duration (TOKEN_TTL_SECONDS=3600) a setting, not a secret.
        elif name_looks_secret(variable.name) and not flags & _excusing_flags(variable.name):
            found[variable.name] = "name looks secret"
    return found


def _role_identity(arn: str) -> tuple[str, str, str]:
    """(partition, account, lower-case role name): what makes a role one role."""
    parts = arn.split(":", 5)
    return (parts[1] if len(parts) > 1 else "", role_account(arn), role_name(arn).lower())


def _is_current_platform(version: str, latest: str) -> bool:
    """LATEST, the configured latest version, or newer (a configured latest can lag behind AWS)."""
    if version == "LATEST":
        return True
    try:
        return tuple(int(p) for p in version.split(".")) >= tuple(int(p) for p in latest.split("."))
    except ValueError:
        return version == latest


def _is_windows_device_path(path: str) -> bool:
    """"//./pipe/docker_engine" is Docker's named pipe written with forward slashes (Docker accepts both):
    a Windows device path, which posix normalisation would turn into the harmless-looking "/pipe/..."."""
    return path.replace("\\", "/").startswith(("//./", "//?/"))


def _normalise_host_path(path: str) -> str:
    if not path.startswith("/") or _is_windows_device_path(path):
        return path  # e.g. a Windows path
    normalised = posixpath.normpath(path)
    return "/" + normalised.lstrip("/")


def _is_sensitive_windows_path(path: str) -> bool:
    """Windows hosts: a drive root (ECS mounts "D:\\" whole), the Windows directory, Docker's data root,
    the ECS agent's configuration, or a named pipe (\\\\.\\pipe\\docker_engine is Docker's socket)."""
    text = path.replace("/", "\\").lower()
    if text.startswith(("\\\\.\\pipe\\", "\\\\?\\pipe\\")):
        return True
    if text.startswith(("\\\\?\\", "\\\\.\\")):
        text = text[4:]  # \\?\C:\Windows is C:\Windows
    if not re.match(r"^[a-z]:\\", text) and not re.match(r"^[a-z]:$", text):
        return False
    text = ntpath.normpath(text).rstrip("\\")
    if len(text) == 2:
        return True  # "C:" / "C:\\": the whole drive
    for prefix in _SENSITIVE_WINDOWS_PATHS:
        if text == prefix or text.startswith(prefix + "\\") or prefix.startswith(text + "\\"):
            return True
    return False


def _is_sensitive_host_path(path: str) -> bool:
    """The host root, a sensitive directory or anything under it, a parent that contains one (/var
    holds /var/run and /var/lib/docker), or a socket (*.sock: docker, containerd, ...)."""
    if not path.startswith("/") or _is_windows_device_path(path):
        return _is_sensitive_windows_path(path)
    if path == "/" or path.endswith(".sock"):
        return True
    for prefix in _SENSITIVE_HOST_PATHS:
        if path == prefix or path.startswith(prefix + "/") or prefix.startswith(path.rstrip("/") + "/"):
            return True
    return False


def _exec_sessions_logged(logging: str, config: ExecuteCommandConfiguration | None, s: ServiceSubject) -> bool:
    if logging == "OVERRIDE":
        destination = config.log_configuration if config else None
        return bool(destination and (destination.cloud_watch_log_group_name or destination.s3_bucket_name))
    if logging == "DEFAULT":
        # DEFAULT sends session output to the task definition's awslogs configuration, if it has one.
        return any(
            c.log_configuration is not None and c.log_configuration.log_driver == "awslogs"
            for c in s.task_definition.container_definitions
        )
    return False


# --- SECURITY-007, SECURITY-009, SECURITY-010: injected secrets and role policies ------------------


@dataclass(frozen=True)
class _RolePolicies:
    """What was read of one role: its policy documents, and what could not be read (by policy ARN)."""

    arn: str
    missing: bool = False
    attached: tuple[str, ...] = ()
    inline: tuple[str, ...] = ()
    # (source label, managed policy ARN or None for inline, document or None when not read)
    documents: tuple[tuple[str, str | None, dict | None], ...] = ()
    gaps: tuple[tuple[str | None, EvidenceMissing], ...] = ()
    boundary: str | None = None
    # The ARN GetRole returned (with the role's path), when the task definition named the role without it.
    actual_arn: str | None = None

    @property
    def evidence(self) -> dict[str, object]:
        return {
            "role_arn": self.arn,
            "attached_policies": list(self.attached),
            "inline_policies": list(self.inline),
            "permissions_boundary": self.boundary,
        }


def _iam_gap(estate: RegionView, actions: tuple[str, ...], resource: str, fallback: str) -> EvidenceMissing:
    for action in actions:
        error = estate.error_for(action, resource)
        if error is not None:
            return EvidenceMissing(error.describe(), error.action, error.error_code)
    return EvidenceMissing(fallback)


def _role_policies(estate: RegionView, reference: str, which: str) -> _RolePolicies:
    """The policies of a task definition's role; EvidenceMissing if the role itself was not read."""
    iam = estate.require("iam")
    arn = role_arn(reference, estate.partition, estate.account_id)
    if arn in iam.missing_roles:
        return _RolePolicies(arn, missing=True)
    role = iam.role(arn)
    if role is None:
        if arn in iam.not_read:
            raise EvidenceMissing(f"the {which} {arn} is in another account or partition and was not read")
        raise _iam_gap(estate, ("iam:GetRole",), arn, f"the {which} {arn} was not read")
    documents: list[tuple[str, str | None, dict | None]] = []
    gaps: list[tuple[str | None, EvidenceMissing]] = []
    if role.attached_policies is None:
        gaps.append((None, _iam_gap(estate, ("iam:ListAttachedRolePolicies",), arn, f"the managed policies of {arn} were not listed")))
    for attached in role.attached_policies or []:
        label = f"managed policy {attached.policy_name or attached.policy_arn.rsplit('/', 1)[-1]}"
        policy = estate.require("iam").policy(attached.policy_arn)
        document = policy.document if policy is not None else None
        documents.append((label, attached.policy_arn, document))
        if document is None:
            gaps.append(
                (
                    attached.policy_arn,
                    _iam_gap(estate, ("iam:GetPolicy", "iam:GetPolicyVersion"), attached.policy_arn, f"the document of {label} was not read"),
                )
            )
    if role.inline_policies is None:
        gaps.append((None, _iam_gap(estate, ("iam:ListRolePolicies",), arn, f"the inline policies of {arn} were not listed")))
    for inline in role.inline_policies or []:
        label = f"inline policy {inline.name}"
        documents.append((label, None, inline.document))
        if inline.document is None:
            gaps.append((None, _iam_gap(estate, ("iam:GetRolePolicy",), arn, f"{label} of {arn} was not read")))
    boundary = role.role.permissions_boundary.permissions_boundary_arn if role.role.permissions_boundary else None
    return _RolePolicies(
        arn=arn,
        attached=tuple(a.policy_arn for a in role.attached_policies or []),
        inline=tuple(i.name for i in role.inline_policies or []),
        documents=tuple(documents),
        gaps=tuple(gaps),
        boundary=boundary,
        actual_arn=role.role.arn,
    )


def _admin_like(role: _RolePolicies) -> list[str]:
    """SECURITY-009's FAIL criteria: admin managed policies, or *, iam:*, sts:* (or NotAction) on *."""
    found = [f"{label} is attached" for label, policy_arn, _ in role.documents if policy_arn and is_admin_policy_arn(policy_arn)]
    grants = []
    for label, policy_arn, document in role.documents:
        if policy_arn and is_admin_policy_arn(policy_arn):
            continue
        for grant in broad_grants(document, label):
            grants.append(grant)
            actions = admin_actions(grant)
            if actions:
                found.append(grant.describe(actions))
    found.extend(escalation_combinations(grants))
    for label, policy_arn, document in role.documents:
        if not (policy_arn and is_admin_policy_arn(policy_arn)):
            found.extend(self_escalations(document, label, role.actual_arn or role.arn))
    return found


def _boundary_note(role: _RolePolicies) -> str:
    return f" (permissions boundary {role.boundary.rsplit('/', 1)[-1]} not evaluated)" if role.boundary else ""


# --- SECURITY-011..013: runtime threat detection (GuardDuty Runtime Monitoring) ---------------

_GUARDDUTY_DETECTOR_CALLS = ("guardduty:ListDetectors", "guardduty:GetDetector")
# Calls whose failure hides services or tasks, hence the task definitions and launch types in use.
_WORKLOAD_CALLS = ("ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks")


def _workloads_complete(estate: RegionView) -> None:
    """EvidenceMissing if some services or tasks of the region could not be listed or described."""
    for action in _WORKLOAD_CALLS:
        error = estate.error_for(action)
        if error is not None and error.context is None:
            raise EvidenceMissing(f"some services or tasks could not be read: {error.describe()}", error.action, error.error_code)


def _guardduty_detector(estate: RegionView) -> Detector | None:
    """The region's GuardDuty detector (None: GuardDuty is not enabled); EvidenceMissing if unread."""
    guardduty: GuardDutyInventory = estate.require("guardduty")
    for action in _GUARDDUTY_DETECTOR_CALLS:
        estate.raise_if_failed(action)
    return guardduty.detector


def _runtime_monitoring_off(detector: Detector | None) -> str:
    """Why runtime monitoring is not on, in a phrase."""
    if detector is None:
        return "GuardDuty is not enabled in this region (no detector)"
    if not detector.enabled:
        return f"the GuardDuty detector is {detector.status or 'not enabled'}"
    feature = detector.runtime_monitoring
    return f"GuardDuty runtime monitoring is {feature.status if feature and feature.status else 'not enabled'}"


def _detector_evidence(detector: Detector | None) -> dict[str, object]:
    if detector is None:
        return {"detector": None}
    feature = detector.runtime_monitoring
    return {
        "detector": detector.detector_id,
        "detector_status": detector.status,
        "runtime_monitoring": feature.status if feature else None,
        FARGATE_AGENT_MANAGEMENT: feature.additional(FARGATE_AGENT_MANAGEMENT) if feature else None,
        EC2_AGENT_MANAGEMENT: feature.additional(EC2_AGENT_MANAGEMENT) if feature else None,
    }


def _coverage_evidence(entry: CoverageResource) -> dict[str, object]:
    details = entry.resource_details.ecs_cluster_details if entry.resource_details else None
    fargate = details.fargate_details if details else None
    instances = details.container_instance_details if details else None
    issues = [i for i in [entry.issue, *(fargate.issues if fargate else [])] if i]
    out: dict[str, object] = {"coverage_status": entry.coverage_status or "UNKNOWN", "issues": issues}
    if fargate is not None:
        out["fargate_management_type"] = fargate.management_type
    if instances is not None:
        out["container_instances_covered"] = instances.covered_container_instances
        out["container_instances_compatible"] = instances.compatible_container_instances
    return out


# --- the checks, in id order ----------------------------------------------------------------------


@check("SECURITY-001")
def read_only_root_filesystem(c: ContainerSubject) -> Verdict:
    platform = c.estate.os_of(c.task_definition)
    if platform.is_windows:
        return na(
            f"Windows containers do not support a read-only root filesystem (Windows, from the {platform.source})",
            {"os_family": "WINDOWS", "os_decided_by": platform.source},
        )
    value = c.container.readonly_root_filesystem
    if value is True:
        return ok("the root filesystem is read-only", {"readonly_root_filesystem": True})
    shown = "false" if value is False else "not set, and defaults to false"
    return fail(f"the root filesystem is writable: readonlyRootFilesystem is {shown}", {"readonly_root_filesystem": value})


@check("SECURITY-002")
def no_privileged_containers(c: ContainerSubject) -> Verdict:
    if c.container.privileged:
        return fail("the container runs privileged: it has root-equivalent access to the host", {"privileged": True})
    return ok("the container is not privileged", {"privileged": bool(c.container.privileged)})


@check("SECURITY-003")
def runs_as_non_root(c: ContainerSubject) -> Verdict:
    platform = c.estate.os_of(c.task_definition)
    os_family = platform.os
    user = (c.container.user or "").strip()
    evidence = {"user": c.container.user, "os_family": os_family, "os_decided_by": platform.source}
    if not user:
        if os_family == "WINDOWS":
            return warn("no user is set: the image decides, and Windows Server Core images run as ContainerAdministrator", evidence)
        return warn("no user is set: the image decides, and most images run as root", evidence)
    if os_family == "WINDOWS":
        # ContainerAdministrator is the Windows admin account of a container; SYSTEM and Administrator
        # are at least as privileged.
        is_admin = user.lower().rsplit("\\", 1)[-1] in _WINDOWS_ADMIN_USERS
    else:
        is_admin = user.split(":", 1)[0] in ("root", "0")
    if is_admin:
        return fail(f'the container runs as {"an administrator" if os_family == "WINDOWS" else "root"} (user "{user}")', evidence)
    return ok(f'the container runs as user "{user}"', evidence)


@check("SECURITY-004")
def no_dangerous_capabilities(c: ContainerSubject) -> Verdict:
    params = c.container.linux_parameters
    raw = params.capabilities.add if params and params.capabilities else []
    added = sorted({re.sub(r"^CAP_", "", cap.strip().upper()) for cap in raw if cap.strip()})
    evidence = {"capabilities_add": raw}
    if not added:
        return ok("no Linux capabilities are added", evidence)
    dangerous = [cap for cap in added if cap in _DANGEROUS_CAPABILITIES]
    if dangerous:
        return fail("dangerous capabilities are added: " + ", ".join(dangerous), evidence)
    others = added
    agent = _is_runtime_security_agent(c.container.image, c.estate.config)
    if agent:
        others = [cap for cap in added if cap != "SYS_PTRACE"]
    if others:
        return warn("capabilities are added: " + ", ".join(others), evidence)
    return ok("only SYS_PTRACE is added, on a recognised runtime security agent", {**evidence, "image": c.container.image})


@check("SECURITY-005")
def no_host_pid_or_ipc(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    evidence = {"pid_mode": td.pid_mode, "ipc_mode": td.ipc_mode}
    shared = [name for name, mode in (("PID", td.pid_mode), ("IPC", td.ipc_mode)) if mode == "host"]
    if shared:
        return fail("the task shares the host " + " and ".join(shared) + " namespace" + ("s" if len(shared) > 1 else ""), evidence)
    return ok("the task shares neither the host PID nor the host IPC namespace", evidence)


def _setting_like_variables(environment: list[EnvironmentVariable], allowlist: list[str]) -> dict[str, str]:
    """Secret-looking names whose value is a boolean, a number or a duration (name -> what it is)."""
    return {
        v.name: "value is a " + sorted(set(v.value_flags) & VALUE_FLAGS_NOT_SECRET)[0]
        for v in environment
        if not name_allowed(v.name, allowlist) and name_looks_secret(v.name) and set(v.value_flags) & VALUE_FLAGS_NOT_SECRET
    }


@check("SECURITY-006")
def no_plaintext_secrets(c: ContainerSubject) -> Verdict:
    found = _secret_variables(c.container.environment, c.estate.config.secret_env_allowlist)
    settings = _setting_like_variables(c.container.environment, c.estate.config.secret_env_allowlist)
    if found:
        return fail(
            "plain environment variables look like secrets: " + ", ".join(sorted(found)),
            {"variables": found, **({"setting_like": settings} if settings else {})},
        )
    # A number is a setting under TOKEN_TTL_SECONDS, but under MYSQL_ROOT_PASSWORD it is the password:
    # not the critical FAIL a secret-looking value earns, still worth a look.
    numeric = sorted(name for name in settings if name_is_password(name) and settings[name] == f"value is a {FLAG_NUMBER}")
    if numeric:
        return warn(
            "password variables hold a number (a numeric password, or a setting named like one): " + ", ".join(numeric),
            {"variables": len(c.container.environment), "numeric_passwords": numeric, "setting_like": settings},
            severity=Severity.MEDIUM,
        )
    if settings:
        return ok(
            "no plain environment variable holds a secret (secret-looking names hold a boolean, number or duration: "
            + ", ".join(sorted(settings)) + ")",
            {"variables": len(c.container.environment), "setting_like": settings},
        )
    count = len(c.container.environment)
    if not count:
        return ok("the container sets no plain environment variables", {"variables": 0})
    return ok(f"none of {count} plain environment variables looks like a secret", {"variables": count})


@check("SECURITY-007")
def injected_secrets_are_encrypted(c: ContainerSubject) -> Verdict:
    estate = c.estate
    refs = [
        r
        for r in container_secret_refs(c.container, estate.partition, estate.region, estate.account_id)
        if r.field != "repositoryCredentials"
    ]
    if not refs:
        return na("the container injects no secrets")
    from_secrets_manager = sorted(r.name or r.value_from for r in refs if r.kind == SECRETS_MANAGER)
    plain: dict[str, str] = {}
    secure: list[str] = []
    missing: list[str] = []
    gaps: list[EvidenceMissing] = []
    for ref in refs:
        if ref.kind == SECRETS_MANAGER:
            continue
        if ref.kind != SSM:
            gaps.append(EvidenceMissing(f"{ref.name}: valueFrom {ref.value_from} is neither an SSM parameter nor a Secrets Manager secret"))
            continue
        if not ref.is_local(estate.region, estate.account_id):
            gaps.append(EvidenceMissing(f"{ref.name}: parameter {ref.arn} is in another region or account and was not read"))
            continue
        try:
            ssm = estate.require("ssm")
            estate.raise_if_failed("ssm:DescribeParameters", ref.arn)
        except EvidenceMissing as gap:
            gaps.append(gap)
            continue
        parameter = ssm.parameter(ref.key)
        if parameter is not None:
            if parameter.type in ("String", "StringList"):
                plain[ref.name or ref.key] = f"{ref.key} ({parameter.type})"
            else:
                secure.append(ref.name or ref.key)
        elif ref.key in ssm.missing:
            missing.append(ref.key)
        else:
            gaps.append(EvidenceMissing(f"parameter {ref.key} is not in the inventory"))
    evidence = {
        "plain_parameters": plain,
        "secure_string": sorted(secure),
        "secrets_manager": from_secrets_manager,
        "missing_parameters": sorted(missing),
    }
    if plain:
        listed = ", ".join(f"{name} from {where}" for name, where in sorted(plain.items()))
        return warn(f"secrets are injected from unencrypted SSM parameters: {listed}", evidence)
    if gaps:
        raise gaps[0]
    if not secure and not from_secrets_manager:
        return na("the referenced parameters do not exist (see RESILIENCE-010): " + ", ".join(sorted(missing)), evidence)
    parts = []
    if from_secrets_manager:
        parts.append(f"{len(from_secrets_manager)} from Secrets Manager")
    if secure:
        parts.append(f"{len(secure)} from SecureString parameters")
    note = f"; missing parameters are RESILIENCE-010's: {', '.join(sorted(missing))}" if missing else ""
    return ok("injected secrets are encrypted: " + ", ".join(parts) + note, evidence)


@check("SECURITY-008")
def separate_task_and_execution_roles(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    evidence = {"task_role_arn": td.task_role_arn, "execution_role_arn": td.execution_role_arn}
    if not td.task_role_arn and not td.execution_role_arn:
        return na("no roles: the task definition sets neither a task role nor an execution role", evidence)
    # A role may be given by name or by ARN: compare the roles, not the strings (taskRoleArn accepts either).
    estate = t.estate
    task_role = role_arn(td.task_role_arn, estate.partition, estate.account_id) if td.task_role_arn else None
    execution_role = role_arn(td.execution_role_arn, estate.partition, estate.account_id) if td.execution_role_arn else None
    # IAM role names are unique within an account whatever their path, and not distinguished by case:
    # "app" and "arn:...:role/service-role/app" are one role.
    if task_role and execution_role and _role_identity(task_role) == _role_identity(execution_role):
        shown = task_role if task_role == execution_role else f"{task_role} and {execution_role}"
        return fail(f"the task role and the execution role are the same role ({shown})", evidence)
    if not td.task_role_arn or not td.execution_role_arn:
        which = "an execution role" if td.execution_role_arn else "a task role"
        return ok(f"only {which} is set", evidence)
    return ok("the task role and the execution role are different roles", evidence)


@check("SECURITY-009")
def task_role_not_over_privileged(t: TaskDefSubject) -> Verdict:
    reference = t.task_definition.task_role_arn
    if not reference:
        return na("the task definition sets no task role", {"task_role_arn": None})
    role = _role_policies(t.estate, reference, "task role")
    name = role_name(role.arn)
    if role.missing:
        return na(f"the task role {name} does not exist (see RESILIENCE-010)", role.evidence)
    failures = _admin_like(role)
    warnings: list[str] = []
    for label, policy_arn, document in role.documents:
        if policy_arn and is_admin_policy_arn(policy_arn):
            continue
        for grant in broad_grants(document, label):
            wildcards = service_wildcards(grant)
            if wildcards:
                warnings.append(grant.describe(wildcards))
    evidence = {**role.evidence, "admin_like": failures, "service_wildcards": warnings}
    if failures:
        return fail(f"the task role {name} is over-privileged: " + "; ".join(failures) + _boundary_note(role), evidence)
    if role.gaps:
        raise role.gaps[0][1]
    if warnings:
        return warn(f"the task role {name} has whole-service wildcards on every resource: " + "; ".join(warnings) + _boundary_note(role), evidence)
    count = len(role.documents)
    return ok(
        f"the task role {name} has no admin-like or wildcard grants on every resource ({count} polic{'y' if count == 1 else 'ies'} read)",
        evidence,
    )


@check("SECURITY-010")
def execution_role_is_limited(t: TaskDefSubject) -> Verdict:
    reference = t.task_definition.execution_role_arn
    if not reference:
        return na("the task definition sets no execution role", {"execution_role_arn": None})
    role = _role_policies(t.estate, reference, "execution role")
    name = role_name(role.arn)
    if role.missing:
        return na(f"the execution role {name} does not exist (see RESILIENCE-010)", role.evidence)
    # The AWS managed AmazonECSTaskExecutionRolePolicy is what ECS needs: not evaluated, never a gap.
    role = _RolePolicies(
        arn=role.arn,
        attached=role.attached,
        inline=role.inline,
        documents=tuple(d for d in role.documents if not (d[1] and is_ecs_task_execution_policy(d[1]))),
        gaps=tuple(g for g in role.gaps if not (g[0] and is_ecs_task_execution_policy(g[0]))),
        boundary=role.boundary,
        actual_arn=role.actual_arn,
    )
    failures = _admin_like(role)
    warnings: list[str] = []
    for label, _, document in role.documents:
        for grant in broad_grants(document, label):
            reads = secret_reads(grant)
            if reads:
                warnings.append(f"{label} allows {', '.join(reads)} on *")
    evidence = {**role.evidence, "admin_like": failures, "secret_reads_on_all_resources": warnings}
    if failures:
        return fail(f"the execution role {name} is admin-like: " + "; ".join(failures) + _boundary_note(role), evidence)
    if role.gaps:
        raise role.gaps[0][1]
    if warnings:
        return warn(f"the execution role {name} reads secrets on every resource: " + "; ".join(warnings) + _boundary_note(role), evidence)
    return ok(f"the execution role {name} holds no admin-like grants and no secret reads on every resource", evidence)


@dataclass
class _AgentDaemons:
    """Recognised runtime agents that run on every instance of a kind of capacity: DAEMON services on a
    cluster's EC2 or External container instances (by the service's launch type), ECS managed daemons on
    the instances of the Managed Instances capacity providers their revisions name
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons.html). A DAEMON service
    is placed by launch type and takes no capacity provider strategy, so it does not reach Managed
    Instances; a managed daemon reaches only its own providers' instances."""

    by_place: dict[tuple[str, str, str], str]  # (cluster, kind, Managed Instances provider or "") -> what runs it
    unread: list[EvidenceMissing]
    # Managed daemons running an agent on some instances of a provider only (withoutDaemonCount).
    incomplete: list[str] = field(default_factory=list)

    def covering(self, place: CapacityPlacement) -> list[str]:
        """What runs an agent on every instance the placement's tasks may land on ([] if not all are covered)."""
        keys = [(place.cluster, place.kind, provider) for provider in place.providers] if place.kind == MANAGED_INSTANCES else [(place.cluster, place.kind, "")]
        found = [self.by_place.get(key) for key in keys]
        return sorted({f for f in found if f}) if keys and all(found) else []


def _agent_daemons(estate: RegionView) -> _AgentDaemons:
    found: dict[tuple[str, str, str], str] = {}
    unread: list[EvidenceMissing] = []
    incomplete: list[str] = []
    for service in estate.services:
        if service.scheduling_strategy != "DAEMON" or service.status not in (None, "ACTIVE") or not service.task_definition:
            continue
        try:
            td = estate.task_definition(service.task_definition)
        except EvidenceMissing as missing:
            unread.append(missing)
            continue
        images = sorted(c.image for c in td.container_definitions if _is_runtime_security_agent(c.image, estate.config))
        if images:
            found.setdefault((service.cluster_arn, service.launch_type or "EC2", ""), f"DAEMON service {service.service_name} ({images[0]})")
    for daemon in estate.ecs.daemons if estate.has_ecs else []:
        if not daemon.cluster_arn or daemon.status not in (None, "ACTIVE"):
            continue
        name = name_from_arn(daemon.daemon_arn)
        for revision in daemon.revisions:
            images = [image for image in revision.images if _is_runtime_security_agent(image, estate.config)]
            for provider in revision.capacity_providers if images else []:
                if missing := revision.instances_without.get(provider, 0):
                    # A daemon that is not critical leaves instances running without it.
                    incomplete.append(f"managed daemon {name} ({images[0]}) is not running on {missing} instance(s) of capacity provider {name_from_arn(provider)}")
                    continue
                found.setdefault((daemon.cluster_arn, MANAGED_INSTANCES, name_from_arn(provider)), f"managed daemon {name} ({images[0]})")
    return _AgentDaemons(found, unread, sorted(set(incomplete)))


# Where GuardDuty Runtime Monitoring does not watch tasks: ECS Anywhere hosts and ECS Managed Instances
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-guard-duty-integration.html,
# https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_managed-instances.html).
_UNWATCHED = {"EXTERNAL": "ECS Anywhere (External) instances", MANAGED_INSTANCES: "ECS Managed Instances"}


def _where_it_runs(estate: RegionView, td) -> set[CapacityPlacement]:
    """Every placement of the services and tasks that run the task definition."""
    places = {place for service in estate.services_using(td) for place in estate.service_placements(service)}
    places.update(place for task in estate.tasks_using(td) for place in estate.task_placements(task))
    return places


def _daemons_unread(estate: RegionView, cluster_arn: str) -> EvidenceMissing | None:
    """Why the managed daemons of a cluster are not known (a failed or skipped call), if they are not."""
    for operation in DAEMON_OPERATIONS:
        error = estate.error_for(f"ecs:{operation}", cluster_arn)
        if error is not None:
            return EvidenceMissing(f"the managed daemons of cluster {name_from_arn(cluster_arn)} could not be read: {error.describe()}", error.action, error.error_code)
    return None


def _uncovered_unread(estate: RegionView, daemons: _AgentDaemons, places: list[CapacityPlacement]) -> list[EvidenceMissing]:
    """For placements no agent daemon covers: the unread daemons (managed daemons, or DAEMON services'
    task definitions) that might have covered them."""
    unread = [m for place in places if place.kind == MANAGED_INSTANCES and (m := _daemons_unread(estate, place.cluster)) is not None]
    return unread + (daemons.unread if any(place.kind in ("EC2", "EXTERNAL") for place in places) else [])


def _unwatched_without_agent(estate: RegionView, daemons: _AgentDaemons) -> tuple[list[str], set[str], list[EvidenceMissing]]:
    """In-use task definitions with tasks where GuardDuty does not watch (External instances, Managed
    Instances) and no recognised agent in the task or as a daemon there; the kinds of place found;
    and the unread daemons that might have covered them."""
    out: list[str] = []
    kinds: set[str] = set()
    unread: list[EvidenceMissing] = []
    for td in estate.task_definitions:
        if not estate.is_in_use(td) or any(_is_runtime_security_agent(c.image, estate.config) for c in td.container_definitions):
            continue
        gaps = [place for place in _where_it_runs(estate, td) if place.kind in _UNWATCHED and not daemons.covering(place)]
        if gaps:
            out.append(td.family_revision)
            kinds.update(place.kind for place in gaps)
            unread += _uncovered_unread(estate, daemons, gaps)
    return sorted(out), kinds, unread


@check("SECURITY-011")
def runtime_threat_detection(a: AccountSubject) -> Verdict:
    # No `needs`: a recognised agent in every in-use task definition passes without GuardDuty data,
    # so GuardDuty's failures are raised here only when they decide the result.
    estate = a.estate
    try:
        detector = _guardduty_detector(estate)
        unread: EvidenceMissing | None = None
    except EvidenceMissing as missing:
        detector, unread = None, missing
    evidence: dict[str, object] = _detector_evidence(detector) if unread is None else {}
    if detector is not None and detector.runtime_monitoring_on:
        # Runtime Monitoring watches Fargate tasks and EC2 container instances only: tasks on ECS Anywhere
        # (External) instances and ECS Managed Instances need an agent of their own (_UNWATCHED).
        daemons = _agent_daemons(estate)
        outside, kinds, unread_daemons = _unwatched_without_agent(estate, daemons)
        if outside:
            if unread_daemons:
                raise unread_daemons[0]  # a daemon that was not read might carry the agent
            evidence["unwatched_without_runtime_agent"] = outside
            where = " or ".join(_UNWATCHED[kind] for kind in sorted(kinds))
            return fail(
                f"GuardDuty runtime monitoring is on, but it does not watch tasks on {where}, "
                "and no recognised runtime security agent runs with " + ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
                + _incomplete_note(daemons, evidence),
                evidence,
            )
        return ok("GuardDuty runtime monitoring is on", evidence)
    _workloads_complete(estate)
    described = [td for td in estate.task_definitions if estate.is_in_use(td)]
    unreadable = sorted(estate.in_use_arns - {td.task_definition_arn for td in described})
    if not described and not unreadable:
        return na("no task definition is in use in this region: there are no tasks to protect", evidence)
    agents = {
        td.family_revision: sorted(c.image for c in td.container_definitions if _is_runtime_security_agent(c.image, estate.config))
        for td in described
    }
    # An agent daemon covers the instance-hosted tasks it reaches (one agent per instance): a DAEMON
    # service its cluster's EC2 or External instances, a managed daemon its Managed Instances providers'.
    daemons = _agent_daemons(estate)
    unread_daemons: list[EvidenceMissing] = []
    by_daemon: dict[str, list[str]] = {}
    for td in described:
        if agents[td.family_revision]:
            continue
        places = _where_it_runs(estate, td)
        covering = {place: daemons.covering(place) for place in places}
        if places and all(covering.values()):
            by_daemon[td.family_revision] = sorted({d for found in covering.values() for d in found})
        else:
            unread_daemons += _uncovered_unread(estate, daemons, [place for place, found in covering.items() if not found])
    without = sorted(name for name, images in agents.items() if not images and name not in by_daemon)
    evidence["runtime_agents"] = {name: images for name, images in agents.items() if images}
    if by_daemon:
        evidence["covered_by_daemon_service"] = by_daemon
    evidence["without_runtime_agent"] = without
    if not without and not unreadable:
        images = sorted({image for found in agents.values() for image in found} | {d for found in by_daemon.values() for d in found})
        how = "in every in-use task definition" if not by_daemon else "beside every in-use task definition (in the task, or as a daemon on its cluster's instances)"
        return ok(f"a recognised runtime security agent runs {how} ({', '.join(images)})", evidence)
    if unread_daemons and without:
        raise unread_daemons[0]  # an unread daemon service might carry the agent
    if unread is not None:
        raise unread
    if not without:
        # Every readable one carries an agent: the unreadable ones decide. task_definition() names the failed call.
        estate.task_definition(unreadable[0])
        raise EvidenceMissing(f"in-use task definition {unreadable[0]} was not read")
    covered = len(agents) - len(without)
    shown = ", ".join(without[:5]) + (f" and {len(without) - 5} more" if len(without) > 5 else "")
    return fail(
        f"{_runtime_monitoring_off(detector)}, and a recognised runtime security agent runs in only {covered} of "
        f"{len(agents)} in-use task definitions (none in {shown})" + _incomplete_note(daemons, evidence),
        evidence,
    )


def _incomplete_note(daemons: _AgentDaemons, evidence: dict[str, object]) -> str:
    """Why an agent managed daemon did not count (it is missing on some instances), for a FAIL's message."""
    if not daemons.incomplete:
        return ""
    evidence["agent_daemons_incomplete"] = daemons.incomplete
    return "; " + "; ".join(daemons.incomplete)


def _runtime_kinds_in_use(estate: RegionView) -> set[str]:
    """FARGATE, EC2, EXTERNAL and/or MANAGED_INSTANCES, from services and running tasks."""
    return {place.kind for place in estate.placements_in_use()} - {"", "UNKNOWN"}


def _clusters_running(estate: RegionView, kind: str) -> list[str]:
    """Cluster ARNs where services or tasks of this launch type run."""
    return sorted({place.cluster for place in estate.placements_in_use() if place.kind == kind and place.cluster})


def _selectively_covered(estate: RegionView, cluster_arn: str, kind: str) -> bool:
    """The cluster is tagged GuardDutyManaged=true (inclusion), or GuardDuty's coverage reports it
    HEALTHY with the agent on the launch type's capacity."""
    cluster = estate.cluster(cluster_arn)
    if cluster is None:
        return False
    if cluster.tags.get("GuardDutyManaged", "").strip().lower() == "true":
        return True
    guardduty = estate.inventory.guardduty
    for entry in guardduty.coverage_for(cluster.cluster_name) if guardduty else []:
        details = entry.resource_details.ecs_cluster_details if entry.resource_details else None
        if entry.coverage_status != "HEALTHY" or details is None:
            continue
        if kind == "FARGATE" and details.fargate_details and details.fargate_details.management_type == "AUTO_MANAGED":
            return True
        instances = details.container_instance_details
        if kind == "EC2" and instances and instances.compatible_container_instances and instances.covered_container_instances == instances.compatible_container_instances:
            return True
    return False


@check("SECURITY-012")
def guardduty_agent_management(a: AccountSubject) -> Verdict:
    estate = a.estate
    _workloads_complete(estate)
    # ECS Managed Instances are EC2 instances, but GuardDuty's EC2 agent management does not cover them (_UNWATCHED).
    in_use = sorted(_runtime_kinds_in_use(estate) & {"FARGATE", "EC2"})
    if not in_use:
        return na("neither the Fargate nor the EC2 launch type is in use in this region")
    detector = _guardduty_detector(estate)
    fargate = detector.agent_management(FARGATE_AGENT_MANAGEMENT) if detector else "DISABLED"
    ec2 = detector.agent_management(EC2_AGENT_MANAGEMENT) if detector else "DISABLED"
    evidence = {"launch_types_in_use": in_use, **_detector_evidence(detector)}
    off = "" if detector is not None and detector.runtime_monitoring_on else f" because {_runtime_monitoring_off(detector)}"
    failures: list[str] = []
    warnings: list[str] = []
    # Selective inclusion: with account-level agent management off, GuardDuty still manages the agent
    # on clusters tagged GuardDutyManaged=true; and the coverage API shows what is actually covered.
    included: dict[str, list[str]] = {}
    if detector is not None and detector.runtime_monitoring_on:
        for kind, setting in (("FARGATE", fargate), ("EC2", ec2)):
            if kind in in_use and setting != "ENABLED":
                clusters = _clusters_running(estate, kind)
                if clusters and all(_selectively_covered(estate, cluster, kind) for cluster in clusters):
                    included[kind] = sorted(estate.cluster(c).cluster_name if estate.cluster(c) else name_from_arn(c) for c in clusters)
    if included:
        evidence["covered_by_inclusion_tag_or_coverage"] = included
    if "FARGATE" in in_use and fargate != "ENABLED" and "FARGATE" not in included:
        failures.append(f"Fargate is in use but GuardDuty does not manage its agent ({FARGATE_AGENT_MANAGEMENT} off{off}): Fargate tasks are not monitored")
    if "EC2" in in_use and ec2 != "ENABLED" and "EC2" not in included:
        warnings.append(f"EC2 is in use but {EC2_AGENT_MANAGEMENT} is off{off}: the agent must be installed on the container instances by other means")
    if failures:
        return fail("; ".join(failures + warnings), evidence)
    if warnings:
        return warn("; ".join(warnings), evidence)
    managed = " and ".join(
        f"{kind} (clusters {', '.join(included[kind])} included with GuardDutyManaged=true or covered)" if kind in included
        else f"{kind} ({FARGATE_AGENT_MANAGEMENT if kind == 'FARGATE' else EC2_AGENT_MANAGEMENT})"
        for kind in in_use
    )
    return ok(f"GuardDuty manages the runtime agent for {managed}", evidence)


@check("SECURITY-013")
def guardduty_cluster_coverage(c: ClusterSubject) -> Verdict:
    cluster = c.cluster
    if cluster.status not in (None, "ACTIVE"):
        return na(f"the cluster is {cluster.status}")
    running = max(cluster.running_tasks_count, len(c.tasks))
    if running == 0:
        return na("no tasks run in the cluster: there is nothing for runtime monitoring to cover", {"running_tasks": 0})
    tasks = list(c.tasks)
    kinds = {place.kind for t in tasks for place in c.estate.task_placements(t)}
    if tasks and len(tasks) >= running and kinds <= _UNWATCHED.keys():
        # GuardDuty Runtime Monitoring covers Fargate and EC2 only; SECURITY-011 reports the gap of the others.
        where = " or ".join(_UNWATCHED[kind] for kind in sorted(kinds))
        return na(f"all {running} running tasks are on {where}, which GuardDuty runtime coverage does not include (see SECURITY-011)", {"running_tasks": running})
    detector = _guardduty_detector(c.estate)
    evidence: dict[str, object] = {"running_tasks": running, **_detector_evidence(detector)}
    if detector is None or not detector.runtime_monitoring_on:
        return fail(f"{_runtime_monitoring_off(detector)}: the cluster's {running} running tasks are not covered", evidence)
    guardduty: GuardDutyInventory = c.estate.require("guardduty")
    c.estate.raise_if_failed("guardduty:ListCoverage")
    if guardduty.coverage is None:
        raise EvidenceMissing("GuardDuty's ECS runtime coverage was not read")
    entries = guardduty.coverage_for(cluster.cluster_name)
    excluded = cluster.tags.get("GuardDutyManaged", "").lower() == "false"
    if not entries:
        note = " (the cluster is tagged GuardDutyManaged=false, which excludes it from agent management)" if excluded else ""
        return fail(f"the cluster is missing from GuardDuty's runtime coverage{note}: its tasks send no runtime events", evidence)
    details = [_coverage_evidence(entry) for entry in entries]
    evidence["coverage"] = details
    unhealthy = [d for d in details if d["coverage_status"] != "HEALTHY"]
    if unhealthy:
        issues = "; ".join(str(issue) for d in unhealthy for issue in d["issues"]) or "no issue given"
        return fail(f"GuardDuty runtime coverage of the cluster is {unhealthy[0]['coverage_status']}: {issues}", evidence)
    return ok("GuardDuty runtime coverage of the cluster is HEALTHY", evidence)


@check("SECURITY-014")
def fargate_latest_platform(s: ServiceSubject) -> Verdict:
    if s.launch_type != "FARGATE":
        return na(f"not a Fargate service (launch type {s.launch_type or 'unknown'})", {"launch_type": s.launch_type})
    family = s.service.platform_family
    os_family = ("WINDOWS" if family.upper().startswith("WINDOWS") else "LINUX") if family else s.task_definition.os_family
    latest = s.estate.config.fargate_latest_platform.get(os_family)
    if latest is None:
        return unknown(f"no latest Fargate platform version is configured for {os_family}")
    # A Fargate service without platformVersion runs LATEST (the API default).
    service_version = s.service.platform_version or "LATEST"
    old_tasks = sorted(
        {t.platform_version for t in s.tasks if t.platform_version and not _is_current_platform(t.platform_version, latest)}
    )
    evidence = {
        "platform_version": service_version,
        "latest": latest,
        "os_family": os_family,
        "old_task_versions": old_tasks,
    }
    problems = []
    if not _is_current_platform(service_version, latest):
        problems.append(f"the service is pinned to platform version {service_version}")
    if old_tasks:
        problems.append("running tasks use platform version " + ", ".join(old_tasks))
    if problems:
        return fail("; ".join(problems) + f" (latest {os_family} version is {latest})", evidence)
    return ok(f"the service runs platform version {service_version} (latest {os_family} version is {latest})", evidence)


@check("SECURITY-015")
def no_sensitive_host_mounts(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    host_paths = {v.name or "": _normalise_host_path(v.host.source_path) for v in td.volumes if v.host and v.host.source_path}
    # A Docker volume of the local driver with o=bind is a bind mount of its device path.
    host_paths.update(
        {
            v.name or "": _normalise_host_path(bound)
            for v in td.volumes
            if v.docker_volume_configuration and (bound := v.docker_volume_configuration.bound_host_path)
        }
    )
    # Only a host path some container mounts exposes anything: name -> [(container, read-only)].
    mounts: dict[str, list[tuple[str, bool]]] = {}
    for container in td.container_definitions:
        for point in container.mount_points:
            if point.source_volume in host_paths:
                mounts.setdefault(point.source_volume, []).append((container.name, bool(point.read_only)))
    mounted = {name: path for name, path in host_paths.items() if name in mounts}
    unmounted = sorted(name for name in host_paths if name not in mounts)
    sensitive = {name: path for name, path in mounted.items() if _is_sensitive_host_path(path)}
    evidence: dict[str, object] = {"host_paths": mounted, "unmounted_host_volumes": unmounted}
    if sensitive:
        details = {
            name: [f"{container} ({'read-only' if read_only else 'read-write'})" for container, read_only in mounts[name]]
            for name in sensitive
        }
        evidence["sensitive_host_paths"] = sensitive
        evidence["mounted_by"] = details
        listed = "; ".join(f"{path} (volume {name}, mounted by {', '.join(details[name])})" for name, path in sorted(sensitive.items()))
        return fail(f"sensitive host paths are mounted: {listed}", evidence)
    if not mounted:
        note = f" (host volumes {', '.join(unmounted)} are declared but no container mounts them)" if unmounted else ""
        return ok("no host paths are mounted" + note, evidence)
    return ok("the mounted host paths are not sensitive: " + ", ".join(sorted(mounted.values())), evidence)


@check("SECURITY-016")
def exec_sessions_logged_or_encrypted(s: ServiceSubject) -> Verdict:
    if not s.service.enable_execute_command:
        return na("ECS Exec is off for this service", {"enable_execute_command": s.service.enable_execute_command})
    cluster = s.cluster
    if cluster is None:
        raise EvidenceMissing(f"cluster {s.cluster_name} is not in the inventory")
    config = cluster.configuration.execute_command_configuration if cluster.configuration else None
    kms_key = config.kms_key_id if config else None
    # An unset logging mode is DEFAULT (the API default).
    logging = (config.logging if config else None) or "DEFAULT"
    logged = _exec_sessions_logged(logging, config, s)
    evidence = {"enable_execute_command": True, "logging": logging, "kms_key_id": kms_key, "sessions_logged": logged}
    missing: list[str] = []
    if not logged:
        why = "no container uses awslogs" if logging == "DEFAULT" else "no log destination" if logging == "OVERRIDE" else "logging NONE"
        missing.append(f"sessions are not logged ({why})")
    if not kms_key:
        missing.append("sessions are not encrypted with a KMS key (no kmsKeyId)")
    evidence["missing"] = missing
    if missing:
        return warn("ECS Exec is on and " + "; ".join(missing), evidence)
    return ok(f"ECS Exec is on; the cluster logs sessions (logging {logging}) and encrypts them with a KMS key", evidence)


def _ranges(revisions: list[int]) -> str:
    """1, 2, 3, 7, 9, 10 -> "1-3, 7, 9-10"."""
    out: list[str] = []
    start = previous = None
    for revision in sorted(set(revisions)):
        if previous is not None and revision == previous + 1:
            previous = revision
            continue
        if start is not None:
            out.append(f"{start}-{previous}" if previous != start else f"{start}")
        start = previous = revision
    if start is not None:
        out.append(f"{start}-{previous}" if previous != start else f"{start}")
    return ", ".join(out)


def _history_not_fully_read(t: TaskDefSubject, history: FamilyHistory, read: int, evidence: dict[str, object]) -> Verdict:
    """Nothing secret-looking among the revisions read, but not all were read. Revisions left out by a
    configured limit are a known, chosen gap: WARN naming them (the user can raise the limit or delete
    the old revisions, which removes the exposure for good); failed reads are a gap the audit did not
    choose: UNKNOWN. Neither is a PASS."""
    failed = set(history.failed_revisions)
    capped = sorted(set(history.unread_revisions) - failed)
    clean = f"none of the {read} revisions read carries a secret-looking environment variable"
    if failed:
        evidence["revisions_failed"] = _ranges(sorted(failed))
        also = f"; revisions {_ranges(capped)} not read ({history.unread_limit or 'limit'})" if capped else ""
        return unknown(f"revisions {_ranges(sorted(failed))} could not be read (DescribeTaskDefinition failed){also}; {clean}", evidence)
    if not capped:  # a snapshot from before unread revisions were named
        return unknown(f"some revisions were not read (history_depth {t.estate.config.history_depth}); {clean}", evidence)
    limit = history.unread_limit or f"history_depth {t.estate.config.history_depth}"
    newer = [r for r in capped if r > t.task_definition.revision]
    if newer:  # registered after the deployed one (CI ahead of deploys): the likeliest to run next
        evidence["newer_revisions_not_read"] = _ranges(newer)
        limit += f"; {len(newer)} of them newer than this revision"
    return warn(
        f"revisions {_ranges(capped)} not read ({limit}); {clean}: raise the limit in the config file to read them, "
        "or delete the revisions no longer needed (DeleteTaskDefinitions)",
        evidence,
    )


@check("SECURITY-017")
def no_secrets_in_older_revisions(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    if not t.in_use:
        return na("the task definition is not in use, so its family's history is not read")
    history = t.estate.family_history(td)
    allowlist = t.estate.config.secret_env_allowlist
    # Every other revision counts, older or newer: a registered but never-deployed newer revision is
    # as readable as an old one (other in-use revisions are judged by SECURITY-006 themselves).
    others = [r for r in history.older_revisions if r.revision != td.revision]
    found: dict[str, dict[str, list[str]]] = {}
    for revision in sorted(others, key=lambda r: r.revision):
        containers = {
            name: sorted(_secret_variables(env, allowlist)) for name, env in revision.containers.items()
        }
        containers = {name: names for name, names in containers.items() if names}
        if containers:
            found[f"{td.family}:{revision.revision}"] = containers
    newer = sorted(r.revision for r in others if r.revision > td.revision)
    evidence: dict[str, object] = {
        "revisions_read": len(others),
        "newer_revisions_read": newer,
        "history_truncated": history.history_truncated,
        "revisions": found,
    }
    if history.unread_revisions:
        evidence["revisions_not_read"] = _ranges(history.unread_revisions)
    if found:
        listed = "; ".join(
            f"{rev}{' (newer, never deployed here)' if int(rev.rsplit(':', 1)[1]) > td.revision else ''} "
            f"({', '.join(sorted({n for names in containers.values() for n in names}))})"
            for rev, containers in found.items()
        )
        return fail(f"other revisions of the family carry secret-looking environment variables: {listed}", evidence)
    if history.history_truncated:
        return _history_not_fully_read(t, history, len(others), evidence)
    if not others:
        return ok("there are no other revisions of this family", evidence)
    newer_note = f", including {len(newer)} newer" if newer else ""
    return ok(f"none of the {len(others)} other revisions{newer_note} carries a secret-looking environment variable", evidence)


@check("SECURITY-018")
def kernel_security_profiles_enabled(c: ContainerSubject) -> Verdict:
    launch_types = c.taskdef.launch_types
    if launch_types == {"FARGATE"}:
        return na("the task definition runs only on Fargate, which does not take docker security options")
    options = c.container.docker_security_options
    disabling = [o for o in options if o.strip().lower().replace("=", ":", 1) in _PROFILE_DISABLING_OPTIONS]
    evidence = {"docker_security_options": options}
    if disabling:
        return fail("kernel security profiles are disabled: " + ", ".join(disabling), evidence)
    return ok("no kernel security profile is disabled", evidence)


# GuardDuty severity bands: 4.0-6.9 MEDIUM, 7.0-8.9 HIGH, 9.0-10.0 CRITICAL.
_HIGH_FINDING = 7.0


_MEDIUM_FINDING = 4.0


def _severity_label(severity: float) -> str:
    return "CRITICAL" if severity >= 9.0 else "HIGH" if severity >= _HIGH_FINDING else "MEDIUM" if severity >= _MEDIUM_FINDING else "LOW"


def _finding_target(finding: GuardDutyFinding) -> str:
    cluster = finding.cluster
    parts = []
    if cluster is not None and (cluster.name or cluster.arn):
        parts.append(f"cluster {cluster.name or name_from_arn(cluster.arn or '')}")
    if finding.task_arn:
        parts.append(f"task {name_from_arn(finding.task_arn)}")
    if finding.image:
        parts.append(f"image {finding.image}")
    return ", ".join(parts) or (finding.resource.resource_type if finding.resource and finding.resource.resource_type else "an ECS resource")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@check("SECURITY-019")
def no_open_threat_findings(a: AccountSubject) -> Verdict:
    estate = a.estate
    detector = _guardduty_detector(estate)
    if detector is None or not detector.enabled:
        return na(f"{_runtime_monitoring_off(detector)}: there are no findings to triage (SECURITY-011 reports detection being off)", _detector_evidence(detector))
    for action in ("guardduty:ListFindings", "guardduty:GetFindings"):
        estate.raise_if_failed(action)
    guardduty: GuardDutyInventory = estate.require("guardduty")
    if guardduty.findings is None:
        raise EvidenceMissing("GuardDuty's findings were not read")
    findings = [
        f for f in guardduty.findings if not f.archived and f.region in (None, estate.region) and (f.severity or 0) >= _MEDIUM_FINDING
    ]
    shown = {
        f.id: {"type": f.type, "severity": f.severity, "level": _severity_label(f.severity or 0), "resource": _finding_target(f)}
        for f in findings
    }
    evidence: dict[str, object] = {"detector": detector.detector_id, "open_findings": shown}
    high = sorted((f for f in findings if (f.severity or 0) >= _HIGH_FINDING), key=lambda f: (-(f.severity or 0), f.id))
    medium = sorted((f for f in findings if (f.severity or 0) < _HIGH_FINDING), key=lambda f: (-(f.severity or 0), f.id))

    def listed(items: list[GuardDutyFinding]) -> str:
        text = "; ".join(f"{f.type or f.title or f.id} ({_severity_label(f.severity or 0)}) on {_finding_target(f)}" for f in items[:5])
        return text + (f"; and {len(items) - 5} more" if len(items) > 5 else "")

    if high:
        return fail(f"{_plural(len(high), 'open high-severity GuardDuty finding', 'open high-severity GuardDuty findings')} on ECS resources: {listed(high)}", evidence)
    if medium:
        return warn(f"{_plural(len(medium), 'open medium-severity GuardDuty finding', 'open medium-severity GuardDuty findings')} on ECS resources: {listed(medium)}", evidence)
    return ok("no open medium, high or critical GuardDuty finding concerns an ECS resource in this region", evidence)

