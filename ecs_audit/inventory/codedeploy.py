"""AWS CodeDeploy: ECS applications and deployment groups of CODE_DEPLOY services."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record


class EcsServiceRef(AwsShape):
    service_name: str
    cluster_name: str


class AutoRollbackConfiguration(AwsShape):
    enabled: bool = False
    events: list[str] = []


class DeploymentAlarm(AwsShape):
    name: str


class AlarmConfiguration(AwsShape):
    enabled: bool = False
    alarms: list[DeploymentAlarm] = []


class DeploymentGroup(AwsShape):
    application_name: str
    deployment_group_name: str
    compute_platform: str | None = None
    ecs_services: list[EcsServiceRef] = []
    auto_rollback_configuration: AutoRollbackConfiguration | None = None
    alarm_configuration: AlarmConfiguration | None = None

    def targets(self, cluster_name: str, service_name: str) -> bool:
        return any(s.cluster_name == cluster_name and s.service_name == service_name for s in self.ecs_services)

    @property
    def label(self) -> str:
        return f"{self.application_name}/{self.deployment_group_name}"


class CodeDeployInventory(Record):
    """Deployment groups of the region's ECS-platform CodeDeploy applications. Only read when some
    service uses the CODE_DEPLOY controller; otherwise empty (`read` False)."""

    read: bool = False
    ecs_applications: list[str] = []
    deployment_groups: list[DeploymentGroup] = []
    # Listed by ListDeploymentGroups but gone by the time BatchGetDeploymentGroups ran.
    missing_deployment_groups: list[str] = []

    def groups_for(self, cluster_name: str, service_name: str) -> list[DeploymentGroup]:
        return [g for g in self.deployment_groups if g.targets(cluster_name, service_name)]
