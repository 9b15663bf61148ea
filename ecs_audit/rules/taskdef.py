"""Checks of the TASKDEF area (see checks/taskdef.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecs_audit.catalogue import Severity
from ecs_audit.evaluation.subjects import ContainerSubject, ServiceSubject, TaskDefSubject
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.cloudwatch import MonitoringInventory
from ecs_audit.inventory.compute_optimizer import NOT_OPTED_IN
from ecs_audit.inventory.ecs import ContainerDefinition, HealthCheck
from ecs_audit.rules.registry import check
from ecs_audit.semantics.container_insights import container_insights
from ecs_audit.semantics.fargate_sizes import CPU_TARGET, FargateSize, is_valid_fargate_size, suggest_size

# Docker's health-check defaults, which ECS applies when a field is omitted.
HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}

_SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)?\s*$", re.IGNORECASE)
_CPU_UNITS = {"": 1, "vcpu": 1024}
_MEMORY_UNITS = {"": 1, "mb": 1, "mib": 1, "gb": 1024, "gib": 1024}


def _may_run_on_fargate(t: TaskDefSubject) -> bool:
    td = t.task_definition
    return "FARGATE" in (td.requires_compatibilities or []) or "FARGATE" in t.estate.launch_types_of(td)


@check("TASKDEF-001")
def task_size_defined(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    missing = [name for name, value in (("cpu", td.cpu), ("memory", td.memory)) if not value]
    evidence = {"cpu": td.cpu, "memory": td.memory}
    platform = t.estate.os_of(td)
    if missing and platform.is_windows and not _may_run_on_fargate(t):
        # Task-level sizes are ignored for Windows containers on EC2: container-level ones apply.
        return na(
            f"Windows task on EC2 (from the {platform.source}): task-level cpu and memory are ignored there; "
            "size each container instead (TASKDEF-002)",
            {**evidence, "os_family": "WINDOWS", "os_decided_by": platform.source},
        )
    if missing:
        return fail(f"task-level {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set", evidence)
    return ok(f"task-level cpu ({td.cpu}) and memory ({td.memory}) are set", evidence)


@check("TASKDEF-002")
def container_declares_cpu_and_memory(c: ContainerSubject) -> Verdict:
    container = c.container
    evidence = {"cpu": container.cpu, "memory": container.memory, "memory_reservation": container.memory_reservation}
    missing = []
    if not container.cpu:
        missing.append("cpu" if container.cpu is None else "cpu (it is 0)")
    if container.memory is None and container.memory_reservation is None:
        missing.append("memory or memoryReservation")
    if missing:
        return fail(
            f"the container declares no {' and no '.join(missing)}: per-container Container Insights utilisation needs them",
            evidence,
        )
    memory = container.memory if container.memory is not None else container.memory_reservation
    return ok(f"the container declares {container.cpu} CPU units and {memory} MiB of memory", evidence)


@check("TASKDEF-003")
def containers_fit_task_size(t: TaskDefSubject) -> Verdict:
    td = t.task_definition
    task_cpu = _units(td.cpu, _CPU_UNITS)
    task_memory = _units(td.memory, _MEMORY_UNITS)
    if task_cpu is None and task_memory is None:
        return na("no task-level cpu or memory to fit containers into")
    containers = td.container_definitions
    cpu_sum = sum(c.cpu or 0 for c in containers)
    memory_sum = sum(_reserved_memory(c) for c in containers)
    evidence = {"task_cpu": task_cpu, "task_memory": task_memory, "container_cpu_sum": cpu_sum, "container_memory_sum": memory_sum}
    problems = []
    if task_cpu is not None and cpu_sum > task_cpu:
        problems.append(f"containers reserve {cpu_sum} CPU units but the task has {task_cpu}")
    if task_memory is not None and memory_sum > task_memory:
        problems.append(f"containers reserve {memory_sum} MiB but the task has {task_memory} MiB")
    if problems:
        return fail("; ".join(problems), evidence)
    return ok(f"containers reserve {cpu_sum} CPU units and {memory_sum} MiB, within the task size", evidence)


def _reserved_memory(container: ContainerDefinition) -> int:
    """The memory a container reserves: its soft limit, else its hard limit."""
    if container.memory_reservation is not None:
        return container.memory_reservation
    return container.memory or 0


def _units(value: str | None, units: dict[str, int]) -> int | None:
    """Task cpu (CPU units) or memory (MiB). DescribeTaskDefinition returns integers, but the
    registration forms "1 vCPU" and "2 GB" are read too."""
    if not value:
        return None
    match = _SIZE.match(value)
    unit = (match.group("unit") or "").lower() if match else ""
    if match is None or unit not in units:
        raise EvidenceMissing(f"task size {value!r} is not a value this check understands")
    return int(float(match.group("number")) * units[unit])


def _health_check(container: ContainerDefinition) -> HealthCheck | None:
    """The container's health check, or None when it has none (or disables the image's with NONE)."""
    health_check = container.health_check
    if health_check is None or not health_check.command or health_check.command[0].upper() == "NONE":
        return None
    return health_check


@check("TASKDEF-004")
def essential_containers_have_health_check(c: ContainerSubject) -> Verdict:
    if not c.container.is_essential:
        return na("the container is not essential")
    health_check = _health_check(c.container)
    if health_check is None:
        services = c.estate.services_using(c.task_definition)
        if not services and c.estate.knows_usage:
            # Only a service replaces a task whose essential container turns UNHEALTHY; a standalone or
            # scheduled task just reports it (and a dependsOn HEALTHY condition waits on it).
            tasks = c.estate.tasks_using(c.task_definition)
            scheduled = sorted({t.started_by for t in tasks if t.started_by and t.started_by.startswith(("events-rule/", "ecs-scheduler", "scheduler"))})
            how = "scheduled tasks" if scheduled else "standalone tasks" if tasks else "standalone or scheduled tasks (no service uses it)"
            return warn(
                f"the essential container defines no health check; it runs as {how}, which ECS does not replace when unhealthy, "
                "so a health check would only report a hung task",
                {"health_check": None, "services": [], "started_by": scheduled},
                severity=Severity.LOW,
            )
        return fail("the essential container defines no health check: ECS cannot replace it when it hangs", {"health_check": None})
    return ok("the essential container defines a health check", {"command": health_check.command[0]})


@check("TASKDEF-005")
def health_check_timing(c: ContainerSubject) -> Verdict:
    health_check = _health_check(c.container)
    if health_check is None:
        return na("the container has no health check")
    interval = health_check.interval if health_check.interval is not None else HEALTH_CHECK_DEFAULTS["interval"]
    timeout = health_check.timeout if health_check.timeout is not None else HEALTH_CHECK_DEFAULTS["timeout"]
    retries = health_check.retries if health_check.retries is not None else HEALTH_CHECK_DEFAULTS["retries"]
    start_period = health_check.start_period
    behind_lb = _behind_load_balancer(c)
    evidence = {
        "interval": interval,
        "timeout": timeout,
        "retries": retries,
        "start_period": start_period,
        "behind_load_balancer": behind_lb,
    }
    if timeout >= interval:
        return fail(f"the health-check timeout ({timeout}s) is not shorter than its interval ({interval}s)", evidence)
    problems = []
    if interval > 60:
        problems.append(f"interval {interval}s is over 60s: failures are detected slowly")
    if retries == 1:
        problems.append("retries is 1: a single slow response marks the container unhealthy")
    if behind_lb and not start_period:
        problems.append("no startPeriod although the container is behind a load balancer")
    if problems:
        return warn("; ".join(problems), evidence)
    return ok(f"health-check timing is sensible (interval {interval}s, timeout {timeout}s, retries {retries})", evidence)


def _behind_load_balancer(c: ContainerSubject) -> bool:
    return any(
        lb.container_name == c.container.name for service in c.taskdef.services for lb in service.all_load_balancers
    )


@check("TASKDEF-006")
def awsvpc_network_mode(t: TaskDefSubject) -> Verdict:
    # The API's default network mode is bridge.
    mode = t.task_definition.network_mode or "bridge"
    evidence = {"network_mode": mode, "network_mode_set": t.task_definition.network_mode is not None}
    if mode == "host":
        return fail("the task uses host networking: containers share the host's network stack and ports", evidence)
    if t.task_definition.network_mode is None:
        platform = t.estate.os_of(t.task_definition)
        if platform.is_windows:
            # On EC2 Windows the default network mode is NAT, not bridge.
            evidence.update(network_mode="nat", os_family="WINDOWS", os_decided_by=platform.source)
            return warn("the Windows task uses the default network mode (nat on Windows; networkMode is not set), not awsvpc: no per-task ENI or security group", evidence)
    if mode in ("bridge", "none"):
        default = "" if t.task_definition.network_mode else " (the default: networkMode is not set)"
        return warn(f"the task uses {mode} network mode{default}, not awsvpc: no per-task ENI or security group", evidence)
    if mode == "awsvpc":
        return ok("the task uses awsvpc network mode", evidence)
    return warn(f"the task uses {mode} network mode, not awsvpc", evidence)


# --- TASKDEF-007: task size against measured utilisation ---------------------------------------

_OVER_CPU_P95 = 20.0  # percent of the reservation
_OVER_MEMORY_P95 = 30.0
_UNDER_MEMORY_MAX = 90.0


@check("TASKDEF-007")
def task_size_matches_utilisation(s: ServiceSubject) -> Verdict:
    service = s.service
    monitoring: MonitoringInventory = s.estate.require("cloudwatch")
    usage = monitoring.utilisation_of(service.service_arn)
    optimizer, optimizer_evidence = _compute_optimizer(s)
    if usage is None or not usage.hours:
        return _without_data(s, monitoring.window_days, optimizer, optimizer_evidence)
    size = _task_size(s)
    numbers = (
        f"p95 CPU {_percent(usage.cpu_p95)}, p95 memory {_percent(usage.memory_p95)}, peak memory {_percent(usage.memory_max)} "
        f"of the reservation over {usage.hours} hours"
    )
    evidence: dict[str, object] = {
        "hours": usage.hours,
        "cpu_p95_percent": usage.cpu_p95,
        "cpu_max_percent": usage.cpu_max,
        "memory_p95_percent": usage.memory_p95,
        "memory_max_percent": usage.memory_max,
        "task_cpu": size[0] if size else None,
        "task_memory": size[1] if size else None,
        **optimizer_evidence,
    }
    suggestion = None
    if size and usage.memory_max is not None:
        # Without a CPU figure (no CPU reserved), keep the CPU as it is.
        cpu_p95 = usage.cpu_p95 if usage.cpu_p95 is not None else CPU_TARGET * 100
        suggestion = suggest_size(size[0], size[1], cpu_p95, usage.memory_max)
        evidence["suggested_size"] = {"cpu": suggestion.cpu, "memory": suggestion.memory, "capped": suggestion.capped}
    advice = _size_advice(size, suggestion)
    if usage.memory_max is not None and usage.memory_max > _UNDER_MEMORY_MAX:
        limit = _memory_limit(s, usage.memory_reserved or (size[1] if size else None))
        evidence["memory_limit"] = limit.describe()
        if limit.mib is None:
            # Only soft limits: memory may grow past the reservation (up to the instance's free memory),
            # so a peak near or above it is not under-provisioning.
            if usage.memory_max > 100:
                return warn(
                    f"memory peaked at {usage.memory_max:g}% of the soft reservation ({numbers}); {limit.describe()}, so this is "
                    "not under-provisioning, but ECS places tasks by the reservation: raise memoryReservation toward the peak"
                    f"{optimizer}",
                    evidence,
                )
        else:
            of_limit = usage.memory_max * limit.scale
            if of_limit > _UNDER_MEMORY_MAX:
                peak = f"{usage.memory_max:g}% of the reservation" + (f" ({of_limit:.4g}% of the hard limit)" if limit.scale != 1 else "")
                return fail(f"under-provisioned: memory peaked at {peak} ({numbers}){advice}{optimizer}", evidence)
            evidence["memory_max_percent_of_limit"] = round(of_limit, 1)
    if usage.cpu_p95 is None or usage.memory_p95 is None:
        missing = " and ".join(k for k, v in (("CPU", usage.cpu_p95), ("memory", usage.memory_p95)) if v is None)
        raise EvidenceMissing(f"Container Insights reports no {missing} reservation for the service, so its {missing} utilisation is unknown ({numbers})")
    if usage.cpu_p95 < _OVER_CPU_P95 and usage.memory_p95 < _OVER_MEMORY_P95:
        return warn(f"over-provisioned: {numbers}{advice}{optimizer}", evidence)
    return ok(f"the task size fits the load: {numbers}{optimizer}", evidence)


def _without_data(s: ServiceSubject, days: int, optimizer: str, optimizer_evidence: dict[str, object]) -> Verdict:
    """No datapoints: a service that ran no task has nothing to size; otherwise say why there are none."""
    service = s.service
    running = bool(service.running_count or service.pending_count or s.tasks)
    if service.desired_count == 0 and not running:
        return na("the service is parked (desiredCount 0) and has no utilisation data" + optimizer, optimizer_evidence)
    setting = container_insights(s.cluster, s.estate.account_setting("containerInsights"))
    evidence: dict[str, object] = {"container_insights": setting.value, "source": setting.source, **optimizer_evidence}
    cluster = s.cluster_name or "its cluster"
    if setting.is_on:
        if not running:
            return na(
                f"the service ran no task in the last {days} days (desiredCount {service.desired_count}, none running) "
                f"and Container Insights ({setting.value}) recorded nothing for it: there is no load to size for" + optimizer,
                evidence,
            )
        raise EvidenceMissing(
            f"no Container Insights data for the service over the last {days} days, although Container Insights is "
            f"{setting.value} for cluster {cluster} ({setting.source})" + optimizer
        )
    if setting.source == "AWS default":
        failed = s.estate.error_for("ecs:ListAccountSettings")
        if failed is not None:
            raise EvidenceMissing(
                f"no Container Insights data for the service over the last {days} days, and whether Container Insights is on "
                f"for cluster {cluster} is unknown: {failed.describe()}" + optimizer
            )
    raise EvidenceMissing(
        f"Container Insights is {setting.value} for cluster {cluster} ({setting.source}): ECS publishes no utilisation "
        f"metrics for the service, so its task size cannot be measured (OBSERVABILITY-001)" + optimizer
    )


@dataclass(frozen=True)
class _MemoryLimit:
    """The memory the task can never exceed (MiB), or None when only soft limits bound it, and the
    factor that turns a percentage of the reservation into one of that limit."""

    mib: int | None
    scale: float
    source: str

    def describe(self) -> str:
        return self.source if self.mib is None else f"{self.source}: {self.mib} MiB"


def _memory_limit(s: ServiceSubject, reserved: float | None) -> _MemoryLimit:
    """Task-level memory is a hard limit (Fargate, EC2 Linux; EC2 Windows ignores it). Without it, the
    containers' hard limits (memory) bound the task only if every container has one; memoryReservation
    alone is a soft limit a container may exceed:
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"""
    try:
        td = s.task_definition
        task_memory = _units(td.memory, _MEMORY_UNITS)
    except EvidenceMissing:
        return _MemoryLimit(None, 1.0, "the task's memory limits are unknown")
    windows_on_ec2 = s.launch_type != "FARGATE" and s.estate.os_of(td).is_windows
    if task_memory and not windows_on_ec2:
        return _MemoryLimit(task_memory, 1.0, "task-level memory")
    containers = td.container_definitions
    if containers and all(c.memory for c in containers):
        hard = sum(c.memory or 0 for c in containers)
        scale = (reserved / hard) if reserved and hard > reserved else 1.0
        return _MemoryLimit(hard, scale, "the containers' hard limits (memory)")
    soft = sorted(c.name or "?" for c in containers if not c.memory)
    return _MemoryLimit(None, 1.0, f"no hard memory limit bounds container{'s' if len(soft) != 1 else ''} {', '.join(soft)} (memoryReservation only)")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}%"


def _task_size(s: ServiceSubject) -> tuple[int, int] | None:
    """The task's CPU units and MiB: task-level size, else the containers' reservations; None if unknown."""
    try:
        td = s.task_definition
        cpu = _units(td.cpu, _CPU_UNITS)
        memory = _units(td.memory, _MEMORY_UNITS)
    except EvidenceMissing:
        return None
    cpu = cpu or sum(c.cpu or 0 for c in td.container_definitions)
    memory = memory or sum(_reserved_memory(c) for c in td.container_definitions)
    return (cpu, memory) if cpu and memory else None


def _size_advice(size: tuple[int, int] | None, suggestion: FargateSize | None) -> str:
    if size is None or suggestion is None:
        return "; no task size to base a suggestion on"
    if suggestion.capped:
        return f"; even the largest Fargate size ({suggestion}) leaves too little headroom"
    if (suggestion.cpu, suggestion.memory) == size:
        return "; it is already the smallest Fargate size that keeps headroom"
    current = f"{size[0]} CPU / {size[1]} MiB" + ("" if is_valid_fargate_size(*size) else ", not a Fargate size")
    return f"; suggested size {suggestion} instead of {current}"


def _compute_optimizer(s: ServiceSubject) -> tuple[str, dict[str, object]]:
    """Compute Optimizer's view beside ours: a phrase for the message and its evidence (Fargate only)."""
    if s.launch_type != "FARGATE":
        return "", {}
    arn = s.service.service_arn
    part = s.estate.inventory.compute_optimizer
    error = s.estate.error_for("compute-optimizer:GetECSServiceRecommendations", arn)
    if part is None or error is not None:
        reason = error.error_code if error else "not collected"
        return f"; Compute Optimizer could not be read ({reason})", {"compute_optimizer": f"not read: {reason}"}
    if part.status == NOT_OPTED_IN:
        return "; Compute Optimizer: the account is not opted in", {"compute_optimizer": NOT_OPTED_IN}
    recommendation = part.recommendation_for(arn)
    if recommendation is not None:
        options = [{"cpu": o.cpu, "memory": o.memory} for o in recommendation.service_recommendation_options]
        return "; " + recommendation.summary(), {"compute_optimizer": {"finding": recommendation.finding, "options": options}}
    why = part.unavailable.get(arn)
    return f"; Compute Optimizer has no recommendation{f' ({why})' if why else ''}", {"compute_optimizer": why or "no recommendation"}
