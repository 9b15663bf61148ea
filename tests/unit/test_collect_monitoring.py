"""The GuardDuty, Application Auto Scaling, CodeDeploy, Compute Optimizer and CloudWatch collectors
against a fake API that enforces the documented limits and paginates: targeted calls only, each
resource once, batches at the API limits, failures recorded against the resources they concern."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_audit.collect import autoscaling as autoscaling_collector
from ecs_audit.collect import cloudwatch as cloudwatch_collector
from ecs_audit.collect import codedeploy as codedeploy_collector
from ecs_audit.collect import compute_optimizer as optimizer_collector
from ecs_audit.collect import guardduty as guardduty_collector
from ecs_audit.collect.base import CollectContext
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.compute_optimizer import NOT_ASKED, NOT_OPTED_IN, OPTED_IN
from ecs_audit.inventory.ecs import EcsInventory
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.session import ClientFactory
from tests.support.estate import build_ecs
from tests.support.fake_api import ApiFault, FakeApi, page

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"
DENIED = ApiFault("AccessDeniedException", "User is not authorized to perform this operation", 403)


def _region(services: list[dict[str, Any]], **extra: Any) -> RegionInventory:
    return RegionInventory(account_id=ACCOUNT, region=REGION, ecs=build_ecs({"services": services, **extra}))


def _context(api: FakeApi) -> CollectContext:
    return CollectContext(ClientFactory(api.session(REGION), ALLOWED_ACTIONS), ACCOUNT, REGION, max_workers=8)


def _services(count: int, cluster: str = "c1", **fields: Any) -> list[dict[str, Any]]:
    return [{"serviceName": f"s{i:03d}", "cluster": cluster, "desiredCount": 2, **fields} for i in range(count)]


def pascal_page(items: list[Any], params: dict[str, Any], key: str, size_key: str, default_size: int, max_size: int) -> dict[str, Any]:
    """Paginate as the PascalCase APIs do (MaxResults/MaxRecords and NextToken)."""
    size = params.get(size_key, default_size)
    assert 1 <= size <= max_size, f"{size_key} {size} outside 1..{max_size}"
    start = int(params.get("NextToken", "0"))
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


# --- GuardDuty ---------------------------------------------------------------------------------


def _detector(runtime: str = "ENABLED") -> dict[str, Any]:
    return {
        "Status": "ENABLED",
        "Features": [
            {"Name": "RUNTIME_MONITORING", "Status": runtime, "AdditionalConfiguration": [{"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"}]}
        ],
    }


def _guardduty(api: FakeApi, *, runtime: str = "ENABLED", clusters: int = 120, findings: int = 0) -> None:
    coverage = [
        {
            "ResourceId": f"c{i}",
            "CoverageStatus": "HEALTHY",
            "ResourceDetails": {"ResourceType": "ECS", "EcsClusterDetails": {"ClusterName": f"c{i}"}},
        }
        for i in range(clusters)
    ]

    def list_coverage(p: dict[str, Any]) -> dict[str, Any]:
        assert p["DetectorId"] == "d1"
        assert p["FilterCriteria"] == {"FilterCriterion": [{"CriterionKey": "RESOURCE_TYPE", "FilterCondition": {"Equals": ["ECS"]}}]}
        return pascal_page(coverage, p, "Resources", "MaxResults", 50, 50)

    finding_ids = [f"f{i:03d}" for i in range(findings)]

    def list_findings(p: dict[str, Any]) -> dict[str, Any]:
        criterion = p["FindingCriteria"]["Criterion"]
        assert criterion["resource.resourceType"] == {"Equals": ["ECSCluster", "Container"]}
        assert criterion["service.archived"] == {"Equals": ["false"]}
        return pascal_page(finding_ids, p, "FindingIds", "MaxResults", 50, 50)

    def get_findings(p: dict[str, Any]) -> dict[str, Any]:
        assert len(p["FindingIds"]) <= 50
        return {
            "Findings": [
                {"Id": i, "Type": "Execution:Runtime/ReverseShell", "Severity": 8.0, "Region": REGION, "Resource": {"ResourceType": "ECSCluster"}, "Service": {"Archived": False}}
                for i in p["FindingIds"]
            ]
        }

    api.on("guardduty.ListDetectors", lambda p: pascal_page(["d1"], p, "DetectorIds", "MaxResults", 50, 50))
    api.on("guardduty.GetDetector", lambda p: _detector(runtime))
    api.on("guardduty.ListCoverage", list_coverage)
    api.on("guardduty.ListFindings", list_findings)
    api.on("guardduty.GetFindings", get_findings)


def test_guardduty_reads_the_detector_once_and_pages_ecs_coverage_50_at_a_time():
    api = FakeApi()
    _guardduty(api)
    ctx = _context(api)
    part = guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1)))
    assert part is not None and ctx.errors == []
    assert api.calls == {"guardduty.ListDetectors": 1, "guardduty.GetDetector": 1, "guardduty.ListCoverage": 3, "guardduty.ListFindings": 1}
    assert part.detector is not None and part.detector.detector_id == "d1" and part.detector.runtime_monitoring_on
    assert len(part.coverage or []) == 120 and part.coverage_for("c7")[0].coverage_status == "HEALTHY"


def test_guardduty_findings_are_listed_50_a_page_and_read_50_at_a_time():
    api = FakeApi()
    _guardduty(api, findings=75)
    ctx = _context(api)
    part = guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1)))
    assert part is not None and ctx.errors == []
    assert api.calls["guardduty.ListFindings"] == 2 and api.calls["guardduty.GetFindings"] == 2
    assert len(part.findings or []) == 75 and part.findings[0].severity == 8.0


def test_a_denied_list_findings_is_recorded_and_findings_stay_unread():
    api = FakeApi()
    _guardduty(api)
    api.on("guardduty.ListFindings", lambda p: (_ for _ in ()).throw(DENIED))
    ctx = _context(api)
    part = guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1)))
    assert part is not None and part.findings is None and part.detector is not None
    assert [e.action for e in ctx.errors] == ["guardduty:ListFindings"]


def test_guardduty_coverage_is_not_read_when_runtime_monitoring_is_off():
    api = FakeApi()
    _guardduty(api, runtime="DISABLED")
    part = guardduty_collector.collect(_context(api), AuditConfig(), _region(_services(1)))
    assert part is not None and part.coverage is None
    assert "guardduty.ListCoverage" not in api.calls


def test_guardduty_is_not_called_in_a_region_without_clusters():
    # The region's graph (collect/runner.py) runs GuardDuty only once ListClusters has named clusters.
    from ecs_audit.collect.runner import collect_region

    api = FakeApi()
    api.on("ecs.ListClusters", lambda p: {"clusterArns": []})
    clients = ClientFactory(api.session(REGION), ALLOWED_ACTIONS)
    region = collect_region(clients, ACCOUNT, REGION, AuditConfig(), partition="aws")
    assert region.guardduty is None and region.ecs == EcsInventory()
    assert dict(api.calls) == {"ecs.ListClusters": 1}


def test_a_denied_list_detectors_leaves_guardduty_uncollected_with_the_failure_recorded():
    api = FakeApi()
    api.on("guardduty.ListDetectors", lambda p: (_ for _ in ()).throw(DENIED))
    ctx = _context(api)
    assert guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1))) is None
    assert [(e.action, e.error_code, e.resources) for e in ctx.errors] == [("guardduty:ListDetectors", "AccessDeniedException", [])]


def test_a_denied_list_coverage_is_recorded_region_wide_and_the_detector_is_kept():
    api = FakeApi()
    _guardduty(api)
    api.on("guardduty.ListCoverage", lambda p: (_ for _ in ()).throw(DENIED))
    ctx = _context(api)
    part = guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1)))
    assert part is not None and part.coverage is None and part.detector is not None
    assert [(e.action, e.resources) for e in ctx.errors] == [("guardduty:ListCoverage", [])]


def test_a_denied_get_detector_never_reads_as_guardduty_off():
    api = FakeApi()
    _guardduty(api)
    api.on("guardduty.GetDetector", lambda p: (_ for _ in ()).throw(DENIED))
    ctx = _context(api)
    assert guardduty_collector.collect(ctx, AuditConfig(), _region(_services(1))) is None
    assert [e.action for e in ctx.errors] == ["guardduty:GetDetector"]


# --- Application Auto Scaling -----------------------------------------------------------------


class FakeScaling:
    """The region's ecs namespace: targets of `scaled` resource ids, and also of services not audited."""

    def __init__(self, scaled: set[str], policies_per_target: int = 1, unaudited: int = 0):
        self.scaled = scaled
        self.policies_per_target = policies_per_target
        self.others = {f"service/other/x{i:03d}" for i in range(unaudited)}
        self.denied = False

    def install(self, api: FakeApi) -> None:
        api.on("application-autoscaling.DescribeScalableTargets", self.targets)
        api.on("application-autoscaling.DescribeScalingPolicies", self.policies)

    def targets(self, p: dict[str, Any]) -> dict[str, Any]:
        assert p["ServiceNamespace"] == "ecs" and p["ScalableDimension"] == "ecs:service:DesiredCount"
        if self.denied:
            raise DENIED
        found = [
            {"ServiceNamespace": "ecs", "ResourceId": r, "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 2, "MaxCapacity": 8}
            for r in sorted(self.scaled | self.others)
        ]
        return pascal_page(found, p, "ScalableTargets", "MaxResults", 50, 50)

    def policies(self, p: dict[str, Any]) -> dict[str, Any]:
        assert p["ServiceNamespace"] == "ecs" and "ResourceId" not in p
        items = [
            {
                "PolicyName": f"p{i}",
                "PolicyARN": f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:x:resource/ecs/{resource}:policyName/p{i}",
                "ServiceNamespace": "ecs",
                "ResourceId": resource,
                "ScalableDimension": "ecs:service:DesiredCount",
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": 60.0,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                },
            }
            for resource in sorted(self.scaled | self.others)
            for i in range(self.policies_per_target)
        ]
        return pascal_page(items, p, "ScalingPolicies", "MaxResults", 10, 10)


def test_scaling_is_read_for_the_whole_namespace_in_pages_and_kept_for_the_audited_services():
    services = _services(120) + [{"serviceName": "daemon", "cluster": "c1", "schedulingStrategy": "DAEMON"}]
    scaled = {f"service/c1/s{i:03d}" for i in range(0, 120, 4)}  # 30 services
    fake = FakeScaling(scaled, policies_per_target=3, unaudited=5)
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    part = autoscaling_collector.collect(ctx, AuditConfig(), _region(services))
    assert ctx.errors == [] and part is not None
    assert api.calls["application-autoscaling.DescribeScalableTargets"] == 1  # 35 targets: one page of 50
    assert api.calls["application-autoscaling.DescribeScalingPolicies"] == 11  # 105 policies: 10 a page
    assert len(part.scalable_targets) == 30 and len(part.policies) == 30 * 3
    target = part.target_for(f"{PREFIX}cluster/c1", "s004")
    assert target is not None and target.min_capacity == 2
    assert part.target_for(f"{PREFIX}cluster/c1", "s001") is None
    assert [p.policy_name for p in part.policies_for(f"{PREFIX}cluster/c1", "s004")] == ["p0", "p1", "p2"]


def test_scaling_costs_nothing_without_replica_services_and_no_policy_call_without_targets():
    api = FakeApi()
    FakeScaling(set()).install(api)
    ctx = _context(api)
    daemon = [{"serviceName": "daemon", "cluster": "c1", "schedulingStrategy": "DAEMON"}]
    assert autoscaling_collector.collect(ctx, AuditConfig(), _region(daemon)) is not None
    assert sum(api.calls.values()) == 0
    part = autoscaling_collector.collect(ctx, AuditConfig(), _region(_services(3)))
    assert part is not None and part.scalable_targets == [] and dict(api.calls) == {"application-autoscaling.DescribeScalableTargets": 1}


def test_a_denied_target_listing_is_recorded_against_every_replica_service():
    fake = FakeScaling({"service/c1/s000"})
    fake.denied = True
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    services = _services(70) + [{"serviceName": "daemon", "cluster": "c1", "schedulingStrategy": "DAEMON"}]
    part = autoscaling_collector.collect(ctx, AuditConfig(), _region(services))
    assert part is not None and part.scalable_targets == []
    (error,) = ctx.errors
    assert error.action == "application-autoscaling:DescribeScalableTargets"
    assert error.resources == sorted(f"{PREFIX}service/c1/s{i:03d}" for i in range(70))


# --- CodeDeploy ---------------------------------------------------------------------------------


class FakeCodeDeploy:
    def __init__(self) -> None:
        self.applications = [f"app-{i:03d}" for i in range(150)]
        self.ecs_apps = {"app-001": 120, "app-050": 2, "app-140": 1}  # ECS application -> number of groups
        self.deleted: set[str] = set()

    def install(self, api: FakeApi) -> None:
        api.on("codedeploy.ListApplications", lambda p: page(self.applications, p, "applications", 100, 100))
        api.on("codedeploy.BatchGetApplications", self.batch_get_applications)
        api.on("codedeploy.ListDeploymentGroups", self.list_groups)
        api.on("codedeploy.BatchGetDeploymentGroups", self.batch_get_groups)

    def batch_get_applications(self, p: dict[str, Any]) -> dict[str, Any]:
        names = p["applicationNames"]
        if len(names) > 100:
            raise ApiFault("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (100) was exceeded.")
        return {
            "applicationsInfo": [
                {"applicationName": n, "computePlatform": "ECS" if n in self.ecs_apps else "Server"} for n in names
            ]
        }

    def list_groups(self, p: dict[str, Any]) -> dict[str, Any]:
        app = p["applicationName"]
        assert app in self.ecs_apps, f"groups of non-ECS application {app} were listed"
        return page([f"{app}-dg{i:03d}" for i in range(self.ecs_apps[app])], p, "deploymentGroups", 100, 100)

    def batch_get_groups(self, p: dict[str, Any]) -> dict[str, Any]:
        names = p["deploymentGroupNames"]
        if len(names) > 100:
            raise ApiFault("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (100) was exceeded.")
        infos = [
            {
                "applicationName": p["applicationName"],
                "deploymentGroupName": n,
                "computePlatform": "ECS",
                "ecsServices": [{"serviceName": "bg", "clusterName": "c1"}] if n == "app-050-dg001" else [],
                "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
                "alarmConfiguration": {"enabled": False, "alarms": []},
            }
            for n in names
            if n not in self.deleted
        ]
        out: dict[str, Any] = {"deploymentGroupsInfo": infos}
        if len(infos) < len(names):
            out["errorMessage"] = "Deployment group does not exist"
        return out


def test_codedeploy_is_not_called_without_code_deploy_services():
    api = FakeApi()
    part = codedeploy_collector.collect(_context(api), AuditConfig(), _region(_services(3)))
    assert part is not None and not part.read
    assert sum(api.calls.values()) == 0


def test_codedeploy_reads_only_ecs_applications_in_batches_of_100():
    fake = FakeCodeDeploy()
    fake.deleted = {"app-001-dg007"}
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    services = [{"serviceName": "bg", "cluster": "c1", "deploymentController": {"type": "CODE_DEPLOY"}}, *_services(2)]
    part = codedeploy_collector.collect(ctx, AuditConfig(), _region(services))
    assert ctx.errors == [] and part is not None and part.read
    assert api.calls["codedeploy.ListApplications"] == 2
    assert api.calls["codedeploy.BatchGetApplications"] == 2  # 100 + 50
    assert api.calls["codedeploy.ListDeploymentGroups"] == 2 + 1 + 1  # app-001 has two pages
    assert api.calls["codedeploy.BatchGetDeploymentGroups"] == 2 + 1 + 1  # 120 groups: 100 + 20
    assert part.ecs_applications == ["app-001", "app-050", "app-140"]
    assert len(part.deployment_groups) == 120 - 1 + 2 + 1
    assert part.missing_deployment_groups == ["app-001/app-001-dg007"]
    assert [g.label for g in part.groups_for("c1", "bg")] == ["app-050/app-050-dg001"]


def test_a_denied_codedeploy_call_is_recorded_against_every_code_deploy_service():
    fake = FakeCodeDeploy()
    api = FakeApi()
    fake.install(api)
    api.on("codedeploy.BatchGetDeploymentGroups", lambda p: (_ for _ in ()).throw(DENIED))
    ctx = _context(api)
    services = [
        {"serviceName": "bg", "cluster": "c1", "deploymentController": {"type": "CODE_DEPLOY"}},
        {"serviceName": "bg2", "cluster": "c2", "deploymentController": {"type": "CODE_DEPLOY"}},
        {"serviceName": "rolling", "cluster": "c1"},
    ]
    codedeploy_collector.collect(ctx, AuditConfig(), _region(services))
    assert ctx.errors and {e.action for e in ctx.errors} == {"codedeploy:BatchGetDeploymentGroups"}
    assert all(e.resources == [f"{PREFIX}service/c1/bg", f"{PREFIX}service/c2/bg2"] for e in ctx.errors)


# --- Compute Optimizer -------------------------------------------------------------------------


def _recommendations(api: FakeApi, *, fault: ApiFault | None = None) -> None:
    def handler(p: dict[str, Any]) -> dict[str, Any]:
        if fault is not None:
            raise fault
        arns = p["serviceArns"]
        assert len(arns) <= 100
        recommendations = [
            {
                "serviceArn": arn,
                "finding": "Overprovisioned",
                "currentServiceConfiguration": {"cpu": 1024, "memory": 2048},
                "serviceRecommendationOptions": [{"cpu": 512, "memory": 1024}],
            }
            for arn in arns
            if not arn.endswith("s000")
        ]
        errors = [{"identifier": arn, "code": "InsufficientData", "message": "not enough data"} for arn in arns if arn.endswith("s000")]
        # Answer in pages of at most 60 to exercise nextToken.
        start = int(p.get("nextToken", "0"))
        out: dict[str, Any] = {"ecsServiceRecommendations": recommendations[start : start + 60], "errors": errors if start == 0 else []}
        if start + 60 < len(recommendations):
            out["nextToken"] = str(start + 60)
        return out

    api.on("compute-optimizer.GetECSServiceRecommendations", handler)


def test_compute_optimizer_is_asked_about_fargate_services_only_100_at_a_time():
    api = FakeApi()
    _recommendations(api)
    ctx = _context(api)
    services = _services(150, launchType="FARGATE") + _services(5, cluster="ec2", launchType="EC2")
    part = optimizer_collector.collect(ctx, AuditConfig(), _region(services))
    assert ctx.errors == [] and part is not None and part.status == OPTED_IN
    batches = [p["serviceArns"] for key, p in api.requests if "nextToken" not in p]
    assert [len(b) for b in batches] == [100, 50]
    assert all(":service/c1/" in arn for batch in batches for arn in batch)
    assert api.calls["compute-optimizer.GetECSServiceRecommendations"] == 3  # the batch of 100 has two pages
    assert len(part.recommendations) == 149
    assert part.unavailable == {f"{PREFIX}service/c1/s000": "InsufficientData: not enough data"}


def test_an_account_not_opted_in_is_a_state_not_a_failure():
    api = FakeApi()
    _recommendations(api, fault=ApiFault("OptInRequiredException", "The account is not opted in to AWS Compute Optimizer.", 403))
    ctx = _context(api)
    part = optimizer_collector.collect(ctx, AuditConfig(), _region(_services(150, launchType="FARGATE")))
    assert part is not None and part.status == NOT_OPTED_IN and ctx.errors == []
    assert api.calls["compute-optimizer.GetECSServiceRecommendations"] == 1


def test_a_denied_recommendation_call_is_recorded_against_its_services():
    api = FakeApi()
    _recommendations(api, fault=DENIED)
    ctx = _context(api)
    part = optimizer_collector.collect(ctx, AuditConfig(), _region(_services(3, launchType="FARGATE")))
    assert part is not None
    (error,) = ctx.errors
    assert error.action == "compute-optimizer:GetECSServiceRecommendations" and len(error.resources) == 3


def test_compute_optimizer_is_not_called_without_fargate_services():
    api = FakeApi()
    part = optimizer_collector.collect(_context(api), AuditConfig(), _region(_services(2, launchType="EC2")))
    assert part is not None and part.status == NOT_ASKED and sum(api.calls.values()) == 0


# --- CloudWatch ---------------------------------------------------------------------------------


def _alarm(name: str, namespace: str, dimensions: dict[str, str], actions: list[str] | None = None) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "Namespace": namespace,
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "ActionsEnabled": True,
        "AlarmActions": actions if actions is not None else [f"arn:aws:sns:{REGION}:{ACCOUNT}:oncall"],
    }


