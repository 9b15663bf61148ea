"""Checks of the OBSERVABILITY area (see checks/observability.yaml)."""

from __future__ import annotations

from ecs_audit.evaluation.subjects import ClusterSubject, ContainerSubject, ServiceSubject, TaskDefSubject
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.cloudwatch import MonitoringInventory, load_balancer_dimensions
from ecs_audit.inventory.logs import awslogs_group, creates_group, log_group_arn, retention_on_create
from ecs_audit.rules.registry import check
from ecs_audit.semantics.container_insights import INSIGHTS_ON, container_insights

# OBSERVABILITY-003: how each log driver ECS accepts is graded.
#   ships logs off the host (PASS): awslogs, awsfirelens, splunk, fluentd, gelf, and syslog with a
#     tcp/udp syslog-address;
#   keeps logs on the host (WARN): json-file, local, journald, and syslog to the host's own syslog
#     (no syslog-address, or a unix socket);
#   no logs at all (FAIL): no logConfiguration, or the driver "none";
#   any other driver (WARN): not recognised, so not known to ship logs.
_SHIPPING_DRIVERS = frozenset({"awslogs", "awsfirelens", "splunk", "fluentd", "gelf"})
_HOST_LOCAL_DRIVERS = frozenset({"json-file", "local", "journald"})
_REMOTE_SYSLOG_SCHEMES = ("tcp://", "udp://", "tcp+tls://")

# OBSERVABILITY-005: image fragments (lower case) of telemetry collectors, and what to call them.
_COLLECTORS = (
    ("aws-otel-collector", "ADOT collector"),
    ("aws-xray-daemon", "X-Ray daemon"),
    ("cloudwatch-agent", "CloudWatch agent"),
    ("datadog/agent", "Datadog agent"),
    ("datadoghq/agent", "Datadog agent"),
    ("newrelic", "New Relic agent"),
    ("dynatrace", "Dynatrace agent"),
    ("splunk-otel-collector", "Splunk OpenTelemetry collector"),
    ("grafana/alloy", "Grafana Alloy"),
    ("otel/opentelemetry-collector", "OpenTelemetry collector"),
)

def _container_insights(c: ClusterSubject) -> tuple[str, str]:
    """The cluster's containerInsights value and where it came from (see semantics.container_insights)."""
    setting = container_insights(c.cluster, c.estate.account_setting("containerInsights"))
    return setting.value, setting.source


# --- the checks, in id order ----------------------------------------------------------------------


@check("OBSERVABILITY-001")
def container_insights_on(c: ClusterSubject) -> Verdict:
    value, source = _container_insights(c)
    evidence = {"container_insights": value, "source": source}
    if value in INSIGHTS_ON:
        return ok(f"Container Insights is {value} ({source})", evidence)
    return fail(f"Container Insights is {value} ({source})", evidence)


@check("OBSERVABILITY-002")
def container_insights_enhanced(c: ClusterSubject) -> Verdict:
    value, source = _container_insights(c)
    evidence = {"container_insights": value, "source": source}
    if value == "enhanced":
        return ok(f"Container Insights uses enhanced observability ({source})", evidence)
    if value == "enabled":
        return warn(f"Container Insights is enabled but not enhanced ({source})", evidence)
    return na("Container Insights is off (see OBSERVABILITY-001)", evidence)


@check("OBSERVABILITY-003")
def container_ships_logs(c: ContainerSubject) -> Verdict:
    config = c.container.log_configuration
    driver = config.log_driver if config else None
    if not driver:
        return fail("the container has no log configuration", {"log_driver": None})
    evidence = {"log_driver": driver}
    if driver == "none":
        return fail("the log driver is none: the container's logs are discarded", evidence)
    if driver in _SHIPPING_DRIVERS:
        return ok(f"logs are shipped with the {driver} driver", evidence)
    if driver == "syslog":
        address = config.options.get("syslog-address", "")
        evidence["syslog_address"] = address or None
        if address.startswith(_REMOTE_SYSLOG_SCHEMES):
            return ok("logs are shipped to a remote syslog server", evidence)
        return warn("the syslog driver writes to the host's syslog: logs stay on the instance", evidence)
    if driver in _HOST_LOCAL_DRIVERS:
        return warn(f"the {driver} driver keeps logs on the host: they are lost with the instance", evidence)
    return warn(f"the log driver {driver} is not one known to ship logs off the host", evidence)


