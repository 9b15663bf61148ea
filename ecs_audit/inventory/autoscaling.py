"""Application Auto Scaling: scalable targets and policies in the ecs namespace.

The boto3 shapes are PascalCase (`MinCapacity`, `PolicyARN`, ...)."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape

ECS_DIMENSION = "ecs:service:DesiredCount"


def scaling_resource_id(cluster_arn: str, service_name: str) -> str:
    """The Application Auto Scaling resource id of an ECS service: service/<cluster>/<service>."""
    return f"service/{cluster_arn.rsplit('/', 1)[-1]}/{service_name}"


class SuspendedState(PascalShape):
    dynamic_scaling_in_suspended: bool | None = None
    dynamic_scaling_out_suspended: bool | None = None
    scheduled_scaling_suspended: bool | None = None


class ScalableTarget(PascalShape):
    service_namespace: str | None = None
    resource_id: str
    scalable_dimension: str | None = None
    min_capacity: int
    max_capacity: int
    suspended_state: SuspendedState | None = None

    @property
    def suspended(self) -> list[str]:
        """The kinds of scaling that are suspended (dynamic scale-in/out, scheduled)."""
        state = self.suspended_state
        if state is None:
            return []
        names = {
            "dynamic scale-in": state.dynamic_scaling_in_suspended,
            "dynamic scale-out": state.dynamic_scaling_out_suspended,
            "scheduled scaling": state.scheduled_scaling_suspended,
        }
        return [name for name, value in names.items() if value]


class PredefinedMetricSpecification(PascalShape):
    predefined_metric_type: str | None = None


class CustomizedMetricSpecification(PascalShape):
    metric_name: str | None = None
    namespace: str | None = None


class TargetTrackingConfiguration(PascalShape):
    target_value: float
    predefined_metric_specification: PredefinedMetricSpecification | None = None
    customized_metric_specification: CustomizedMetricSpecification | None = None
    disable_scale_in: bool | None = None

    @property
    def resource_metric(self) -> str | None:
        """"CPU" or "memory" when the policy tracks ECS service CPU or memory utilisation."""
        predefined = self.predefined_metric_specification
        name = predefined.predefined_metric_type if predefined else None
        if name is None and self.customized_metric_specification is not None:
            custom = self.customized_metric_specification
            if custom.namespace == "AWS/ECS":
                name = custom.metric_name
        if not name:
            return None
        if "CPUUtilization" in name:
            return "CPU"
        if "MemoryUtilization" in name:
            return "memory"
        return None

    @property
    def metric_label(self) -> str:
        if self.predefined_metric_specification and self.predefined_metric_specification.predefined_metric_type:
            return self.predefined_metric_specification.predefined_metric_type
        custom = self.customized_metric_specification
        if custom and custom.metric_name:
            return f"{custom.namespace or '?'}/{custom.metric_name}"
        return "a custom metric"


class PolicyAlarm(PascalShape):
    alarm_name: str | None = None
    alarm_arn: str | None = Field(default=None, alias="AlarmARN")


class ScalingPolicy(PascalShape):
    policy_name: str
    policy_arn: str | None = Field(default=None, alias="PolicyARN")
    resource_id: str
    scalable_dimension: str | None = None
    policy_type: str | None = None
    target_tracking_scaling_policy_configuration: TargetTrackingConfiguration | None = None
    alarms: list[PolicyAlarm] = []


class ScalingInventory(Record):
    """Scalable targets (dimension ecs:service:DesiredCount) of the region's replica services, and the
    policies of those targets. A service without a target here has none (failures are recorded)."""

    scalable_targets: list[ScalableTarget] = []
    policies: list[ScalingPolicy] = []

    def target_for(self, cluster_arn: str, service_name: str) -> ScalableTarget | None:
        return self._targets_by_resource.get(scaling_resource_id(cluster_arn, service_name))

    @cached_property
    def _targets_by_resource(self) -> dict[str, ScalableTarget]:
        """The first service-count target of each resource id (every service is looked up, by several checks)."""
        index: dict[str, ScalableTarget] = {}
        for target in self.scalable_targets:
            if target.scalable_dimension in (None, ECS_DIMENSION):
                index.setdefault(target.resource_id, target)
        return index

    def policies_for(self, cluster_arn: str, service_name: str) -> list[ScalingPolicy]:
        return list(self._policies_by_resource.get(scaling_resource_id(cluster_arn, service_name), ()))

    @cached_property
    def _policies_by_resource(self) -> dict[str, list[ScalingPolicy]]:
        """The service-count policies of each resource id, in order."""
        index: dict[str, list[ScalingPolicy]] = {}
        for policy in self.policies:
            if policy.scalable_dimension in (None, ECS_DIMENSION):
                index.setdefault(policy.resource_id, []).append(policy)
        return index
