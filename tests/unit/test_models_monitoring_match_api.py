"""Every field of the GuardDuty, Application Auto Scaling, CodeDeploy, Compute Optimizer and CloudWatch
inventory models must exist in botocore's shape for it (a misspelt alias would read as None)."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader
from pydantic import BaseModel

from ecs_audit.inventory import autoscaling, cloudwatch, codedeploy, compute_optimizer, guardduty

# Our model -> (botocore service, the shape it mirrors).
SHAPES: dict[type[BaseModel], tuple[str, str]] = {
    guardduty.DetectorAdditionalConfiguration: ("guardduty", "DetectorAdditionalConfigurationResult"),
    guardduty.DetectorFeature: ("guardduty", "DetectorFeatureConfigurationResult"),
    guardduty.Detector: ("guardduty", "GetDetectorResponse"),
    guardduty.FargateCoverage: ("guardduty", "FargateDetails"),
    guardduty.ContainerInstanceCoverage: ("guardduty", "ContainerInstanceDetails"),
    guardduty.EcsClusterCoverage: ("guardduty", "CoverageEcsClusterDetails"),
    guardduty.CoverageResourceDetails: ("guardduty", "CoverageResourceDetails"),
    guardduty.CoverageResource: ("guardduty", "CoverageResource"),
    guardduty.FindingTask: ("guardduty", "EcsTaskDetails"),
    guardduty.FindingEcsCluster: ("guardduty", "EcsClusterDetails"),
    guardduty.FindingContainer: ("guardduty", "Container"),
    guardduty.FindingResource: ("guardduty", "Resource"),
    guardduty.FindingService: ("guardduty", "Service"),
    guardduty.Finding: ("guardduty", "Finding"),
    autoscaling.SuspendedState: ("application-autoscaling", "SuspendedState"),
    autoscaling.ScalableTarget: ("application-autoscaling", "ScalableTarget"),
    autoscaling.PredefinedMetricSpecification: ("application-autoscaling", "PredefinedMetricSpecification"),
    autoscaling.CustomizedMetricSpecification: ("application-autoscaling", "CustomizedMetricSpecification"),
    autoscaling.TargetTrackingConfiguration: ("application-autoscaling", "TargetTrackingScalingPolicyConfiguration"),
    autoscaling.PolicyAlarm: ("application-autoscaling", "Alarm"),
    autoscaling.ScalingPolicy: ("application-autoscaling", "ScalingPolicy"),
    codedeploy.EcsServiceRef: ("codedeploy", "ECSService"),
    codedeploy.AutoRollbackConfiguration: ("codedeploy", "AutoRollbackConfiguration"),
    codedeploy.DeploymentAlarm: ("codedeploy", "Alarm"),
    codedeploy.AlarmConfiguration: ("codedeploy", "AlarmConfiguration"),
    codedeploy.DeploymentGroup: ("codedeploy", "DeploymentGroupInfo"),
    compute_optimizer.ServiceConfiguration: ("compute-optimizer", "ServiceConfiguration"),
    compute_optimizer.EstimatedMonthlySavings: ("compute-optimizer", "EstimatedMonthlySavings"),
    compute_optimizer.SavingsOpportunity: ("compute-optimizer", "SavingsOpportunity"),
    compute_optimizer.ServiceRecommendationOption: ("compute-optimizer", "ECSServiceRecommendationOption"),
    compute_optimizer.EcsServiceRecommendation: ("compute-optimizer", "ECSServiceRecommendation"),
    cloudwatch.Dimension: ("cloudwatch", "Dimension"),
    cloudwatch.Metric: ("cloudwatch", "Metric"),
    cloudwatch.MetricStat: ("cloudwatch", "MetricStat"),
    cloudwatch.MetricDataQuery: ("cloudwatch", "MetricDataQuery"),
    cloudwatch.MetricAlarm: ("cloudwatch", "MetricAlarm"),
    cloudwatch.CompositeAlarm: ("cloudwatch", "CompositeAlarm"),
}

# Fields of ours that deliberately are not API members.
DERIVED = {
    (guardduty.Detector, "DetectorId"),  # GetDetector does not echo the id it was asked for
}


@pytest.fixture(scope="module")
def loader():
    return Loader()


@pytest.mark.parametrize("model", list(SHAPES), ids=lambda m: f"{m.__module__.rsplit('.', 1)[-1]}.{m.__name__}")
def test_every_field_is_an_api_member(model: type[BaseModel], loader):
    service, shape = SHAPES[model]
    members = set(loader.load_service_model(service, "service-2")["shapes"][shape]["members"])
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    unknown = {a for a in aliases if a not in members and (model, a) not in DERIVED}
    assert not unknown, f"{model.__name__} fields not in botocore {service} shape {shape}: {sorted(unknown)}"


@pytest.mark.parametrize("module", [guardduty, autoscaling, codedeploy, compute_optimizer, cloudwatch], ids=lambda m: m.__name__)
def test_every_api_shaped_model_is_checked(module):
    from ecs_audit.inventory.base import AwsShape

    models = {
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, AwsShape) and value.__module__ == module.__name__ and value.model_fields
    }
    # Base classes that only carry the alias configuration have no fields of their own.
    assert models <= set(SHAPES), sorted(m.__name__ for m in models - set(SHAPES))
