"""Amazon ECS shapes, as returned by DescribeClusters, DescribeServices, DescribeTaskDefinition,
DescribeTasks, DescribeCapacityProviders and ListAccountSettings.

Only the fields the checks read are declared; their JSON names are the API's own. Secret-bearing
fields are either not declared (command, entryPoint, dockerLabels) or reduced on the way in
(environment values, secret-looking log options, credentials in health-check commands).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from ecs_audit.inventory.base import AwsShape, Record, Tags
from ecs_audit.redact import classify_value, redact_driver_opts, redact_options, scrub_text

# Capacity providers that AWS manages: they mean Fargate, not EC2 instances.
FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})


def effective_launch_type(launch_type: str | None, capacity_providers: list[str]) -> str:
    """FARGATE, EC2 or EXTERNAL, from a launch type or a capacity provider strategy ("" if neither).

    From names alone every non-Fargate provider is "EC2": only the provider's described type tells ECS
    Managed Instances (MANAGED_INSTANCES) from an Auto Scaling group, so checks ask RegionView.placements."""
    if launch_type:
        return launch_type
    if capacity_providers:
        return "FARGATE" if all(p in FARGATE_PROVIDERS for p in capacity_providers) else "EC2"
    return ""


# --- shared small shapes ---------------------------------------------------------------------


class NameValue(AwsShape):
    name: str | None = None
    value: str | None = None


class CapacityProviderStrategyItem(AwsShape):
    capacity_provider: str
    weight: int | None = None
    base: int | None = None


class AwsVpcConfiguration(AwsShape):
    subnets: list[str] = []
    security_groups: list[str] = []
    assign_public_ip: str | None = None


class NetworkConfiguration(AwsShape):
    awsvpc_configuration: AwsVpcConfiguration | None = None


# --- clusters --------------------------------------------------------------------------------


class ExecuteCommandLogConfiguration(AwsShape):
    cloud_watch_log_group_name: str | None = None
    cloud_watch_encryption_enabled: bool | None = None
    s3_bucket_name: str | None = None
    s3_encryption_enabled: bool | None = None


class ExecuteCommandConfiguration(AwsShape):
    kms_key_id: str | None = None
    logging: str | None = None
    log_configuration: ExecuteCommandLogConfiguration | None = None


class ManagedStorageConfiguration(AwsShape):
    kms_key_id: str | None = None
    fargate_ephemeral_storage_kms_key_id: str | None = None


class ClusterConfiguration(AwsShape):
    execute_command_configuration: ExecuteCommandConfiguration | None = None
    managed_storage_configuration: ManagedStorageConfiguration | None = None


class Cluster(AwsShape):
    cluster_arn: str
    cluster_name: str
    status: str | None = None
    configuration: ClusterConfiguration | None = None
    settings: list[NameValue] = []
    tags: Tags = {}
    capacity_providers: list[str] = []
    default_capacity_provider_strategy: list[CapacityProviderStrategyItem] = []
    registered_container_instances_count: int = 0
    running_tasks_count: int = 0
    pending_tasks_count: int = 0
    active_services_count: int = 0
    statistics: list[NameValue] = []

    def setting(self, name: str) -> str | None:
        for item in self.settings:
            if item.name == name:
                return item.value
        return None


# --- services --------------------------------------------------------------------------------


class DeploymentCircuitBreaker(AwsShape):
    enable: bool = False
    rollback: bool = False


class DeploymentAlarms(AwsShape):
    alarm_names: list[str] = []
    enable: bool = False
    rollback: bool = False


class DeploymentConfiguration(AwsShape):
    deployment_circuit_breaker: DeploymentCircuitBreaker | None = None
    maximum_percent: int | None = None
    minimum_healthy_percent: int | None = None
    alarms: DeploymentAlarms | None = None
    strategy: str | None = None
    bake_time_in_minutes: int | None = None


class DeploymentController(AwsShape):
    type: str = "ECS"


class LoadBalancer(AwsShape):
    target_group_arn: str | None = None
    load_balancer_name: str | None = None
    container_name: str | None = None
    container_port: int | None = None


class ServiceRegistry(AwsShape):
    registry_arn: str | None = None
    port: int | None = None
    container_name: str | None = None
    container_port: int | None = None


class ServiceConnectConfiguration(AwsShape):
    enabled: bool = False
    namespace: str | None = None


class Deployment(AwsShape):
    id: str | None = None
    status: str | None = None
    task_definition: str | None = None
    desired_count: int | None = None
    pending_count: int | None = None
    running_count: int | None = None
    failed_tasks: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    launch_type: str | None = None
    capacity_provider_strategy: list[CapacityProviderStrategyItem] = []
    platform_version: str | None = None
    platform_family: str | None = None
    network_configuration: NetworkConfiguration | None = None
    rollout_state: str | None = None
    rollout_state_reason: str | None = None
    service_connect_configuration: ServiceConnectConfiguration | None = None


class TaskSet(AwsShape):
    id: str | None = None
    task_set_arn: str | None = None
    status: str | None = None
    task_definition: str | None = None
    launch_type: str | None = None
    platform_version: str | None = None
    network_configuration: NetworkConfiguration | None = None
    load_balancers: list[LoadBalancer] = []
    stability_status: str | None = None


class ServiceEvent(AwsShape):
    id: str | None = None
    created_at: datetime | None = None
    message: str | None = None


class PlacementStrategy(AwsShape):
    type: str | None = None
    field: str | None = None


class Service(AwsShape):
    service_arn: str
    service_name: str
    cluster_arn: str
    status: str | None = None
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    launch_type: str | None = None
    capacity_provider_strategy: list[CapacityProviderStrategyItem] = []
    platform_version: str | None = None
    platform_family: str | None = None
    task_definition: str | None = None
    deployment_configuration: DeploymentConfiguration | None = None
    deployments: list[Deployment] = []
    task_sets: list[TaskSet] = []
    load_balancers: list[LoadBalancer] = []
    service_registries: list[ServiceRegistry] = []
    events: list[ServiceEvent] = []
    created_at: datetime | None = None
    created_by: str | None = None
    placement_strategy: list[PlacementStrategy] = []
    network_configuration: NetworkConfiguration | None = None
    health_check_grace_period_seconds: int | None = None
    scheduling_strategy: str | None = None
    deployment_controller: DeploymentController | None = None
    tags: Tags = {}
    enable_ecs_managed_tags: bool | None = Field(default=None, alias="enableECSManagedTags")
    propagate_tags: str | None = None
    enable_execute_command: bool | None = None
    availability_zone_rebalancing: str | None = None

    @field_validator("events", mode="before")
    @classmethod
    def _keep_recent_events(cls, value: Any) -> Any:
        # DescribeServices returns up to 100 events; the newest few are all a report needs.
        return value[:10] if isinstance(value, list) else value

    @property
    def all_load_balancers(self) -> list[LoadBalancer]:
        """The service's load balancer entries, including its task sets' (CODE_DEPLOY, EXTERNAL)."""
        return [*self.load_balancers, *(lb for task_set in self.task_sets for lb in task_set.load_balancers)]

    @property
    def effective_launch_type(self) -> str:
        return effective_launch_type(self.launch_type, [p.capacity_provider for p in self.capacity_provider_strategy])

    @property
    def controller_type(self) -> str:
        return self.deployment_controller.type if self.deployment_controller else "ECS"

    @property
    def service_connect(self) -> ServiceConnectConfiguration | None:
        """Service Connect is reported per deployment; the primary deployment's counts."""
        for deployment in self.deployments:
            if deployment.status == "PRIMARY" and deployment.service_connect_configuration:
                return deployment.service_connect_configuration
        for deployment in self.deployments:
            if deployment.service_connect_configuration:
                return deployment.service_connect_configuration
        return None


