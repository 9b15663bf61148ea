"""Checks of the CICD area (see checks/cicd.yaml)."""

from __future__ import annotations

from ecs_audit.catalogue import Severity
from ecs_audit.estate import ServiceSubject, TaskDefSubject, name_from_arn
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.ecs import DeploymentConfiguration, FamilyHistory, Service
from ecs_audit.rules.registry import check

TRAFFIC_SHIFTING_STRATEGIES = frozenset({"BLUE_GREEN", "CANARY", "LINEAR"})


def _strategy(service: Service) -> str:
    """The ECS controller's deployment strategy; unset means ROLLING."""
    config = service.deployment_configuration
    return (config.strategy if config and config.strategy else None) or "ROLLING"


def _not_rolling(service: Service) -> str | None:
    """Why the service does not deploy by ECS rolling update, or None if it does."""
    if service.controller_type != "ECS":
        return f"{service.controller_type} deployment controller"
    strategy = _strategy(service)
    if strategy != "ROLLING":
        return f"{strategy} deployment strategy"
    return None


@check("CICD-001")
def circuit_breaker_with_rollback(s: ServiceSubject) -> Verdict:
    reason = _not_rolling(s.service)
    if reason:
        return na(f"not a rolling deployment: {reason}")
    config = s.service.deployment_configuration
    breaker = config.deployment_circuit_breaker if config else None
    enable, rollback = (breaker.enable, breaker.rollback) if breaker else (False, False)
    evidence = {"circuit_breaker_enable": enable, "circuit_breaker_rollback": rollback}
    if enable and rollback:
        return ok("the deployment circuit breaker is on and rolls back failed deployments", evidence)
    if enable:
        return fail("the deployment circuit breaker is on but does not roll back: a failed deployment stays failed", evidence)
    return fail("the deployment circuit breaker is off: a failing deployment retries forever", evidence)


@check("CICD-004")
def load_balanced_traffic_shifting(s: ServiceSubject) -> Verdict:
    service = s.service
    if not service.all_load_balancers:
        return na("the service has no load balancer")
    controller = service.controller_type
    evidence = {"deployment_controller": controller}
    if controller == "CODE_DEPLOY":
        return ok("CodeDeploy shifts traffic blue/green", evidence)
    if controller == "ECS":
        strategy = _strategy(service)
        evidence["strategy"] = strategy
        if strategy in TRAFFIC_SHIFTING_STRATEGIES:
            return ok(f"ECS deploys with the {strategy} strategy", evidence)
        return warn(
            f"the load-balanced service deploys with the {strategy} strategy, without a traffic-shifting test stage",
            evidence,
            severity=Severity.INFO,
        )
    return warn(
        f"the load-balanced service uses the {controller} controller; no traffic-shifting strategy is visible",
        evidence,
        severity=Severity.INFO,
    )


@check("CICD-005")
def rolling_keeps_full_capacity(s: ServiceSubject) -> Verdict:
    service = s.service
    reason = _not_rolling(service)
    if reason:
        return na(f"not a rolling deployment: {reason}")
    if service.scheduling_strategy == "DAEMON":
        return na("DAEMON service: tasks are replaced in place on each instance")
    minimum, maximum = _percentages(service.deployment_configuration)
    desired = service.desired_count
    evidence = {"minimum_healthy_percent": minimum, "maximum_percent": maximum, "desired_count": desired}
    if minimum == 0 and desired >= 1:
        return fail(f"minimumHealthyPercent is 0: a deployment may stop every running task at once (desiredCount {desired})", evidence)
    if minimum < 100:
        return warn(f"minimumHealthyPercent is {minimum}: deployments run below desired capacity", evidence)
    if maximum <= 100:
        return warn(
            f"maximumPercent is {maximum} with minimumHealthyPercent {minimum}: no room to start new tasks first",
            evidence,
        )
    return ok(f"deployments keep full capacity (minimumHealthyPercent {minimum}, maximumPercent {maximum})", evidence)


def _percentages(config: DeploymentConfiguration | None) -> tuple[int, int]:
    """minimumHealthyPercent and maximumPercent, with the API defaults for replica services (100, 200)."""
    minimum = config.minimum_healthy_percent if config and config.minimum_healthy_percent is not None else 100
    maximum = config.maximum_percent if config and config.maximum_percent is not None else 200
    return minimum, maximum


@check("CICD-007", needs=("ecs:ListTaskDefinitions",))
def runs_latest_revision(s: ServiceSubject) -> Verdict:
    reference = s.service.task_definition
    if not reference:
        if s.service.controller_type == "EXTERNAL":
            return na("EXTERNAL deployment controller: its task sets name the task definitions")
        raise EvidenceMissing("the service names no task definition")
    family, revision, history = _family_and_history(s, reference)
    latest = history.latest_active
    evidence = {"task_definition": f"{family}:{revision}", "latest_active_revision": latest}
    if latest is not None and latest > revision:
        return warn(f"the service runs {family}:{revision} but {family}:{latest} is registered and not deployed", evidence)
    return ok(f"the service runs {family}:{revision}; no newer ACTIVE revision is registered", evidence)


def _family_and_history(s: ServiceSubject, reference: str) -> tuple[str, int, FamilyHistory]:
    try:
        td = s.task_definition
    except EvidenceMissing:
        # The definition could not be read, but its ARN still names the family and revision.
        family, _, revision = name_from_arn(reference).rpartition(":")
        if not family or not revision.isdigit():
            raise
        history = s.estate.family(family)
        if history is None:
            raise EvidenceMissing(f"the revision history of family {family} was not collected") from None
        return family, int(revision), history
    return td.family, td.revision, s.estate.family_history(td)


@check("CICD-008")
def registered_by_automation(t: TaskDefSubject) -> Verdict:
    principal = t.task_definition.registered_by
    if not principal:
        raise EvidenceMissing("registeredBy not returned")
    evidence = {"registered_by": principal}
    if principal.endswith(":root"):
        return warn("the revision was registered by the account root user, not by automation", evidence)
    if ":user/" in principal:
        return warn(f"the revision was registered by an IAM user ({principal}), not by an assumed role", evidence)
    if ":assumed-role/" in principal or ":role/" in principal:
        return ok(f"the revision was registered by a role ({principal})", evidence)
    raise EvidenceMissing(f"registeredBy {principal} is not an IAM user, root or role ARN")