class FakeCloudWatch:
    """Hourly Container Insights series: CPU at 10..33% and memory at 40% (peaks 50%) of the reservation."""

    def __init__(self, unrelated_alarms: int = 250):
        self.alarms = [_alarm(f"other-{i}", "AWS/EC2", {"InstanceId": f"i-{i}"}) for i in range(unrelated_alarms)]
        self.alarms.append(_alarm("s001-cpu", "AWS/ECS", {"ClusterName": "c1", "ServiceName": "s001"}))
        self.composites = [
            {"AlarmName": "page-s001", "AlarmRule": 'ALARM("s001-cpu")', "ActionsEnabled": True, "AlarmActions": ["arn:aws:sns:x"]},
            {"AlarmName": "unrelated", "AlarmRule": 'ALARM("other-1")', "ActionsEnabled": True, "AlarmActions": ["arn:aws:sns:x"]},
        ]
        self.forbidden: set[str] = set()
        self.queries_per_call: list[int] = []

    def install(self, api: FakeApi) -> None:
        api.on("cloudwatch.DescribeAlarms", self.describe_alarms)
        api.on("cloudwatch.GetMetricData", self.get_metric_data)

    def describe_alarms(self, p: dict[str, Any]) -> dict[str, Any]:
        if p["AlarmTypes"] == ["MetricAlarm"]:
            return pascal_page(self.alarms, p, "MetricAlarms", "MaxRecords", 50, 100)
        assert p["AlarmTypes"] == ["CompositeAlarm"]
        return pascal_page(self.composites, p, "CompositeAlarms", "MaxRecords", 50, 100)

    def get_metric_data(self, p: dict[str, Any]) -> dict[str, Any]:
        queries = p["MetricDataQueries"]
        assert len(queries) <= 500
        if "NextToken" not in p:
            self.queries_per_call.append(len(queries))
        results = []
        for q in queries:
            stat = q["MetricStat"]
            metric = stat["Metric"]
            assert metric["Namespace"] == "ECS/ContainerInsights" and stat["Period"] == 3600
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            name, kind = metric["MetricName"], stat["Stat"]
            if dims["ServiceName"] in self.forbidden:
                results.append({"Id": q["Id"], "StatusCode": "Forbidden", "Timestamps": [], "Values": []})
                continue
            hours = [f"2026-10-{1 + h // 24:02d}T{h % 24:02d}:00:00Z" for h in range(100)]
            values = {
                ("CpuUtilized", "Average"): [10.0 + (h % 24) for h in range(100)],  # 10..33 of 100 units
                ("CpuReserved", "Average"): [100.0] * 100,
                ("MemoryUtilized", "Average"): [400.0] * 100,
                ("MemoryUtilized", "Maximum"): [500.0] * 100,
                ("MemoryReserved", "Average"): [1000.0] * 100,
                ("MemoryReserved", "Maximum"): [1000.0] * 100,
            }[(name, kind)]
            results.append({"Id": q["Id"], "Timestamps": hours, "Values": values, "StatusCode": "Complete"})
        # Two pages per call: first half of every series, then the rest.
        half = 0 if "NextToken" in p else 1
        out: dict[str, Any] = {
            "MetricDataResults": [
                dict(r, Timestamps=r["Timestamps"][:50] if half else r["Timestamps"][50:], Values=r["Values"][:50] if half else r["Values"][50:])
                for r in results
            ]
        }
        if half:
            out["NextToken"] = "page-2"
        return out


