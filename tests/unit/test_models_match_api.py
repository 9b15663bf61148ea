"""Every field of the ECS inventory models must exist in botocore's ECS service model.

A misspelt alias would silently read as None and could turn a FAIL into a PASS; this catches it.
"""

from __future__ import annotations

import pytest
from botocore.loaders import Loader
from pydantic import BaseModel

from ecs_audit.inventory import ecs as models

# Our model -> the botocore shape it mirrors.
SHAPES = {
    models.Cluster: "Cluster",
    models.ClusterConfiguration: "ClusterConfiguration",
    models.ExecuteCommandConfiguration: "ExecuteCommandConfiguration",
    models.ExecuteCommandLogConfiguration: "ExecuteCommandLogConfiguration",
    models.ManagedStorageConfiguration: "ManagedStorageConfiguration",
    models.CapacityProviderStrategyItem: "CapacityProviderStrategyItem",
    models.Service: "Service",
    models.DeploymentConfiguration: "DeploymentConfiguration",
    models.DeploymentCircuitBreaker: "DeploymentCircuitBreaker",
    models.DeploymentAlarms: "DeploymentAlarms",
    models.DeploymentController: "DeploymentController",
    models.Deployment: "Deployment",
    models.TaskSet: "TaskSet",
    models.LoadBalancer: "LoadBalancer",
    models.ServiceRegistry: "ServiceRegistry",
    models.ServiceEvent: "ServiceEvent",
    models.PlacementStrategy: "PlacementStrategy",
    models.NetworkConfiguration: "NetworkConfiguration",
    models.AwsVpcConfiguration: "AwsVpcConfiguration",
    models.ServiceConnectConfiguration: "ServiceConnectConfiguration",
    models.TaskDefinition: "TaskDefinition",
    models.ContainerDefinition: "ContainerDefinition",
    models.HealthCheck: "HealthCheck",
    models.LinuxParameters: "LinuxParameters",
    models.KernelCapabilities: "KernelCapabilities",
    models.SecretReference: "Secret",
    models.LogConfiguration: "LogConfiguration",
    models.FirelensConfiguration: "FirelensConfiguration",
    models.PortMapping: "PortMapping",
    models.MountPoint: "MountPoint",
    models.ContainerDependency: "ContainerDependency",
    models.RepositoryCredentials: "RepositoryCredentials",
    models.Volume: "Volume",
    models.HostVolumeProperties: "HostVolumeProperties",
    models.EfsVolumeConfiguration: "EFSVolumeConfiguration",
    models.EfsAuthorizationConfig: "EFSAuthorizationConfig",
    models.DockerVolumeConfiguration: "DockerVolumeConfiguration",
    models.ProxyConfiguration: "ProxyConfiguration",
    models.RuntimePlatform: "RuntimePlatform",
    models.EphemeralStorage: "EphemeralStorage",
    models.Task: "Task",
    models.TaskContainer: "Container",
    models.Attachment: "Attachment",
    models.CapacityProvider: "CapacityProvider",
    models.AutoScalingGroupProvider: "AutoScalingGroupProvider",
    models.ManagedScaling: "ManagedScaling",
    models.AccountSetting: "Setting",
    models.ContainerInstance: "ContainerInstance",
    models.VersionInfo: "VersionInfo",
    models.ContainerInstanceAttribute: "Attribute",
    models.NameValue: "KeyValuePair",
    models.EnvironmentVariable: "KeyValuePair",
}

# Fields of ours that deliberately are not API members (derived on the way in).
DERIVED = {
    (models.EnvironmentVariable, "valueFlags"),  # the value, classified and dropped
    (models.TaskDefinition, "tags"),  # DescribeTaskDefinition returns tags beside the definition
}


@pytest.fixture(scope="module")
def shapes():
    return Loader().load_service_model("ecs", "service-2")["shapes"]


@pytest.mark.parametrize("model", list(SHAPES), ids=lambda m: m.__name__)
def test_every_field_is_an_api_member(model: type[BaseModel], shapes):
    members = set(shapes[SHAPES[model]]["members"])
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    unknown = {a for a in aliases if a not in members and (model, a) not in DERIVED}
    assert not unknown, f"{model.__name__} fields not in botocore shape {SHAPES[model]}: {sorted(unknown)}"


def test_environment_variable_is_the_api_key_value_pair(shapes):
    assert set(shapes["KeyValuePair"]["members"]) == {"name", "value"}
