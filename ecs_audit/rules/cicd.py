"""Checks of the CICD area (see checks/cicd.yaml)."""

from __future__ import annotations

from ecs_audit.catalogue import Severity
from ecs_audit.evaluation.subjects import ServiceSubject, TaskDefSubject
from ecs_audit.inventory.arns import family_arn, name_from_arn
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.codedeploy import CodeDeployInventory, DeploymentGroup
from ecs_audit.semantics.image_in_use import is_local_ecr, parse_or_none, referenced_id, repository_arn
from ecs_audit.inventory.ecr import EcrInventory
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


def _percentages(config: DeploymentConfiguration | None) -> tuple[int, int]:
    """minimumHealthyPercent and maximumPercent, with the API defaults for replica services (100, 200)."""
    minimum = config.minimum_healthy_percent if config and config.minimum_healthy_percent is not None else 100
    maximum = config.maximum_percent if config and config.maximum_percent is not None else 200
    return minimum, maximum


def _deployed_reference(s: ServiceSubject) -> str | Verdict:
    """The task definition the service names, or N/A for an EXTERNAL controller (its task sets name them)."""
    reference = s.service.task_definition
    if reference:
        return reference
    if s.service.controller_type == "EXTERNAL":
        return na("EXTERNAL deployment controller: its task sets name the task definitions")
    raise EvidenceMissing("the service names no task definition")


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


# --- CICD-002, CICD-003: CodeDeploy rollback and alarm-based rollback --------------------------


def _deployment_groups(s: ServiceSubject) -> list[DeploymentGroup]:
    """The CodeDeploy deployment groups (compute platform ECS) whose ecsServices name the service."""
    codedeploy: CodeDeployInventory = s.estate.require("codedeploy")
    if not codedeploy.read:
        raise EvidenceMissing("CodeDeploy deployment groups were not read")
    return codedeploy.groups_for(s.cluster_name or "", s.service.service_name)


def _missing_alarm_rollback(enabled: bool, rollback: bool, alarm_names: list[str]) -> str | None:
    """What is missing for alarm-based rollback, in a phrase; None if nothing."""
    missing = []
    if not alarm_names:
        missing.append("no alarm is attached")
    if not enabled:
        missing.append("alarm monitoring is off")
    if not rollback:
        missing.append("rollback on alarm is off")
    return ", ".join(missing) or None


def _revision_images(s: ServiceSubject, reference: str, family: str, revision: int, history: FamilyHistory) -> dict[str, str]:
    """Container name -> image of an older revision (from the family history, or the in-use definitions)."""
    for older in history.older_revisions:
        if older.revision == revision:
            return dict(older.images)
    try:
        td = s.estate.task_definition(f"{family}:{revision}")
    except EvidenceMissing:
        s.estate.raise_if_failed("ecs:DescribeTaskDefinition", family_arn(reference))
        raise EvidenceMissing(f"the rollback target {family}:{revision} was not read (revision history truncated)") from None
    return {c.name: c.image for c in td.container_definitions}


def _gone_images(s: ServiceSubject, images: dict[str, str]) -> tuple[list[str], list[str]]:
    """(images known to be deleted, images outside this registry that could not be checked)."""
    estate = s.estate
    gone: list[str] = []
    unverified: list[str] = []
    for image in sorted(set(images.values())):
        ref = parse_or_none(image)
        if ref is None or not is_local_ecr(ref, estate.account_id, estate.region):
            unverified.append(image)
            continue
        ecr: EcrInventory = estate.require("ecr")
        image_id = referenced_id(ref)
        if ecr.is_missing(ref.repository, tag=image_id.tag, digest=image_id.digest):
            gone.append(image_id.describe())
        elif ecr.find_image(ref.repository, tag=image_id.tag, digest=image_id.digest) is None:
            estate.raise_if_failed("ecr:DescribeImages", repository_arn(estate.partition, estate.region, estate.account_id, ref.repository))
            raise EvidenceMissing(f"the rollback image {image_id.describe()} was not described in ECR")
    return gone, unverified