# --- task definitions ------------------------------------------------------------------------


class HealthCheck(AwsShape):
    command: list[str] = []
    interval: int | None = None
    timeout: int | None = None
    retries: int | None = None
    start_period: int | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _scrub(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [scrub_text(str(part)) for part in value]
        return value


class KernelCapabilities(AwsShape):
    add: list[str] = []
    drop: list[str] = []


class LinuxParameters(AwsShape):
    capabilities: KernelCapabilities | None = None
    init_process_enabled: bool | None = None
    shared_memory_size: int | None = None


class EnvironmentVariable(AwsShape):
    """A container environment variable without its value.

    Validating from an API response ({name, value}) classifies the value and drops it; validating
    from a snapshot ({name, valueFlags}) keeps the stored flags.
    """

    name: str
    value_flags: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _drop_value(cls, data: Any) -> Any:
        if isinstance(data, dict) and "value" in data:
            data = dict(data)
            value = data.pop("value")
            data["valueFlags"] = classify_value(None if value is None else str(value))
        return data


class SecretReference(AwsShape):
    name: str
    value_from: str


class LogConfiguration(AwsShape):
    log_driver: str | None = None
    options: dict[str, str] = {}
    secret_options: list[SecretReference] = []

    @field_validator("options", mode="before")
    @classmethod
    def _redact(cls, value: Any) -> Any:
        return redact_options(value) if isinstance(value, dict) else value


class FirelensConfiguration(AwsShape):
    type: str | None = None


class PortMapping(AwsShape):
    container_port: int | None = None
    host_port: int | None = None
    protocol: str | None = None
    name: str | None = None
    app_protocol: str | None = None


class MountPoint(AwsShape):
    source_volume: str | None = None
    container_path: str | None = None
    read_only: bool | None = None


class ContainerDependency(AwsShape):
    container_name: str
    condition: str | None = None


class RepositoryCredentials(AwsShape):
    credentials_parameter: str | None = None


class ContainerDefinition(AwsShape):
    name: str
    image: str = ""
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    essential: bool | None = None
    health_check: HealthCheck | None = None
    readonly_root_filesystem: bool | None = None
    privileged: bool | None = None
    user: str | None = None
    linux_parameters: LinuxParameters | None = None
    environment: list[EnvironmentVariable] = []
    secrets: list[SecretReference] = []
    log_configuration: LogConfiguration | None = None
    firelens_configuration: FirelensConfiguration | None = None
    docker_security_options: list[str] = []
    port_mappings: list[PortMapping] = []
    mount_points: list[MountPoint] = []
    depends_on: list[ContainerDependency] = []
    start_timeout: int | None = None
    stop_timeout: int | None = None
    repository_credentials: RepositoryCredentials | None = None

    @property
    def is_essential(self) -> bool:
        # The API's default for `essential` is true.
        return self.essential is not False


class HostVolumeProperties(AwsShape):
    source_path: str | None = None


class EfsAuthorizationConfig(AwsShape):
    access_point_id: str | None = None
    iam: str | None = None


class EfsVolumeConfiguration(AwsShape):
    file_system_id: str
    root_directory: str | None = None
    transit_encryption: str | None = None
    transit_encryption_port: int | None = None
    authorization_config: EfsAuthorizationConfig | None = None


class DockerVolumeConfiguration(AwsShape):
    scope: str | None = None
    autoprovision: bool | None = None
    driver: str | None = None
    # Driver options (e.g. the local driver's type/o/device, which can bind a host path): only type, device
    # and the option names in `o` are kept; every other value is redacted (a CIFS password hides in many).
    driver_opts: dict[str, str] = {}

    @field_validator("driver_opts", mode="before")
    @classmethod
    def _redact(cls, value: Any) -> Any:
        return redact_driver_opts(value) if isinstance(value, dict) else value

    @property
    def bound_host_path(self) -> str | None:
        """The host path a `local` driver volume binds (driverOpts type none, o bind or rbind, device PATH):
        Docker's way of bind-mounting through a named volume."""
        if (self.driver or "local") != "local":
            return None
        options = {k.lower(): str(v) for k, v in self.driver_opts.items()}
        if not {"bind", "rbind"} & {o.strip().lower() for o in options.get("o", "").split(",")}:
            return None
        return options.get("device") or None


class Volume(AwsShape):
    name: str | None = None
    host: HostVolumeProperties | None = None
    efs_volume_configuration: EfsVolumeConfiguration | None = None
    docker_volume_configuration: DockerVolumeConfiguration | None = None
    configured_at_launch: bool | None = None


class ProxyConfiguration(AwsShape):
    type: str | None = None
    container_name: str | None = None
    properties: list[NameValue] = []


class RuntimePlatform(AwsShape):
    cpu_architecture: str | None = None
    operating_system_family: str | None = None


class EphemeralStorage(AwsShape):
    size_in_gib: int | None = Field(default=None, alias="sizeInGiB")


class TaskDefinition(AwsShape):
    task_definition_arn: str
    family: str
    revision: int
    status: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    network_mode: str | None = None
    container_definitions: list[ContainerDefinition] = []
    volumes: list[Volume] = []
    requires_compatibilities: list[str] = []
    compatibilities: list[str] = []
    cpu: str | None = None
    memory: str | None = None
    pid_mode: str | None = None
    ipc_mode: str | None = None
    proxy_configuration: ProxyConfiguration | None = None
    runtime_platform: RuntimePlatform | None = None
    ephemeral_storage: EphemeralStorage | None = None
    registered_at: datetime | None = None
    registered_by: str | None = None
    deregistered_at: datetime | None = None
    tags: Tags = {}

    @property
    def family_revision(self) -> str:
        return f"{self.family}:{self.revision}"

    @property
    def os_family(self) -> str:
        """LINUX unless the runtime platform names a Windows family."""
        family = (self.runtime_platform.operating_system_family if self.runtime_platform else None) or "LINUX"
        return "WINDOWS" if family.upper().startswith("WINDOWS") else "LINUX"

    def container(self, name: str) -> ContainerDefinition | None:
        for container in self.container_definitions:
            if container.name == name:
                return container
        return None


# --- tasks -----------------------------------------------------------------------------------


class TaskContainer(AwsShape):
    name: str | None = None
    image: str | None = None
    image_digest: str | None = None
    last_status: str | None = None
    health_status: str | None = None


class Attachment(AwsShape):
    type: str | None = None
    status: str | None = None
    details: list[NameValue] = []


class Task(AwsShape):
    task_arn: str
    cluster_arn: str | None = None
    task_definition_arn: str | None = None
    container_instance_arn: str | None = None
    group: str | None = None
    started_by: str | None = None
    launch_type: str | None = None
    capacity_provider_name: str | None = None
    platform_version: str | None = None
    platform_family: str | None = None
    availability_zone: str | None = None
    last_status: str | None = None
    desired_status: str | None = None
    health_status: str | None = None
    containers: list[TaskContainer] = []
    attachments: list[Attachment] = []
    enable_execute_command: bool | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None

    @property
    def effective_launch_type(self) -> str:
        return effective_launch_type(self.launch_type, [self.capacity_provider_name] if self.capacity_provider_name else [])

    @property
    def service_name(self) -> str | None:
        """Tasks started by a service carry the group `service:<name>`."""
        if self.group and self.group.startswith("service:"):
            return self.group.split(":", 1)[1]
        return None


# --- container instances (EC2 capacity) ------------------------------------------------------


class VersionInfo(AwsShape):
    agent_version: str | None = None
    agent_hash: str | None = None
    docker_version: str | None = None


class ContainerInstanceAttribute(AwsShape):
    name: str
    value: str | None = None


class ContainerInstance(AwsShape):
    container_instance_arn: str
    ec2_instance_id: str | None = None
    status: str | None = None
    agent_connected: bool | None = None
    version_info: VersionInfo | None = None
    attributes: list[ContainerInstanceAttribute] = []
    capacity_provider_name: str | None = None
    running_tasks_count: int | None = None
    registered_at: datetime | None = None

    @property
    def ami_id(self) -> str | None:
        """The instance's AMI, from the agent-reported attribute `ecs.ami-id`."""
        for attribute in self.attributes:
            if attribute.name == "ecs.ami-id":
                return attribute.value
        return None


# --- capacity providers and account settings -------------------------------------------------


class ManagedScaling(AwsShape):
    status: str | None = None
    target_capacity: int | None = None


class AutoScalingGroupProvider(AwsShape):
    auto_scaling_group_arn: str | None = None
    managed_scaling: ManagedScaling | None = None
    managed_termination_protection: str | None = None
    managed_draining: str | None = None


class CapacityProvider(AwsShape):
    capacity_provider_arn: str | None = None
    name: str
    status: str | None = None
    type: str | None = None
    auto_scaling_group_provider: AutoScalingGroupProvider | None = None
    tags: Tags = {}


MANAGED_INSTANCES = "MANAGED_INSTANCES"  # launch type and capacity provider type of ECS Managed Instances


# The ECS calls that read a cluster's managed daemons (collect/ecs.py).
DAEMON_OPERATIONS = ("ListDaemons", "DescribeDaemon", "DescribeDaemonRevisions")


def provider_keys(providers: Iterable[CapacityProvider]) -> set[str]:
    """The names and ARNs of described capacity providers: a cluster lists its providers by either."""
    return {key for p in providers for key in (p.name, p.capacity_provider_arn) if key}


def managed_instances_clusters(clusters: list[Cluster], providers: list[CapacityProvider]) -> list[Cluster]:
    """The clusters with an ECS Managed Instances capacity provider (by name or ARN), as described:
    only there can ECS managed daemons run, and only there are they read."""
    managed = provider_keys(p for p in providers if p.type == MANAGED_INSTANCES)
    return [c for c in clusters if managed.intersection(c.capacity_providers)]


class DaemonRevision(AwsShape):
    """One current revision of a managed daemon: where it runs and what it runs (DescribeDaemon's
    currentRevisions with DescribeDaemonRevisions' containerImages)."""

    arn: str
    capacity_providers: list[str] = []  # capacity provider ARNs it runs on
    # Capacity provider ARN -> instances running without the daemon task (withoutDaemonCount; only a
    # daemon that is not critical leaves an instance running without it), where there are any.
    instances_without: dict[str, int] = {}
    images: list[str] = []


class DaemonContainerImage(AwsShape):
    container_name: str | None = None
    image: str | None = None


class DaemonRevisionImages(AwsShape):
    """A DescribeDaemonRevisions item, as far as it is read: its container images."""

    daemon_revision_arn: str
    container_images: list[DaemonContainerImage] = []


class Daemon(AwsShape):
    """An ECS Managed Daemon: one task on every ECS Managed Instances instance of its capacity providers."""

    daemon_arn: str
    cluster_arn: str | None = None
    status: str | None = None
    revisions: list[DaemonRevision] = []

    @property
    def images(self) -> list[str]:
        return sorted({image for revision in self.revisions for image in revision.images})


class AccountSetting(AwsShape):
    name: str
    value: str | None = None
    principal_arn: str | None = None
    type: str | None = None


# --- history of in-use families (for rollback targets and lingering secrets) -----------------


class RevisionEnvironment(Record):
    """An older revision, reduced to what history checks need: its containers' images and plain
    environment variables (names and flags, never values)."""

    task_definition_arn: str
    revision: int
    status: str
    containers: dict[str, list[EnvironmentVariable]] = {}
    images: dict[str, str] = {}


class FamilyHistory(Record):
    family: str
    active_revisions: list[int] = []
    inactive_revisions: list[int] = []
    # Older revisions that were described, newest first; `history_truncated` says some were not.
    older_revisions: list[RevisionEnvironment] = []
    history_truncated: bool = False
    # The revisions (other than the in-use ones) that were not described: beyond history_depth or
    # history_region_budget, or whose DescribeTaskDefinition failed (recorded; also in
    # failed_revisions). Empty in snapshots from before this was kept.
    unread_revisions: list[int] = []
    failed_revisions: list[int] = []
    # The configured limits that left revisions unread, e.g. "history_depth 100".
    unread_limit: str = ""  # or "not selected": no selected check needed the history (not read)

    @property
    def latest_active(self) -> int | None:
        return max(self.active_revisions) if self.active_revisions else None


class EcsInventory(Record):
    clusters: list[Cluster] = []
    services: list[Service] = []
    task_definitions: list[TaskDefinition] = []
    tasks: list[Task] = []
    # Keyed by cluster ARN: instances are listed per cluster.
    container_instances: dict[str, list[ContainerInstance]] = {}
    capacity_providers: list[CapacityProvider] = []
    account_settings: list[AccountSetting] = []
    families: list[FamilyHistory] = []
    # Managed daemons of the clusters with ECS Managed Instances capacity providers (SECURITY-011).
    daemons: list[Daemon] = []
    # Task definitions that `ecs-audit review --live` is about to deploy: in use for what is collected
    # about them (their images' repositories and scans), though nothing runs them yet.
    under_review: list[str] = []

    def in_use_task_definition_arns(self) -> set[str]:
        """Task definitions in use (inventory/usage.py: ACTIVE services' own, deployments' and task sets',
        running tasks'), and those under review; the latest revisions of idle families are read but not in use."""
        from ecs_audit.inventory.usage import in_use_arns  # usage.py builds on this module's models

        return set(self.under_review) | in_use_arns(self.services, self.tasks)
