"""Amazon CloudWatch: alarms on the services' metrics and their Container Insights utilisation.

Cost per region with services: a paginated DescribeAlarms of metric alarms (100 a page; CloudWatch
cannot filter alarms by dimension, so the region's alarms are read and only those about the services'
ECS, Container Insights or load-balancer metrics are kept), and, only when some are kept, a paginated
DescribeAlarms of composite alarms. Then GetMetricData per 83 services (six queries each, 500 queries a
call) over the last 14 days at one-hour periods, following NextToken.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any


from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.cloudwatch import (
    CompositeAlarm,
    MetricAlarm,
    MonitoringInventory,
    ServiceUtilisation,
    index_alarms,
    load_balancer_dimensions,
)
from ecs_audit.inventory.ecs import Service
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("cloudwatch")
SERVICE = SOURCE.client
ALARM_PAGE_SIZE = 100  # DescribeAlarms MaxRecords (1..100)
MAX_QUERIES = 500  # GetMetricData MetricDataQueries per call
WINDOW = timedelta(days=14)
PERIOD = 3600
CONTAINER_INSIGHTS = "ECS/ContainerInsights"

# (query key, metric, statistic): what each service's utilisation is computed from.
QUERIES = (
    ("cu", "CpuUtilized", "Average"),
    ("cr", "CpuReserved", "Average"),
    ("mu", "MemoryUtilized", "Average"),
    ("mr", "MemoryReserved", "Average"),
    ("mx", "MemoryUtilized", "Maximum"),
    ("my", "MemoryReserved", "Maximum"),
)
SERVICES_PER_CALL = MAX_QUERIES // len(QUERIES)


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> MonitoringInventory | None:
    if region.ecs is None:
        return None
    services = sorted((s for s in region.ecs.services if s.status != "INACTIVE"), key=lambda s: s.service_arn)
    if not services:
        return MonitoringInventory()
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    batches = list(batched(services, SERVICES_PER_CALL)) if ctx.collects(SERVICE, "GetMetricData") else []
    # The alarms and every batch of metric data are independent: all in flight at once.
    (metric_alarms, composite_alarms), *per_batch = ctx.parallel(
        lambda step: step(),
        [lambda: _alarms(ctx, region, services), *(lambda b=batch: _utilisation(ctx, b, now - WINDOW, now) for batch in batches)],
    )
    utilisation = [u for found in per_batch for u in found]
    return MonitoringInventory(
        metric_alarms=metric_alarms,
        composite_alarms=composite_alarms,
        utilisation=utilisation,
        window_days=WINDOW.days,
        period_seconds=PERIOD,
    )


# --- alarms ----------------------------------------------------------------------------------


def _alarms(ctx: CollectContext, region: RegionInventory, services: list[Service]) -> tuple[list[MetricAlarm], list[CompositeAlarm]]:
    keys = []
    for service in services:
        target_groups, load_balancers = load_balancer_dimensions(service, region.elbv2)
        keys.append((service.cluster_arn.rsplit("/", 1)[-1], service.service_name, target_groups, load_balancers))
    items = ctx.paginate(
        SERVICE, "DescribeAlarms", "MetricAlarms", AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": ALARM_PAGE_SIZE}
    )
    alarms = [alarm for alarm in (validated(ctx, SERVICE, "DescribeAlarms", MetricAlarm, item, ()) for item in items or []) if alarm is not None]
    # Those with a metric about one of the services (metric_concerns_service), looked up by key: a
    # region's alarms times its services would be millions of comparisons in a large account.
    index = index_alarms(alarms)
    concerned: set[int] = set()
    for cluster_name, service_name, target_groups, load_balancers in keys:
        concerned.update(index.get(("service", cluster_name, service_name), ()))
        for value in target_groups:
            concerned.update(index.get(("target-group", value), ()))
        for value in load_balancers:
            concerned.update(index.get(("load-balancer", value), ()))
    kept = [alarms[position] for position in sorted(concerned)]
    if not kept:
        return [], []
    names = {a.alarm_name for a in kept}
    composites = ctx.paginate(
        SERVICE, "DescribeAlarms", "CompositeAlarms", AlarmTypes=["CompositeAlarm"], PaginationConfig={"PageSize": ALARM_PAGE_SIZE}
    )
    found = [c for c in (validated(ctx, SERVICE, "DescribeAlarms", CompositeAlarm, item, ()) for item in composites or []) if c is not None]
    return sorted(kept, key=lambda a: a.alarm_name), sorted((c for c in found if c.referenced_alarms & names), key=lambda c: c.alarm_name)


# --- utilisation -----------------------------------------------------------------------------


def _utilisation(ctx: CollectContext, services: list[Service], start: datetime, end: datetime) -> list[ServiceUtilisation]:
    queries = []
    for index, service in enumerate(services):
        dimensions = [
            {"Name": "ClusterName", "Value": service.cluster_arn.rsplit("/", 1)[-1]},
            {"Name": "ServiceName", "Value": service.service_name},
        ]
        for key, metric, stat in QUERIES:
            queries.append(
                {
                    "Id": f"s{index}_{key}",
                    "MetricStat": {
                        "Metric": {"Namespace": CONTAINER_INSIGHTS, "MetricName": metric, "Dimensions": dimensions},
                        "Period": PERIOD,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    arns = [s.service_arn for s in services]
    results = ctx.paginate(
        SERVICE,
        "GetMetricData",
        "MetricDataResults",
        resources=arns,
        MetricDataQueries=queries,
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    )
    if results is None:
        return []
    series: dict[str, dict[datetime, float]] = defaultdict(dict)
    failed: dict[int, str] = {}
    for result in results:
        query_id = str(result.get("Id", ""))
        status = result.get("StatusCode")
        if status in ("InternalError", "Forbidden"):
            failed.setdefault(_service_index(query_id), status)
            continue
        for timestamp, value in zip(result.get("Timestamps", []), result.get("Values", [])):
            series[query_id][timestamp] = float(value)
    out: list[ServiceUtilisation] = []
    for index, service in enumerate(services):
        if index in failed:
            ctx.record(SERVICE, "GetMetricData", f"MetricData:{failed[index]}", "a metric query was not answered", [service.service_arn])
            continue
        out.append(_summary(service.service_arn, {key: series.get(f"s{index}_{key}", {}) for key, _, _ in QUERIES}))
    return out


def _service_index(query_id: str) -> int:
    try:
        return int(query_id.split("_", 1)[0].removeprefix("s"))
    except ValueError:
        return -1


def _summary(service_arn: str, series: dict[str, dict[datetime, float]]) -> ServiceUtilisation:
    cpu = _ratios(series["cu"], series["cr"])
    memory = _ratios(series["mu"], series["mr"])
    memory_peaks = _ratios(series["mx"], series["my"])
    hours = len(set(cpu) | set(memory))
    if not hours:
        return ServiceUtilisation(service_arn=service_arn)
    return ServiceUtilisation(
        service_arn=service_arn,
        hours=hours,
        cpu_p95=_round(percentile(list(cpu.values()), 95)),
        cpu_max=_round(max(cpu.values(), default=None)),
        memory_p95=_round(percentile(list(memory.values()), 95)),
        memory_max=_round(max([*memory_peaks.values(), *memory.values()], default=None)),
        cpu_reserved=_round(median(series["cr"].values())) if series["cr"] else None,
        memory_reserved=_round(median(series["mr"].values())) if series["mr"] else None,
    )


def _ratios(used: dict[datetime, float], reserved: dict[datetime, float]) -> dict[datetime, float]:
    """used / reserved in percent, per timestamp both have (and with something reserved)."""
    return {t: 100.0 * used[t] / reserved[t] for t in used if reserved.get(t)}


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