# --- the checks, in id order ----------------------------------------------------------------------


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


@check("CICD-002")
def codedeploy_rolls_back(s: ServiceSubject) -> Verdict:
    controller = s.service.controller_type
    if controller != "CODE_DEPLOY":
        return na(f"{controller} deployment controller: CodeDeploy does not deploy the service")
    groups = _deployment_groups(s)
    if not groups:
        return fail(
            f"no CodeDeploy deployment group (compute platform ECS) targets {s.cluster_name}/{s.service.service_name}: "
            "nothing can deploy the service the intended way",
            {"deployment_groups": []},
        )
    problems = []
    evidence = {}
    for group in groups:
        rollback = group.auto_rollback_configuration
        enabled = bool(rollback and rollback.enabled)
        events = sorted(rollback.events) if rollback else []
        evidence[group.label] = {"auto_rollback_enabled": enabled, "auto_rollback_events": events}
        if not enabled:
            problems.append(f"{group.label} has automatic rollback off")
        elif "DEPLOYMENT_FAILURE" not in events:
            problems.append(f"{group.label} rolls back only on {', '.join(events) or 'no event'}, not on DEPLOYMENT_FAILURE")
    if problems:
        return fail("; ".join(problems) + ": a failed deployment is not rolled back", {"deployment_groups": evidence})
    names = ", ".join(g.label for g in groups)
    return ok(f"deployment group {names} rolls back automatically on DEPLOYMENT_FAILURE", {"deployment_groups": evidence})


@check("CICD-003")
def alarm_based_rollback(s: ServiceSubject) -> Verdict:
    service = s.service
    controller = service.controller_type
    if controller == "ECS":
        config = service.deployment_configuration
        alarms = config.alarms if config else None
        names = sorted(alarms.alarm_names) if alarms else []
        evidence = {"alarm_names": names, "enable": bool(alarms and alarms.enable), "rollback": bool(alarms and alarms.rollback)}
        missing = _missing_alarm_rollback(bool(alarms and alarms.enable), bool(alarms and alarms.rollback), names)
        if missing:
            return warn(f"deployment alarms do not roll back a bad release: {missing}", evidence)
        return ok(f"deployment alarms ({', '.join(names)}) roll back a failing deployment", evidence)
    if controller == "CODE_DEPLOY":
        groups = _deployment_groups(s)
        if not groups:
            return warn("no CodeDeploy deployment group targets the service, so no alarm rollback is configured (see CICD-002)", {"deployment_groups": []})
        problems = []
        evidence = {}
        for group in groups:
            alarm_config = group.alarm_configuration
            names = sorted(a.name for a in alarm_config.alarms) if alarm_config else []
            rollback = group.auto_rollback_configuration
            on_alarm = bool(rollback and rollback.enabled and "DEPLOYMENT_STOP_ON_ALARM" in rollback.events)
            evidence[group.label] = {"alarms_enabled": bool(alarm_config and alarm_config.enabled), "alarm_names": names, "rollback_on_alarm": on_alarm}
            missing = _missing_alarm_rollback(bool(alarm_config and alarm_config.enabled), on_alarm, names)
            if missing:
                problems.append(f"{group.label}: {missing}")
        if problems:
            return warn("CodeDeploy alarms do not roll back a bad release: " + "; ".join(problems), {"deployment_groups": evidence})
        return ok("CodeDeploy stops and rolls back deployments on alarm", {"deployment_groups": evidence})
    return na(f"{controller} deployment controller: deployments are driven outside ECS and CodeDeploy")


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


