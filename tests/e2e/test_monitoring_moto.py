"""End to end for detection, scaling, deployments and monitoring: GuardDuty, Application Auto Scaling,
CodeDeploy, Compute Optimizer and CloudWatch (SECURITY-011, SECURITY-012, SECURITY-013, RESILIENCE-002,
RESILIENCE-004, RESILIENCE-005, CICD-002, CICD-003, OBSERVABILITY-006, TASKDEF-007).

A small estate of its own is seeded into the moto server: well-configured services and one planted
defect per check in us-east-1, and in eu-west-1 a region whose GuardDuty has runtime monitoring off
(the account-level checks can only differ between regions). Container Insights metrics are seeded with
put_metric_data, so moto computes the GetMetricData answers itself. What moto lacks is answered by the
proxy in the real API's shapes: GuardDuty ListCoverage, CodeDeploy BatchGetDeploymentGroups (from
moto's own GetDeploymentGroup) and Compute Optimizer GetECSServiceRecommendations.

The installed CLI scans it through the tests' proxy; then, once per service, the main call is denied
and exactly these checks must turn UNKNOWN, naming the permission.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.deny import Scan, assert_denial_confined, denied_scans, finding_key, scan_through_proxy
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy, Reply, api_params, api_reply, error_reply

pytestmark = pytest.mark.e2e

HOME = "us-east-1"
OTHER = "eu-west-1"  # GuardDuty runtime monitoring off here
WATCH = "watch"  # covered by GuardDuty runtime monitoring
BLIND = "blind"  # runs tasks, missing from coverage
MY_CHECKS = {
    "SECURITY-011", "SECURITY-012", "SECURITY-013", "SECURITY-019", "RESILIENCE-002", "RESILIENCE-004", "RESILIENCE-005",
    "CICD-002", "CICD-003", "OBSERVABILITY-006", "TASKDEF-007",
}  # fmt: skip
ONCALL = "arn:aws:sns:{region}:{account}:oncall"
HOURS = 72  # of seeded Container Insights data (moto's GetMetricData scans every datapoint per query)

# Per service: Container Insights utilisation as (CPU average, memory average, memory peak) of the reservation.
UTILISATION = {"good": (0.50, 0.60, 0.70), "idle": (0.05, 0.15, 0.20), "tight": (0.40, 0.80, 0.95)}


@dataclass
class Estate:
    account_id: str
    services: dict[str, str]  # "<region>/<cluster>/<service>" -> ARN
    clusters: dict[str, str]  # "<region>/<cluster>" -> ARN
    # Deployment group fields as seeded, by group name: moto's GetDeploymentGroup drops some of them
    # (alarmConfiguration, deploymentStyle, blueGreenDeploymentConfiguration come back empty).
    deployment_groups: dict[str, dict[str, Any]]

    def service(self, name: str, region: str = HOME, cluster: str = WATCH) -> str:
        return self.services[f"{region}/{cluster}/{name}"]


def _seed(moto: MotoServer) -> Estate:
    moto.reset()
    requests.post(
        f"{moto.url}/moto-api/state-manager/set-transition",
        json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
        timeout=10,
    ).raise_for_status()
    account = moto.client("sts").get_caller_identity()["Account"]
    services: dict[str, str] = {}
    clusters: dict[str, str] = {}
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)

    for region in (HOME, OTHER):
        ecs = moto.client("ecs", region)
        subnets = [s["SubnetId"] for s in moto.client("ec2", region).describe_subnets()["Subnets"]][:2]
        network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [], "assignPublicIp": "DISABLED"}}
        sizes = {"app": ("512", "1024"), "big": ("1024", "4096"), "small": ("256", "512")}
        for family, (cpu, memory) in sizes.items():
            ecs.register_task_definition(
                family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu=cpu, memory=memory,
                containerDefinitions=[{"name": "app", "image": "public.ecr.aws/docker/library/nginx:1.27", "memory": int(memory), "essential": True}],
            )  # fmt: skip
        cluster_names = (WATCH, BLIND) if region == HOME else (WATCH,)
        for name in cluster_names:
            arn = ecs.create_cluster(clusterName=name, settings=[{"name": "containerInsights", "value": "enabled"}])["cluster"]["clusterArn"]
            clusters[f"{region}/{name}"] = arn
            # moto's services never start tasks: one running task makes the cluster one GuardDuty must cover.
            ecs.run_task(cluster=name, taskDefinition="app", launchType="FARGATE", count=1, networkConfiguration=network)
        plan = (
            [("good", "app", 2, "ECS"), ("single", "app", 1, "ECS"), ("nopolicy", "app", 2, "ECS"), ("hot", "app", 2, "ECS"),
             ("idle", "big", 2, "ECS"), ("tight", "small", 2, "ECS"), ("bg-good", "app", 2, "CODE_DEPLOY"),
             ("bg-norollback", "app", 2, "CODE_DEPLOY")]
            if region == HOME else [("edge", "app", 2, "ECS")]
        )  # fmt: skip
        for name, family, desired, controller in plan:
            created = ecs.create_service(
                cluster=WATCH, serviceName=name, taskDefinition=family, desiredCount=desired, launchType="FARGATE",
                networkConfiguration=network, deploymentController={"type": controller},
            )  # fmt: skip
            services[f"{region}/{WATCH}/{name}"] = created["service"]["serviceArn"]
        if region == HOME:
            created = ecs.create_service(cluster=BLIND, serviceName="other", taskDefinition="app", desiredCount=2, launchType="FARGATE", networkConfiguration=network)
            services[f"{region}/{BLIND}/other"] = created["service"]["serviceArn"]

    groups = _seed_home(moto, account, now)
    # GuardDuty: runtime monitoring with agent management at home, off in the other region.
    moto.client("guardduty", HOME).create_detector(
        Enable=True,
        Features=[{"Name": "RUNTIME_MONITORING", "Status": "ENABLED", "AdditionalConfiguration": [
            {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"}, {"Name": "EC2_AGENT_MANAGEMENT", "Status": "ENABLED"}]}],
    )  # fmt: skip
    moto.client("guardduty", OTHER).create_detector(Enable=True, Features=[{"Name": "RUNTIME_MONITORING", "Status": "DISABLED"}])
    return Estate(account_id=account, services=services, clusters=clusters, deployment_groups=groups)


def _seed_home(moto: MotoServer, account: str, now: datetime) -> dict[str, dict[str, Any]]:
    ecs = moto.client("ecs", HOME)
    oncall = ONCALL.format(region=HOME, account=account)
    # ECS deployment alarms with rollback on the good service (create_service drops deploymentConfiguration).
    ecs.update_service(
        cluster=WATCH, service="good",
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                 "alarms": {"alarmNames": ["good-5xx"], "enable": True, "rollback": True}},
    )  # fmt: skip

    scaling = moto.client("application-autoscaling", HOME)
    for name, low, high in (("good", 2, 6), ("nopolicy", 2, 4), ("hot", 2, 6)):
        scaling.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/{WATCH}/{name}", ScalableDimension="ecs:service:DesiredCount", MinCapacity=low, MaxCapacity=high
        )
    for name, metric, target in (("good", "ECSServiceAverageCPUUtilization", 60.0), ("hot", "ECSServiceAverageMemoryUtilization", 90.0)):
        scaling.put_scaling_policy(
            PolicyName=f"{name}-tracking", ServiceNamespace="ecs", ResourceId=f"service/{WATCH}/{name}",
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={"TargetValue": target, "PredefinedMetricSpecification": {"PredefinedMetricType": metric}},
        )  # fmt: skip

    cloudwatch = moto.client("cloudwatch", HOME)
    for alarm, service in (("good-memory-high", "good"), ("bg-good-cpu-high", "bg-good"), ("bg-norollback-cpu-high", "bg-norollback")):
        cloudwatch.put_metric_alarm(
            AlarmName=alarm, Namespace="AWS/ECS", MetricName="MemoryUtilization" if "memory" in alarm else "CPUUtilization",
            Dimensions=[{"Name": "ClusterName", "Value": WATCH}, {"Name": "ServiceName", "Value": service}],
            Statistic="Average", Period=60, EvaluationPeriods=3, Threshold=85.0, ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[oncall],
        )  # fmt: skip
    # An alarm auto scaling would create: it only scales, so it must not count for "hot".
    cloudwatch.put_metric_alarm(
        AlarmName=f"TargetTracking-service/{WATCH}/hot-AlarmHigh-5f0c", Namespace="AWS/ECS", MetricName="MemoryUtilization",
        Dimensions=[{"Name": "ClusterName", "Value": WATCH}, {"Name": "ServiceName", "Value": "hot"}],
        Statistic="Average", Period=60, EvaluationPeriods=3, Threshold=90.0, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[f"arn:aws:autoscaling:{HOME}:{account}:scalingPolicy:0a1b:resource/ecs/service/{WATCH}/hot:policyName/hot-tracking"],
    )  # fmt: skip
    sizes = {"good": (512, 1024), "idle": (1024, 4096), "tight": (256, 512)}
    for service, (cpu_use, memory_use, memory_peak) in UTILISATION.items():
        cpu, memory = sizes[service]
        data = []
        for hours_ago in range(1, HOURS + 1):
            at = now - timedelta(hours=hours_ago)
            for metric, value, peak in (
                ("CpuUtilized", cpu * 2 * cpu_use, cpu * 2 * cpu_use * 1.1),
                ("CpuReserved", cpu * 2, cpu * 2),
                ("MemoryUtilized", memory * 2 * memory_use, memory * 2 * memory_peak),
                ("MemoryReserved", memory * 2, memory * 2),
            ):
                data.append({
                    "MetricName": metric, "Timestamp": at,
                    "Dimensions": [{"Name": "ClusterName", "Value": WATCH}, {"Name": "ServiceName", "Value": service}],
                    "StatisticValues": {"SampleCount": 60.0, "Sum": value * 60, "Minimum": value * 0.9, "Maximum": peak},
                })  # fmt: skip
        for start in range(0, len(data), 1000):
            cloudwatch.put_metric_data(Namespace="ECS/ContainerInsights", MetricData=data[start : start + 1000])

    codedeploy = moto.client("codedeploy", HOME)
    codedeploy.create_application(applicationName="web", computePlatform="ECS")
    codedeploy.create_application(applicationName="fleet", computePlatform="Server")  # not ECS: its groups are never read
    codedeploy.create_deployment_group(applicationName="fleet", deploymentGroupName="hosts", serviceRoleArn=f"arn:aws:iam::{account}:role/codedeploy")
    groups: dict[str, dict[str, Any]] = {}
    for group, service, rollback_events, alarms in (
        ("bg-good-dg", "bg-good", ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"], ["bg-good-cpu-high"]),
        ("bg-norollback-dg", "bg-norollback", [], []),
    ):
        groups[group] = {
            "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            "blueGreenDeploymentConfiguration": {
                "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
                "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            },
            "alarmConfiguration": {"enabled": bool(alarms), "ignorePollAlarmFailure": False, "alarms": [{"name": a} for a in alarms]},
        }
        codedeploy.create_deployment_group(
            applicationName="web", deploymentGroupName=group, serviceRoleArn=f"arn:aws:iam::{account}:role/codedeploy",
            deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
            ecsServices=[{"serviceName": service, "clusterName": WATCH}],
            autoRollbackConfiguration={"enabled": bool(rollback_events), "events": rollback_events or ["DEPLOYMENT_FAILURE"]},
            **groups[group],
        )  # fmt: skip
    return groups


# --- what moto lacks, answered by the proxy in the real API's shapes -----------------------------------


def _install_gap_answers(proxy: FaultProxy, moto: MotoServer, estate: Estate, *, opted_in: bool = True) -> None:
    def list_coverage(call: Call) -> Reply:
        params = api_params(call)
        detector = moto.client("guardduty", call.region).list_detectors()["DetectorIds"]
        if params.get("DetectorId") not in detector:
            return error_reply(call, "BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
        covered = [estate.clusters[f"{HOME}/{WATCH}"]] if call.region == HOME else []
        resources = [
            {
                "ResourceId": arn,
                "DetectorId": params["DetectorId"],
                "AccountId": estate.account_id,
                "ResourceDetails": {
                    "ResourceType": "ECS",
                    "EcsClusterDetails": {"ClusterName": arn.rsplit("/", 1)[-1], "FargateDetails": {"ManagementType": "AUTO_MANAGED", "Issues": []}},
                },
                "CoverageStatus": "HEALTHY",
                "UpdatedAt": datetime.now(timezone.utc) - timedelta(minutes=20),
            }
            for arn in covered
        ]
        return api_reply(call, {"Resources": resources})

    def batch_get_deployment_groups(call: Call) -> Reply:
        params = api_params(call)
        client = moto.client("codedeploy", call.region)
        infos = []
        for name in params["deploymentGroupNames"]:
            info = client.get_deployment_group(applicationName=params["applicationName"], deploymentGroupName=name)["deploymentGroupInfo"]
            # What moto drops comes back as AWS returns it: the fields as configured.
            infos.append({**info, **{k: v for k, v in estate.deployment_groups.get(name, {}).items() if not info.get(k)}})
        return api_reply(call, {"deploymentGroupsInfo": infos})

    def recommendations(call: Call) -> Reply:
        if not opted_in:
            return error_reply(call, "OptInRequiredException", "The account is not opted in to AWS Compute Optimizer.", 403)
        found, errors = [], []
        for arn in api_params(call).get("serviceArns") or []:
            name = arn.rsplit("/", 1)[-1]
            if name == "idle":
                found.append({
                    "serviceArn": arn, "accountId": estate.account_id, "launchType": "Fargate", "lookbackPeriodInDays": 14.0,
                    "currentServiceConfiguration": {"cpu": 1024, "memory": 4096, "taskDefinitionArn": arn.replace(":service/watch/idle", ":task-definition/big:1")},
                    "finding": "Overprovisioned", "findingReasonCodes": ["CPUOverprovisioned", "MemoryOverprovisioned"],
                    "utilizationMetrics": [{"name": "Cpu", "statistic": "Maximum", "value": 5.5}, {"name": "Memory", "statistic": "Maximum", "value": 20.0}],
                    "serviceRecommendationOptions": [{"cpu": 256, "memory": 1024, "savingsOpportunity": {
                        "savingsOpportunityPercentage": 71.4, "estimatedMonthlySavings": {"currency": "USD", "value": 49.6}}}],
                    "currentPerformanceRisk": "VeryLow",
                })  # fmt: skip
            else:
                errors.append({"identifier": arn, "code": "InsufficientDataException", "message": "Not enough utilization data."})
        return api_reply(call, {"ecsServiceRecommendations": found, "errors": errors})

    proxy.add_fault("guardduty.ListCoverage", list_coverage, name="stub ListCoverage")
    # moto has no GuardDuty findings: AWS answers an estate without any with empty lists.
    proxy.add_fault("guardduty.ListFindings", lambda call: api_reply(call, {"FindingIds": []}), name="stub ListFindings")
    proxy.add_fault("guardduty.GetFindings", lambda call: api_reply(call, {"Findings": []}), name="stub GetFindings")
    proxy.add_fault("codedeploy.BatchGetDeploymentGroups", batch_get_deployment_groups, name="stub BatchGetDeploymentGroups")
    proxy.add_fault("compute-optimizer.GetECSServiceRecommendations", recommendations, name="stub GetECSServiceRecommendations")


def _scan(moto: MotoServer, estate: Estate, work: Path, *denied: str, opted_in: bool = True) -> Scan:
    # The denials go before the stubs: the first fault that answers wins.
    return scan_through_proxy(moto.url, estate.account_id, work, [HOME, OTHER], denied, deny_first=True,
                              prepare=lambda proxy: _install_gap_answers(proxy, moto, estate, opted_in=opted_in))


@pytest.fixture(scope="module")
def estate(moto_server: MotoServer) -> Estate:
    return _seed(moto_server)


@pytest.fixture(scope="module")
def scanned(moto_server: MotoServer, estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return _scan(moto_server, estate, tmp_path_factory.mktemp("monitoring"))


def _arn(estate: Estate, kind: str, key: str) -> str:
    if kind == "account":
        return f"arn:aws:iam::{estate.account_id}:root"
    if kind == "cluster":
        region, _, name = key.partition("/")
        return estate.clusters[f"{region}/{name}"]
    return estate.services[key]


def _results(scan: Scan, check: str, kind: str, key: str, estate: Estate) -> list[dict[str, Any]]:
    arn = _arn(estate, kind, key)
    region = key.split("/", 1)[0]
    return [f for f in scan.report["findings"] if f["check_id"] == check and f["resource"]["arn"] == arn and f["region"] == region]


# (check, kind, key): key is "<region>" for the account, "<region>/<cluster>" or "<region>/<cluster>/<service>".
GOOD = [
    ("SECURITY-011", "account", HOME),
    ("SECURITY-012", "account", HOME),
    ("SECURITY-013", "cluster", f"{HOME}/{WATCH}"),
    ("RESILIENCE-002", "service", f"{HOME}/{WATCH}/good"),
    ("RESILIENCE-004", "service", f"{HOME}/{WATCH}/good"),
    ("RESILIENCE-005", "service", f"{HOME}/{WATCH}/good"),
    ("CICD-002", "service", f"{HOME}/{WATCH}/bg-good"),
    ("CICD-003", "service", f"{HOME}/{WATCH}/good"),
    ("CICD-003", "service", f"{HOME}/{WATCH}/bg-good"),
    ("OBSERVABILITY-006", "service", f"{HOME}/{WATCH}/good"),
    ("TASKDEF-007", "service", f"{HOME}/{WATCH}/good"),
]

PLANTED = [
    ("SECURITY-011", "account", OTHER, "FAIL", ["runtime monitoring is DISABLED"]),
    ("SECURITY-012", "account", OTHER, "FAIL", ["Fargate is in use but GuardDuty does not manage its agent"]),
    ("SECURITY-013", "cluster", f"{HOME}/{BLIND}", "FAIL", ["missing from GuardDuty's runtime coverage"]),
    ("RESILIENCE-002", "service", f"{HOME}/{WATCH}/single", "FAIL", ["desiredCount 1, with no scalable target"]),
    ("RESILIENCE-004", "service", f"{HOME}/{WATCH}/nopolicy", "FAIL", ["no scaling policy"]),
    ("RESILIENCE-005", "service", f"{HOME}/{WATCH}/hot", "WARN", ["hot-tracking keeps memory at 90%"]),
    ("CICD-002", "service", f"{HOME}/{WATCH}/bg-norollback", "FAIL", ["web/bg-norollback-dg has automatic rollback off"]),
    ("CICD-003", "service", f"{HOME}/{WATCH}/single", "WARN", ["no alarm is attached"]),
    ("OBSERVABILITY-006", "service", f"{HOME}/{WATCH}/hot", "WARN", ["no CloudWatch alarm with actions"]),
    ("TASKDEF-007", "service", f"{HOME}/{WATCH}/idle", "WARN",
     ["over-provisioned", "suggested size 0.25 vCPU", "Compute Optimizer: Overprovisioned, recommends 256 CPU units / 1024 MiB"]),
    ("TASKDEF-007", "service", f"{HOME}/{WATCH}/tight", "FAIL", ["under-provisioned: memory peaked at 95", "suggested size 0.25 vCPU / 1 GB"]),
]  # fmt: skip


def test_the_scan_runs_and_my_services_record_no_errors(scanned: Scan) -> None:
    assert scanned.run.returncode == 0, scanned.run
    mine = [e for e in scanned.report["errors"] if e["service"] in ("guardduty", "application-autoscaling", "codedeploy", "compute-optimizer", "cloudwatch")]
    assert mine == []


@pytest.mark.parametrize(("check", "kind", "key"), GOOD, ids=lambda v: str(v))
def test_the_well_configured_resources_pass(scanned: Scan, estate: Estate, check: str, kind: str, key: str) -> None:
    results = _results(scanned, check, kind, key, estate)
    assert [f["status"] for f in results] == ["PASS"], [(f["status"], f["message"]) for f in results]


@pytest.mark.parametrize(("check", "kind", "key", "status", "fragments"), PLANTED, ids=lambda v: str(v))
def test_each_planted_defect_is_found_on_its_resource(
    scanned: Scan, estate: Estate, check: str, kind: str, key: str, status: str, fragments: list[str]
) -> None:
    results = _results(scanned, check, kind, key, estate)
    assert [f["status"] for f in results] == [status], results
    for fragment in fragments:
        assert fragment in results[0]["message"], results[0]["message"]


def test_calls_are_targeted_and_batched(scanned: Scan) -> None:
    count = Counter((c.key, c.region) for c in scanned.calls)
    for region in (HOME, OTHER):
        # one detector per region; coverage only where runtime monitoring is on
        assert count["guardduty.ListDetectors", region] == 1 and count["guardduty.GetDetector", region] == 1
        # the region's whole ecs namespace in one call (50 targets a page)
        assert count["application-autoscaling.DescribeScalableTargets", region] == 1
        assert count["compute-optimizer.GetECSServiceRecommendations", region] == 1
        assert count["cloudwatch.GetMetricData", region] == 1
    assert count["guardduty.ListCoverage", HOME] == 1 and count["guardduty.ListCoverage", OTHER] == 0
    # policies only where some service has a scalable target: the namespace's, 10 a page
    assert count["application-autoscaling.DescribeScalingPolicies", HOME] == 1
    assert count["application-autoscaling.DescribeScalingPolicies", OTHER] == 0
    # CodeDeploy only where CODE_DEPLOY services run, and only the ECS application's groups
    assert [c.key for c in scanned.calls if c.service == "codedeploy" and c.region == OTHER] == []
    groups = [api_params(c)["applicationName"] for c in scanned.calls if c.key == "codedeploy.ListDeploymentGroups"]
    assert groups == ["web"]
    assert count["codedeploy.BatchGetDeploymentGroups", HOME] == 1
    # composite alarms are only read where some alarm concerns the services
    assert count["cloudwatch.DescribeAlarms", HOME] == 2 and count["cloudwatch.DescribeAlarms", OTHER] == 1
    assert not [c.action for c in scanned.calls if c.mutating]
    assert not [(c.action, c.status) for c in scanned.calls if (c.status or 0) >= 500]


# --- one service's main call denied ----------------------------------------------------------------

SERVICES_AT_HOME = [f"{HOME}/{WATCH}/{name}" for name in ("good", "single", "nopolicy", "hot", "idle", "tight", "bg-good", "bg-norollback")]

DENIALS: dict[str, list[tuple[str, str, str]]] = {
    "guardduty:ListDetectors": [
        ("SECURITY-011", "account", HOME), ("SECURITY-011", "account", OTHER), ("SECURITY-012", "account", HOME),
        ("SECURITY-012", "account", OTHER), ("SECURITY-013", "cluster", f"{HOME}/{WATCH}"), ("SECURITY-013", "cluster", f"{HOME}/{BLIND}"),
        ("SECURITY-019", "account", HOME),
    ],
    "application-autoscaling:DescribeScalableTargets": [
        (check, "service", key) for check in ("RESILIENCE-002", "RESILIENCE-004", "RESILIENCE-005") for key in SERVICES_AT_HOME
    ],
    "codedeploy:ListApplications": [
        (check, "service", f"{HOME}/{WATCH}/{name}") for check in ("CICD-002", "CICD-003") for name in ("bg-good", "bg-norollback")
    ],
    "cloudwatch:DescribeAlarms": [("OBSERVABILITY-006", "service", key) for key in SERVICES_AT_HOME],
    "cloudwatch:GetMetricData": [("TASKDEF-007", "service", key) for key in SERVICES_AT_HOME],
}  # fmt: skip


denied = denied_scans(DENIALS, _scan)


def test_a_denied_call_makes_exactly_the_checks_that_need_it_unknown(denied: tuple[str, Scan], scanned: Scan, estate: Estate) -> None:
    action, scan = denied
    expected = {(check, kind, key): _results(scan, check, kind, key, estate) for check, kind, key in DENIALS[action]}
    assert_denial_confined(action, scan, scanned, expected, MY_CHECKS)


def test_an_account_not_opted_in_to_compute_optimizer_changes_no_result(
    moto_server: MotoServer, estate: Estate, scanned: Scan, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scan = _scan(moto_server, estate, tmp_path_factory.mktemp("optin"), opted_in=False)
    assert scan.run.returncode == 0, scan.run
    assert [e for e in scan.report["errors"] if e["service"] == "compute-optimizer"] == []
    before = {finding_key(f): f["status"] for f in scanned.report["findings"]}
    assert {finding_key(f): f["status"] for f in scan.report["findings"]} == before
    (idle,) = _results(scan, "TASKDEF-007", "service", f"{HOME}/{WATCH}/idle", estate)
    assert idle["status"] == "WARN" and "Compute Optimizer: the account is not opted in" in idle["message"], idle["message"]
    # Not opted in is answered once per region; no further batch is asked.
    assert Counter(c.region for c in scan.calls if c.service == "compute-optimizer") == {HOME: 1, OTHER: 1}