@check("OBSERVABILITY-004")
def log_group_has_retention(c: ContainerSubject) -> Verdict:
    destination = awslogs_group(c.container, c.estate.region)
    if destination is None:
        config = c.container.log_configuration
        driver = config.log_driver if config else None
        if driver == "awslogs":
            return na("the awslogs driver names no awslogs-group")
        if driver == "awsfirelens":
            return na("the FireLens output does not write to a named CloudWatch Logs group")
        return na(f"the log driver is {driver}, not awslogs or FireLens to CloudWatch Logs" if driver else "no log configuration, so no log group")
    name, region = destination
    evidence: dict[str, object] = {"log_group": name, "region": region}
    if region != c.estate.region:
        raise EvidenceMissing(f"log group {name} is in {region}; only log groups in {c.estate.region} are read for this region")
    logs = c.estate.require("logs")
    estate = c.estate
    estate.raise_if_failed("logs:DescribeLogGroups", log_group_arn(name, estate.partition, estate.region, estate.account_id))
    group = logs.log_group(name)
    if group is None:
        if name not in logs.missing:
            raise EvidenceMissing(f"log group {name} is not in the inventory")
        evidence["exists"] = False
        if creates_group(c.container):
            evidence["creates_group"] = True
            retention = retention_on_create(c.container)
            if retention:
                evidence["log_retention_days"] = retention
                return ok(f"log group {name} does not exist yet; the FireLens output will create it keeping events for {retention} days", evidence)
            option = "awslogs-create-group" if c.container.log_configuration and c.container.log_configuration.log_driver == "awslogs" else "auto_create_group"
            return warn(f"log group {name} does not exist yet; {option} will create it without a retention period", evidence)
        return na(f"log group {name} does not exist (a broken reference: see RESILIENCE-010)", evidence)
    evidence["retention_in_days"] = group.retention_in_days
    if group.retention_in_days is None:
        return warn(f"log group {name} has no retention period: events are kept forever", evidence)
    return ok(f"log group {name} keeps events for {group.retention_in_days} days", evidence)


@check("OBSERVABILITY-005")
def telemetry_collector_present(t: TaskDefSubject) -> Verdict:
    found = {}
    for container in t.task_definition.container_definitions:
        image = container.image.lower()
        for fragment, label in _COLLECTORS:
            if fragment in image:
                found[container.name] = label
                break
    if found:
        listed = ", ".join(f"{label} (container {name})" for name, label in sorted(found.items()))
        return ok(f"a telemetry collector runs beside the app: {listed}", {"collectors": found})
    return warn("no telemetry collector (ADOT, X-Ray daemon, CloudWatch agent or vendor agent) runs in the task", {"collectors": {}})


@check("OBSERVABILITY-006")
def service_has_actionable_alarms(s: ServiceSubject) -> Verdict:
    monitoring: MonitoringInventory = s.estate.require("cloudwatch")
    elbv2 = s.estate.inventory.elbv2
    target_groups, load_balancers = load_balancer_dimensions(s.service, elbv2)
    alarms = [
        a
        for a in monitoring.alarms_for(s.cluster_name or "", s.service.service_name, target_groups, load_balancers)
        if not a.is_autoscaling_alarm
    ]
    actionable = sorted(a.alarm_name for a in alarms if a.notifying_actions)
    composites = sorted(c.alarm_name for c in monitoring.composites_over({a.alarm_name for a in alarms}) if c.notifying_actions)
    silent = sorted(a.alarm_name for a in alarms if not a.notifying_actions)
    evidence = {"alarms_with_actions": actionable, "composite_alarms_with_actions": composites, "alarms_without_actions": silent}
    if actionable or composites:
        names = [*actionable, *composites]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return ok(f"{len(names)} alarm{'s' if len(names) > 1 else ''} with actions watch{'' if len(names) > 1 else 'es'} the service ({shown})", evidence)
    if target_groups and elbv2 is None:
        raise EvidenceMissing("the service's load balancers were not collected, so alarms on them could not be matched")
    if silent:
        return warn(f"the service's alarms notify nobody (no actions, actions disabled, or only scaling actions): {', '.join(silent[:5])}", evidence)
    return warn(
        "no CloudWatch alarm with actions watches the service's ECS, Container Insights or load-balancer metrics "
        "(auto scaling's own alarms do not count)",
        evidence,
    )


@check("OBSERVABILITY-007")
def awslogs_non_blocking(c: ContainerSubject) -> Verdict:
    config = c.container.log_configuration
    driver = config.log_driver if config else None
    if driver != "awslogs":
        return na(f"the log driver is {driver}, not awslogs" if driver else "no log configuration, so no awslogs driver")
    mode = config.options.get("mode")
    if mode:
        source = "container option"
    else:
        setting = c.estate.account_setting("defaultLogDriverMode")
        # Without a container option or account setting, ECS's own default applies: non-blocking
        # since 25 June 2025 (ECS API Reference, LogConfiguration options and PutAccountSetting defaultLogDriverMode:
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html).
        mode, source = (setting.value, "account defaultLogDriverMode") if setting and setting.value else ("non-blocking", "the ECS default since June 2025: no mode option or account setting")
    mode = mode.lower()
    evidence = {"mode": mode, "source": source}
    if mode == "non-blocking":
        return ok(f"awslogs is non-blocking ({source})", evidence)
    return warn(f"awslogs is {mode} ({source}): the application stalls when CloudWatch Logs cannot keep up", evidence)
