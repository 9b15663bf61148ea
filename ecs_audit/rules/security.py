"""Checks of the SECURITY area (see checks/security.yaml)."""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase

from ecs_audit.config import AuditConfig
from ecs_audit.estate import ContainerSubject, ServiceSubject, TaskDefSubject
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, unknown, warn
from ecs_audit.inventory.ecs import EnvironmentVariable, ExecuteCommandConfiguration
from ecs_audit.redact import FLAG_EMPTY, FLAG_SECRET_REFERENCE, VALUE_FLAGS_THAT_ARE_SECRETS, name_looks_secret
from ecs_audit.rules.registry import check

# SECURITY-004
_DANGEROUS_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "DAC_READ_SEARCH"})
# SECURITY-015: these paths and everything under them.
_SENSITIVE_HOST_PATHS = ("/etc", "/proc", "/sys", "/root", "/var/lib/docker")
# SECURITY-018: options that switch a kernel security profile off (after normalising case and "=").
_PROFILE_DISABLING_OPTIONS = frozenset({"apparmor:unconfined", "label:disable"})


def _is_runtime_security_agent(image: str, config: AuditConfig) -> bool:
    return any(fnmatchcase(image, pattern) for pattern in config.runtime_security_agents)


def _secret_variables(environment: list[EnvironmentVariable], allowlist: list[str]) -> dict[str, str]:
    """Secret-looking variables (name -> why), for SECURITY-006 and SECURITY-017. Never reads a value."""
    found: dict[str, str] = {}
    for variable in environment:
        if variable.name in allowlist:
            continue
        flags = set(variable.value_flags)
        secret_flags = sorted(flags & VALUE_FLAGS_THAT_ARE_SECRETS)
        if secret_flags:
            found[variable.name] = "value looks like " + ", ".join(secret_flags)
        # A secret-looking name holding an ARN or nothing is a pointer or a placeholder, not a secret.
        elif name_looks_secret(variable.name) and not flags & {FLAG_SECRET_REFERENCE, FLAG_EMPTY}:
            found[variable.name] = "name looks secret"
    return found


@check("SECURITY-001")
def read_only_root_filesystem(c: ContainerSubject) -> Verdict:
    if c.task_definition.os_family == "WINDOWS":
        return na("Windows containers do not support a read-only root filesystem", {"os_family": "WINDOWS"})
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
    os_family = c.task_definition.os_family
    user = (c.container.user or "").strip()
    evidence = {"user": c.container.user, "os_family": os_family}
    if not user:
        return warn("no user is set: the image decides, and most images run as root", evidence)
    if os_family == "WINDOWS":
        is_admin = user.lower() == "containeradministrator"
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


@check("SECURITY-006")
def no_plaintext_secrets(c: ContainerSubject) -> Verdict:
    found = _secret_variables(c.container.environment, c.estate.config.secret_env_allowlist)
    if found:
        return fail(
            "plain environment variables look like secrets: " + ", ".join(sorted(found)),
            {"variables": found},
        )
    count = len(c.container.environment)
    if not count:
        return ok("the container sets no plain environment variables", {"variables": 0})
    return ok(f"none of {count} plain environment variables looks like a secret", {"variables": count})


@check("SECURITY-008")
def separate_task_and_execution_roles(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    evidence = {"task_role_arn": td.task_role_arn, "execution_role_arn": td.execution_role_arn}
    if not td.task_role_arn and not td.execution_role_arn:
        return na("no roles: the task definition sets neither a task role nor an execution role", evidence)
    if td.task_role_arn == td.execution_role_arn:
        return fail("the task role and the execution role are the same role", evidence)
    if not td.task_role_arn or not td.execution_role_arn:
        which = "an execution role" if td.execution_role_arn else "a task role"
        return ok(f"only {which} is set", evidence)
    return ok("the task role and the execution role are different roles", evidence)


def _is_current_platform(version: str, latest: str) -> bool:
    """LATEST, the configured latest version, or newer (a configured latest can lag behind AWS)."""
    if version == "LATEST":
        return True
    try:
        return tuple(int(p) for p in version.split(".")) >= tuple(int(p) for p in latest.split("."))
    except ValueError:
        return version == latest


@check("SECURITY-014", needs=("ecs:ListTasks", "ecs:DescribeTasks"))
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


def _normalise_host_path(path: str) -> str:
    if not path.startswith("/"):
        return path  # e.g. a Windows path
    normalised = posixpath.normpath(path)
    return "/" + normalised.lstrip("/")


def _is_sensitive_host_path(path: str) -> bool:
    if path == "/" or path.endswith("docker.sock"):
        return True
    return any(path == prefix or path.startswith(prefix + "/") for prefix in _SENSITIVE_HOST_PATHS)


@check("SECURITY-015")
def no_sensitive_host_mounts(t: TaskDefSubject) -> Verdict:
    host_paths = {
        v.name or "": _normalise_host_path(v.host.source_path)
        for v in t.task_definition.volumes
        if v.host and v.host.source_path
    }
    sensitive = {name: path for name, path in host_paths.items() if _is_sensitive_host_path(path)}
    if sensitive:
        listed = ", ".join(f"{path} (volume {name})" for name, path in sorted(sensitive.items()))
        return fail(f"sensitive host paths are mounted: {listed}", {"sensitive_host_paths": sensitive})
    if not host_paths:
        return ok("no host paths are mounted", {"host_paths": {}})
    return ok("the mounted host paths are not sensitive: " + ", ".join(sorted(host_paths.values())), {"host_paths": host_paths})


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
    evidence = {"enable_execute_command": True, "logging": logging, "kms_key_id": kms_key}
    if kms_key:
        return ok("ECS Exec is on; the cluster encrypts sessions with a KMS key", evidence)
    if _exec_sessions_logged(logging, config, s):
        return ok(f"ECS Exec is on; the cluster logs sessions (logging {logging})", evidence)
    why = "no container uses awslogs" if logging == "DEFAULT" else "no log destination" if logging == "OVERRIDE" else "logging NONE"
    return warn(f"ECS Exec is on and the cluster neither logs sessions ({why}) nor sets a KMS key", evidence)


@check("SECURITY-017", needs=("ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"))
def no_secrets_in_older_revisions(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    if not t.in_use:
        return na("the task definition is not in use, so its family's history is not read")
    history = t.estate.family_history(td)
    allowlist = t.estate.config.secret_env_allowlist
    older = [r for r in history.older_revisions if r.revision < td.revision]
    found: dict[str, dict[str, list[str]]] = {}
    for revision in sorted(older, key=lambda r: r.revision):
        containers = {
            name: sorted(_secret_variables(env, allowlist)) for name, env in revision.containers.items()
        }
        containers = {name: names for name, names in containers.items() if names}
        if containers:
            found[f"{td.family}:{revision.revision}"] = containers
    evidence = {"revisions_read": len(older), "history_truncated": history.history_truncated, "revisions": found}
    if found:
        listed = "; ".join(
            f"{rev} ({', '.join(sorted({n for names in containers.values() for n in names}))})"
            for rev, containers in found.items()
        )
        return fail(f"older revisions carry secret-looking environment variables: {listed}", evidence)
    if history.history_truncated:
        return unknown(
            f"only part of the history was read (older revisions read: {len(older)}), and none of those carries a "
            "secret-looking environment variable",
            evidence,
        )
    if not older:
        return ok("there are no older revisions of this family", evidence)
    return ok(f"none of the {len(older)} older revisions carries a secret-looking environment variable", evidence)


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
