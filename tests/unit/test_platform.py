"""The one helper deciding a task definition's operating system and where its tasks run."""

from __future__ import annotations

import pytest

from ecs_audit.inventory.ecs import ContainerInstance, Task, TaskDefinition
from ecs_audit.semantics.platform import EC2, EXTERNAL, FARGATE, LINUX, WINDOWS, decide_os, image_is_windows, task_launch_type

ARN = "arn:aws:ecs:us-east-1:123456789012:"


def _td(image: str = "app:1", runtime_platform: dict | None = None) -> TaskDefinition:
    body = {"taskDefinitionArn": f"{ARN}task-definition/a:1", "family": "a", "revision": 1, "containerDefinitions": [{"name": "c", "image": image}]}
    if runtime_platform:
        body["runtimePlatform"] = runtime_platform
    return TaskDefinition.model_validate(body)


def _task(**fields) -> Task:
    return Task.model_validate({"taskArn": f"{ARN}task/c/1", "taskDefinitionArn": f"{ARN}task-definition/a:1", **fields})


def _instance(instance_id: str, os_type: str | None = None) -> ContainerInstance:
    attributes = [{"name": "ecs.os-type", "value": os_type}] if os_type else []
    return ContainerInstance.model_validate({"containerInstanceArn": f"{ARN}container-instance/c/1", "ec2InstanceId": instance_id, "attributes": attributes})


@pytest.mark.parametrize(
    ("image", "windows"),
    [
        ("mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022", True),
        ("mcr.microsoft.com/windows/nanoserver:ltsc2022", True),
        ("mcr.microsoft.com/dotnet/framework/aspnet:4.8", True),
        ("mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022", True),
        ("mcr.microsoft.com/dotnet/aspnet:8.0", False),
        ("mcr.microsoft.com/iis", True),
        ("mcr.microsoft.com/iis:latest", True),
        ("mcr.microsoft.com/iisnode:1", False),
        ("public.ecr.aws/nginx/nginx:1.25", False),
        ("", False),
    ],
)
def test_windows_base_images(image, windows):
    assert image_is_windows(image) is windows


def test_runtime_platform_decides_first():
    decided = decide_os(_td("mcr.microsoft.com/windows/nanoserver:ltsc2022", {"operatingSystemFamily": "LINUX"}))
    assert (decided.os, decided.source) == (LINUX, "runtimePlatform")


def test_task_platform_family_then_instance_os_type_then_image():
    td = _td()
    assert decide_os(td, [_task(platformFamily="WINDOWS_SERVER_2019_FULL")]).os == WINDOWS
    instance = _instance("i-0123456789abcdef0", "windows")
    decided = decide_os(td, [_task(containerInstanceArn=instance.container_instance_arn)], {instance.container_instance_arn: instance})
    assert (decided.os, decided.source) == (WINDOWS, "container instance ecs.os-type")
    assert decide_os(_td("mcr.microsoft.com/windows/servercore:ltsc2022")).source == "Windows base image"
    assert decide_os(td) .os == LINUX


def test_launch_type_of_a_task_on_an_ecs_anywhere_instance_is_external():
    external = _instance("mi-0123456789abcdef0")
    ec2 = _instance("i-0123456789abcdef0")
    task = _task(launchType="EC2", containerInstanceArn=external.container_instance_arn)
    assert task_launch_type(task, {external.container_instance_arn: external}) == EXTERNAL
    assert task_launch_type(task, {ec2.container_instance_arn: ec2}) == EC2
    assert task_launch_type(_task(capacityProviderName="FARGATE_SPOT"), {}) == FARGATE
