"""The alarm index (MonitoringInventory.alarms_for, the CloudWatch collector's filter) finds exactly the
alarms metric_concerns_service would, without comparing every alarm with every service."""

from __future__ import annotations

import itertools

from ecs_audit.inventory.cloudwatch import MetricAlarm, MonitoringInventory, metric_concerns_service

NAMESPACES = ("AWS/ECS", "ECS/ContainerInsights", "AWS/ApplicationELB", "AWS/EC2")
DIMENSION_SETS = (
    {"ClusterName": "c1", "ServiceName": "web"},
    {"ClusterName": "c1", "ServiceName": "api"},
    {"ClusterName": "c2", "ServiceName": "web"},
    {"ServiceName": "web"},
    {"TargetGroup": "targetgroup/web/1"},
    {"TargetGroup": "targetgroup/web/1", "LoadBalancer": "app/front/9"},
    {"LoadBalancer": "app/front/9"},
    {"LoadBalancer": "app/back/7"},
    {},
)


def _alarms() -> list[MetricAlarm]:
    alarms = []
    for index, (namespace, dims) in enumerate(itertools.product(NAMESPACES, DIMENSION_SETS)):
        alarms.append(
            MetricAlarm(
                AlarmName=f"a{index:02d}",
                Namespace=namespace,
                MetricName="M",
                Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            )
        )
    # a metric-math alarm: one of its metrics concerns c2/api
    alarms.append(
        MetricAlarm.model_validate(
            {
                "AlarmName": "math",
                "Metrics": [
                    {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "AWS/EC2", "MetricName": "X", "Dimensions": []}}},
                    {"Id": "m2", "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "Y", "Dimensions": [
                        {"Name": "ClusterName", "Value": "c2"}, {"Name": "ServiceName", "Value": "api"}]}}},
                ],
            }
        )
    )
    return alarms


SERVICES = [
    ("c1", "web", {"targetgroup/web/1"}, {"app/front/9"}),
    ("c1", "api", set(), set()),
    ("c2", "web", set(), {"app/back/7"}),
    ("c2", "api", set(), set()),
    ("c3", "none", {"targetgroup/other/2"}, set()),
]


def test_the_index_finds_what_the_definition_finds():
    inventory = MonitoringInventory(metric_alarms=_alarms())
    for cluster, service, target_groups, load_balancers in SERVICES:
        expected = [
            a.alarm_name
            for a in inventory.metric_alarms
            if any(metric_concerns_service(m, cluster, service, target_groups, load_balancers) for m in a.referenced_metrics)
        ]
        found = [a.alarm_name for a in inventory.alarms_for(cluster, service, target_groups, load_balancers)]
        assert found == expected, (cluster, service)
    assert [a.alarm_name for a in inventory.alarms_for("c2", "api", set(), set())][-1] == "math"


def test_a_copy_with_other_alarms_does_not_reuse_the_index():
    inventory = MonitoringInventory(metric_alarms=_alarms())
    assert inventory.alarms_for("c1", "web", set(), set())
    emptied = inventory.model_copy(update={"metric_alarms": []})
    assert emptied.alarms_for("c1", "web", set(), set()) == []
    assert emptied == MonitoringInventory() and "_alarm_index" not in emptied.model_dump_json()
