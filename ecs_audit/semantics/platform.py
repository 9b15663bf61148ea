"""Which operating system a task definition runs and where its tasks run (Fargate, EC2, External).

Task definitions for EC2 Windows usually leave runtimePlatform unset, so the operating system is
decided from the best evidence available, in this order: the task definition's runtimePlatform, the
platformFamily its tasks report, the `ecs.os-type` attribute of the container instances its tasks
run on, and Windows base images (mcr.microsoft.com/windows/..., nanoserver/servercore variants).
ECS Anywhere instances (managed-instance ids `mi-...`, launch type EXTERNAL) are not EC2. ECS Managed
Instances (capacity providers of type MANAGED_INSTANCES, with `i-` instances) are told apart by
RegionView.placements, which knows the capacity providers' types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecs_audit.inventory.ecs import ContainerInstance, Task, TaskDefinition
from ecs_audit.semantics.network_placement import is_external_instance

LINUX = "LINUX"
WINDOWS = "WINDOWS"
FARGATE = "FARGATE"
EC2 = "EC2"
EXTERNAL = "EXTERNAL"

# Windows base images and the tag markers of Windows variants of multi-OS images (e.g.
# mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022).
_WINDOWS_REPOSITORY_PREFIXES = (
    "mcr.microsoft.com/windows/",
    "mcr.microsoft.com/windows:",
    "mcr.microsoft.com/dotnet/framework/",
)
# Repositories that publish only Windows images, whatever the tag (mcr.microsoft.com/iis:latest is Server Core).
_WINDOWS_ONLY_REPOSITORIES = ("mcr.microsoft.com/iis",)
_WINDOWS_MARKERS = ("nanoserver", "servercore", "windowsservercore", "ltsc2019", "ltsc2022", "ltsc2025")


def image_is_windows(image: str | None) -> bool:
    text = (image or "").strip().lower()
    if not text:
        return False
    if text.startswith(_WINDOWS_REPOSITORY_PREFIXES):
        return True
    if text.split("@", 1)[0].rsplit(":", 1)[0] in _WINDOWS_ONLY_REPOSITORIES:
        return True
    name = text.rsplit("/", 1)[-1]
    return any(marker in name for marker in _WINDOWS_MARKERS)


def os_from_family(family: str | None) -> str | None:
    """LINUX or WINDOWS from a runtimePlatform operatingSystemFamily or a task's platformFamily."""
    if not family:
        return None
    return WINDOWS if family.strip().upper().startswith("WINDOWS") else LINUX


def instance_os(instance: ContainerInstance) -> str | None:
    for attribute in instance.attributes:
        if attribute.name == "ecs.os-type" and attribute.value:
            return WINDOWS if attribute.value.strip().lower() == "windows" else LINUX
    return None


def task_launch_type(task: Task, instances: dict[str, ContainerInstance]) -> str:
    """FARGATE, EC2 or EXTERNAL for one task ("" if unknown); a task on an mi- instance is EXTERNAL."""
    instance = instances.get(task.container_instance_arn or "")
    if instance is not None and is_external_instance(instance):
        return EXTERNAL
    return task.effective_launch_type


@dataclass(frozen=True)
class OsDecision:
    os: str
    source: str  # which evidence decided, for the finding's evidence

    @property
    def is_windows(self) -> bool:
        return self.os == WINDOWS


def decide_os(td: TaskDefinition, tasks: Iterable[Task] = (), instances: dict[str, ContainerInstance] | None = None) -> OsDecision:
    """The task definition's operating system from the strongest evidence available."""
    declared = os_from_family(td.runtime_platform.operating_system_family if td.runtime_platform else None)
    if declared:
        return OsDecision(declared, "runtimePlatform")
    tasks = list(tasks)
    for task in tasks:
        reported = os_from_family(task.platform_family)
        if reported:
            return OsDecision(reported, "task platformFamily")
    for task in tasks:
        instance = (instances or {}).get(task.container_instance_arn or "")
        found = instance_os(instance) if instance is not None else None
        if found:
            return OsDecision(found, "container instance ecs.os-type")
    if any(image_is_windows(c.image) for c in td.container_definitions):
        return OsDecision(WINDOWS, "Windows base image")
    return OsDecision(LINUX, "default")