def test_alarms_are_paged_100_at_a_time_and_only_the_services_alarms_are_kept():
    fake = FakeCloudWatch()
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    part = cloudwatch_collector.collect(ctx, AuditConfig(), _region(_services(3)))
    assert ctx.errors == [] and part is not None
    metric_pages = [p for key, p in api.requests if key == "cloudwatch.DescribeAlarms" and p["AlarmTypes"] == ["MetricAlarm"]]
    assert len(metric_pages) == 3 and all(p["MaxRecords"] == 100 for p in metric_pages)
    assert [a.alarm_name for a in part.metric_alarms] == ["s001-cpu"]
    assert [c.alarm_name for c in part.composite_alarms] == ["page-s001"]


def test_composite_alarms_are_not_read_when_no_alarm_concerns_the_services():
    fake = FakeCloudWatch()
    fake.alarms = fake.alarms[:-1]
    api = FakeApi()
    fake.install(api)
    part = cloudwatch_collector.collect(_context(api), AuditConfig(), _region(_services(3)))
    assert part is not None and part.metric_alarms == [] and part.composite_alarms == []
    assert {tuple(p["AlarmTypes"]) for key, p in api.requests if key == "cloudwatch.DescribeAlarms"} == {("MetricAlarm",)}


def test_metric_data_takes_83_services_a_call_and_follows_next_token():
    fake = FakeCloudWatch(unrelated_alarms=0)
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    part = cloudwatch_collector.collect(ctx, AuditConfig(), _region(_services(200)))
    assert ctx.errors == [] and part is not None
    assert sorted(fake.queries_per_call) == [204, 498, 498]  # 83 + 83 + 34 services, six queries each (concurrent calls)
    assert api.calls["cloudwatch.GetMetricData"] == 6  # two pages per call
    usage = part.utilisation_of(f"{PREFIX}service/c1/s123")
    assert usage is not None and usage.hours == 100
    assert usage.cpu_p95 == 32.0 and usage.cpu_max == 33.0
    assert usage.memory_p95 == 40.0 and usage.memory_max == 50.0
    assert usage.cpu_reserved == 100.0 and usage.memory_reserved == 1000.0


