"""Amazon EFS: the mount targets (and their security groups) of file systems that in-use task
definitions mount."""

from __future__ import annotations

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape


class MountTarget(PascalShape):
    mount_target_id: str
    file_system_id: str
    subnet_id: str | None = None
    vpc_id: str | None = None
    availability_zone_name: str | None = None
    availability_zone_id: str | None = None
    life_cycle_state: str | None = None

    @property
    def usable(self) -> bool:
        """A mount target that exists or is being created (not one being deleted)."""
        return self.life_cycle_state not in ("deleting", "deleted")


class EfsInventory(Record):
    """Maps keyed by id hold only what was read: a missing key means "not read"."""

    # File system id -> its mount targets (DescribeMountTargets).
    mount_targets: dict[str, list[MountTarget]] = {}
    # Mount target id -> its security group ids (DescribeMountTargetSecurityGroups).
    mount_target_security_groups: dict[str, list[str]] = {}
    # File systems task definitions mount that do not exist (FileSystemNotFound).
    missing_file_systems: list[str] = []


def file_system_arn(partition: str, region: str, account_id: str, file_system_id: str) -> str:
    """The ARN failures of calls about a file system (and its mount targets) are recorded against."""
    if file_system_id.startswith("arn:"):
        return file_system_id
    return f"arn:{partition}:elasticfilesystem:{region}:{account_id}:file-system/{file_system_id}"