@check("CICD-006")
def rollback_target_exists(s: ServiceSubject) -> Verdict:
    reference = _deployed_reference(s)
    if isinstance(reference, Verdict):
        return reference
    family, revision, history = _family_and_history(s, reference)
    if revision == 1:
        return na(f"the service runs {family}:1: there is no earlier revision to roll back to")
    previous = max((r for r in history.active_revisions if r < revision), default=None)
    evidence: dict[str, object] = {"task_definition": f"{family}:{revision}", "previous_active_revision": previous}
    if previous is None:
        return fail(f"no earlier revision of {family} is ACTIVE: {family}:{revision} has nothing to roll back to", evidence)
    images = _revision_images(s, reference, family, previous, history)
    gone, unverified = _gone_images(s, images)
    evidence.update(previous_images=sorted(images.values()), gone_images=gone, unverified_images=unverified)
    if gone:
        return fail(f"the rollback target {family}:{previous} references images that no longer exist: {', '.join(gone)}", evidence)
    message = f"the rollback target {family}:{previous} is ACTIVE and its images exist"
    if unverified:
        message += f" (images outside this account's ECR in {s.estate.region} were not checked: {', '.join(unverified)})"
    return ok(message, evidence)


@check("CICD-007")
def runs_latest_revision(s: ServiceSubject) -> Verdict:
    reference = _deployed_reference(s)
    if isinstance(reference, Verdict):
        return reference
    family, revision, history = _family_and_history(s, reference)
    latest = history.latest_active
    evidence = {"task_definition": f"{family}:{revision}", "latest_active_revision": latest}
    if latest is not None and latest > revision:
        return warn(f"the service runs {family}:{revision} but {family}:{latest} is registered and not deployed", evidence)
    return ok(f"the service runs {family}:{revision}; no newer ACTIVE revision is registered", evidence)


def _identity_center_session(principal: str) -> tuple[str, str] | None:
    """(permission set, user) for an IAM Identity Center session or role (AWSReservedSSO_<set>_<hex>)."""
    marker = ":assumed-role/" if ":assumed-role/" in principal else ":role/" if ":role/" in principal else None
    if marker is None:
        return None
    path = principal.split(marker, 1)[1]
    parts = path.split("/")
    # Identity Center roles live under the path aws-reserved/sso.amazonaws.com/[region/].
    role_index = next((i for i, part in enumerate(parts) if part.startswith("AWSReservedSSO_")), None)
    if role_index is None:
        return None
    role = parts[role_index]
    permission_set = role.removeprefix("AWSReservedSSO_").rsplit("_", 1)[0] or role
    session = parts[role_index + 1] if marker == ":assumed-role/" and len(parts) > role_index + 1 else "unknown user"
    return permission_set, session


@check("CICD-008")
def registered_by_automation(t: TaskDefSubject) -> Verdict:
    if t.estate.knows_usage and not t.in_use:
        # A draft or a family that runs nowhere: who registered it matters once it is deployed.
        return na("the revision is not in use: who registered it is judged when it runs")
    principal = t.task_definition.registered_by
    if not principal:
        raise EvidenceMissing("registeredBy not returned")
    evidence = {"registered_by": principal}
    if principal.endswith(":root"):
        return warn("the revision was registered by the account root user, not by automation", evidence)
    if ":user/" in principal:
        return warn(f"the revision was registered by an IAM user ({principal}), not by an assumed role", evidence)
    sso = _identity_center_session(principal)
    if sso is not None:
        # IAM Identity Center users act through roles named AWSReservedSSO_<permission set>_<id>: a person.
        permission_set, person = sso
        evidence.update(registered_by_kind="person (IAM Identity Center session)", identity_center_permission_set=permission_set, identity_center_user=person)
        return warn(
            f"the revision was registered by a person (IAM Identity Center session {person}, permission set {permission_set}), not by automation",
            evidence,
        )
    if ":assumed-role/" in principal or ":role/" in principal:
        return ok(f"the revision was registered by a role ({principal})", evidence)
    raise EvidenceMissing(f"registeredBy {principal} is not an IAM user, root or role ARN")