def test_an_unanswered_metric_query_is_recorded_against_its_service_only():
    fake = FakeCloudWatch(unrelated_alarms=0)
    fake.forbidden = {"s001"}
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    part = cloudwatch_collector.collect(ctx, AuditConfig(), _region(_services(3)))
    assert part is not None and part.utilisation_of(f"{PREFIX}service/c1/s001") is None
    assert part.utilisation_of(f"{PREFIX}service/c1/s002") is not None
    assert [(e.action, e.resources) for e in ctx.errors] == [("cloudwatch:GetMetricData", [f"{PREFIX}service/c1/s001"])]


def test_a_denied_get_metric_data_is_recorded_against_the_services_of_that_call():
    fake = FakeCloudWatch(unrelated_alarms=0)
    api = FakeApi()
    fake.install(api)
    api.on("cloudwatch.GetMetricData", lambda p: (_ for _ in ()).throw(DENIED))
    ctx = _context(api)
    part = cloudwatch_collector.collect(ctx, AuditConfig(), _region(_services(90)))
    assert part is not None and part.utilisation == []
    assert sorted(len(e.resources) for e in ctx.errors) == [7, 83]
    assert {e.action for e in ctx.errors} == {"cloudwatch:GetMetricData"}


def test_a_service_without_container_insights_data_has_zero_hours():
    fake = FakeCloudWatch(unrelated_alarms=0)
    api = FakeApi()
    fake.install(api)
    api.on("cloudwatch.GetMetricData", lambda p: {"MetricDataResults": [{"Id": q["Id"], "Timestamps": [], "Values": [], "StatusCode": "Complete"} for q in p["MetricDataQueries"]]})
    part = cloudwatch_collector.collect(_context(api), AuditConfig(), _region(_services(1)))
    assert part is not None
    (usage,) = part.utilisation
    assert usage.hours == 0 and usage.cpu_p95 is None


@pytest.mark.parametrize(
    ("values", "p95"),
    [([1.0], 1.0), ([float(i) for i in range(1, 101)], 95.0), ([float(i) for i in range(1, 21)], 19.0)],
)
def test_percentile_is_nearest_rank(values, p95):
    assert cloudwatch_collector.percentile(values, 95) == p95
