"""Amazon CloudWatch: alarms on the services' ECS and load-balancer metrics, and Container Insights
utilisation of each service over the last 14 days.

DescribeAlarms shapes are PascalCase (`AlarmName`, `OKActions`, ...). Utilisation is our own summary
of GetMetricData's hourly series (the series themselves would make snapshots huge)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from pydantic import Field

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape
from ecs_audit.inventory.ecs import Service
from ecs_audit.inventory.elbv2 import LoadBalancingInventory

SERVICE_NAMESPACES = ("AWS/ECS", "ECS/ContainerInsights")
LOAD_BALANCER_NAMESPACE = "AWS/ApplicationELB"
ALARM_NAMESPACES = (*SERVICE_NAMESPACES, LOAD_BALANCER_NAMESPACE)
# Alarms that Application Auto Scaling creates for target-tracking policies.
AUTOSCALING_ALARM_PREFIX = "TargetTracking-"
_ALARM_REFERENCE = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(\"[^\"]+\"|'[^']+'|[^\s\"')]+)\s*\)")


class Dimension(PascalShape):
    name: str
    value: str


class Metric(PascalShape):
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: list[Dimension] = []

    @property
    def dimension_map(self) -> dict[str, str]:
        return {d.name: d.value for d in self.dimensions}


class MetricStat(PascalShape):
    metric: Metric | None = None


class MetricDataQuery(PascalShape):
    id: str | None = None
    metric_stat: MetricStat | None = None


class MetricAlarm(PascalShape):
    alarm_name: str
    alarm_arn: str | None = None
    actions_enabled: bool | None = None
    alarm_actions: list[str] = []
    ok_actions: list[str] = Field(default=[], alias="OKActions")
    insufficient_data_actions: list[str] = []
    state_value: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: list[Dimension] = []
    metrics: list[MetricDataQuery] = []

    @property
    def referenced_metrics(self) -> list[Metric]:
        """The metric of a single-metric alarm, or every metric of a metric-math alarm."""
        found = [Metric(namespace=self.namespace, metric_name=self.metric_name, dimensions=self.dimensions)] if self.namespace else []
        found += [q.metric_stat.metric for q in self.metrics if q.metric_stat and q.metric_stat.metric]
        return found

    @property
    def is_autoscaling_alarm(self) -> bool:
        return self.alarm_name.startswith(AUTOSCALING_ALARM_PREFIX)

    @property
    def notifying_actions(self) -> list[str]:
        return notifying_actions(self.actions_enabled, self.alarm_actions)


class CompositeAlarm(PascalShape):
    alarm_name: str
    alarm_arn: str | None = None
    actions_enabled: bool | None = None
    alarm_actions: list[str] = []
    alarm_rule: str | None = None

    @property
    def referenced_alarms(self) -> set[str]:
        names = set()
        for match in _ALARM_REFERENCE.findall(self.alarm_rule or ""):
            name = match.strip("\"'")
            names.add(name.rsplit(":alarm:", 1)[-1])  # the rule may name an alarm by ARN
        return names

    @property
    def notifying_actions(self) -> list[str]:
        return notifying_actions(self.actions_enabled, self.alarm_actions)


def notifying_actions(actions_enabled: bool | None, actions: Iterable[str]) -> list[str]:
    """Alarm actions that reach someone: not the scaling policies an alarm may drive."""
    if actions_enabled is False:
        return []
    return [a for a in actions if ":autoscaling:" not in a]


def target_group_dimension(target_group_arn: str) -> str:
    """The AWS/ApplicationELB TargetGroup dimension value: targetgroup/<name>/<id>."""
    return target_group_arn.split(":", 5)[-1]


def load_balancer_dimension(load_balancer_arn: str) -> str:
    """The AWS/ApplicationELB LoadBalancer dimension value: app/<name>/<id>."""
    return load_balancer_arn.split(":", 5)[-1].removeprefix("loadbalancer/")


def load_balancer_dimensions(service: Service, elbv2: LoadBalancingInventory | None) -> tuple[set[str], set[str]]:
    """The service's target groups and, where the load-balancing inventory has them, their load
    balancers, as AWS/ApplicationELB dimension values."""
    arns = {lb.target_group_arn for lb in service.all_load_balancers if lb.target_group_arn}
    balancers: set[str] = set()
    for target_group in elbv2.target_groups if elbv2 else []:
        if target_group.target_group_arn in arns:
            balancers.update(load_balancer_dimension(arn) for arn in target_group.load_balancer_arns)
    return {target_group_dimension(arn) for arn in arns}, balancers


def metric_concerns_service(
    metric: Metric, cluster_name: str, service_name: str, target_groups: set[str], load_balancers: set[str]
) -> bool:
    """Whether a metric is about the service: its ClusterName+ServiceName in AWS/ECS or Container
    Insights, or its target group (or, for load-balancer-wide metrics, its load balancer) in AWS/ApplicationELB.
    `target_groups` and `load_balancers` are dimension values."""
    dims = metric.dimension_map
    if metric.namespace in SERVICE_NAMESPACES:
        return dims.get("ClusterName") == cluster_name and dims.get("ServiceName") == service_name
    if metric.namespace == LOAD_BALANCER_NAMESPACE:
        if "TargetGroup" in dims:
            return dims["TargetGroup"] in target_groups
        return dims.get("LoadBalancer") in load_balancers
    return False


class ServiceUtilisation(Record):
    """Container Insights utilisation of one service, from hourly datapoints (CpuUtilized/CpuReserved,
    MemoryUtilized/MemoryReserved by ClusterName+ServiceName). Percentages of the reservation; None
    without data. CPU: p95 and maximum of the hourly averages. Memory: p95 of the hourly averages,
    maximum of the hourly peaks (Maximum MemoryUtilized over Maximum MemoryReserved)."""

    service_arn: str
    hours: int = 0
    cpu_p95: float | None = None
    cpu_max: float | None = None
    memory_p95: float | None = None
    memory_max: float | None = None
    cpu_reserved: float | None = None  # CPU units reserved by the service's tasks (hourly average, median)
    memory_reserved: float | None = None  # MiB reserved by the service's tasks (hourly average, median)


class MonitoringInventory(Record):
    """Alarms on the region's services' metrics (others are not kept) and their utilisation."""

    metric_alarms: list[MetricAlarm] = []
    # Composite alarms whose rule names one of the metric alarms above.
    composite_alarms: list[CompositeAlarm] = []
    utilisation: list[ServiceUtilisation] = []
    window_days: int = 14
    period_seconds: int = 3600

    def utilisation_of(self, service_arn: str) -> ServiceUtilisation | None:
        return self._utilisation_by_service.get(service_arn)

    @cached_property
    def _utilisation_by_service(self) -> dict[str, ServiceUtilisation]:
        """The first figures of each service (every service is looked up, by several checks)."""
        index: dict[str, ServiceUtilisation] = {}
        for item in self.utilisation:
            index.setdefault(item.service_arn, item)
        return index

    def alarms_for(
        self, cluster_name: str, service_name: str, target_groups: set[str], load_balancers: set[str]
    ) -> list[MetricAlarm]:
        """The alarms with a metric that concerns the service (metric_concerns_service), in order."""
        index = self.alarm_index
        hits = set(index.get(("service", cluster_name, service_name), ()))
        for value in target_groups:
            hits.update(index.get(("target-group", value), ()))
        for value in load_balancers:
            hits.update(index.get(("load-balancer", value), ()))
        return [self.metric_alarms[i] for i in sorted(hits)]

    @property
    def alarm_index(self) -> dict[tuple[str, ...], set[int]]:
        """Positions of the alarms by what their metrics are about, the keys metric_concerns_service
        compares: a region's services each look up their alarms without a pass over all of them.
        Built once per alarm list (kept beside the fields, which serialization and equality ignore;
        a copy with other alarms builds its own)."""
        cached = self.__dict__.get("_alarm_index")
        if cached is None or cached[0] is not self.metric_alarms:
            cached = (self.metric_alarms, index_alarms(self.metric_alarms))
            self.__dict__["_alarm_index"] = cached
        return cached[1]

    def composites_over(self, alarm_names: set[str]) -> list[CompositeAlarm]:
        return [c for c in self.composite_alarms if c.referenced_alarms & alarm_names]


def index_alarms(alarms: list[MetricAlarm]) -> dict[tuple[str, ...], set[int]]:
    """Positions of `alarms` by what their metrics are about: ("service", cluster, service),
    ("target-group", dimension value) or ("load-balancer", dimension value), the keys
    metric_concerns_service compares."""
    index: dict[tuple[str, ...], set[int]] = {}
    for position, alarm in enumerate(alarms):
        for metric in alarm.referenced_metrics:
            dims = metric.dimension_map
            if metric.namespace in SERVICE_NAMESPACES:
                key: tuple[str, ...] | None = ("service", dims.get("ClusterName", ""), dims.get("ServiceName", ""))
            elif metric.namespace == LOAD_BALANCER_NAMESPACE:
                key = ("target-group", dims["TargetGroup"]) if "TargetGroup" in dims else ("load-balancer", dims.get("LoadBalancer", ""))
            else:
                key = None
            if key is not None:
                index.setdefault(key, set()).add(position)
    return index
