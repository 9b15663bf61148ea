"""Amazon EFS: the mount targets of file systems that in-use task definitions mount, and each mount
target's security groups.

Cost per region: one paginated DescribeMountTargets per distinct file system, one
DescribeMountTargetSecurityGroups per mount target that exists (neither API takes a batch).
FileSystemNotFound is evidence (the volume's file system is gone), recorded in `missing_file_systems`.
"""

from __future__ import annotations

from ecs_audit.collect.base import ABSENT, CollectContext
from ecs_audit.collect.pages import pages, validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.efs import EfsInventory, MountTarget, file_system_arn
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("efs")
SERVICE = SOURCE.client


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> EfsInventory | None:
    if region.ecs is None:
        return None
    usage = region.task_definition_usage
    file_systems = sorted(
        {
            volume.efs_volume_configuration.file_system_id
            for td in region.ecs.task_definitions
            if usage.is_in_use(td)
            for volume in td.volumes
            if volume.efs_volume_configuration is not None
        }
    )
    described = ctx.parallel(lambda fs: _mount_targets(ctx, fs), file_systems)
    mount_targets = {fs: found for fs, found in zip(file_systems, described) if isinstance(found, list)}
    missing = sorted(fs for fs, found in zip(file_systems, described) if found is ABSENT)
    usable = [mt for found in mount_targets.values() for mt in found if mt.usable]
    groups = ctx.parallel(lambda mt: _security_groups(ctx, mt), usable)
    return EfsInventory(
        mount_targets=mount_targets,
        mount_target_security_groups={mt.mount_target_id: found for mt, found in zip(usable, groups) if found is not None},
        missing_file_systems=missing,
    )


def _arn(ctx: CollectContext, file_system_id: str) -> str:
    return file_system_arn(ctx.partition, ctx.region, ctx.account_id, file_system_id)


def _mount_targets(ctx: CollectContext, file_system_id: str):
    resource = _arn(ctx, file_system_id)
    items = pages(
        ctx,
        SERVICE,
        "DescribeMountTargets",
        "MountTargets",
        input_token="Marker",
        output_token="NextMarker",
        resources=[resource],
        absent_codes=("FileSystemNotFound",),
        FileSystemId=file_system_id,
    )
    if not isinstance(items, list):
        return items  # ABSENT or None
    targets = [validated(ctx, SERVICE, "DescribeMountTargets", MountTarget, item, [resource]) for item in items]
    if any(target is None for target in targets):
        return None
    return sorted(targets, key=lambda t: t.mount_target_id)


def _security_groups(ctx: CollectContext, mount_target: MountTarget) -> list[str] | None:
    response = ctx.call(
        SERVICE,
        "DescribeMountTargetSecurityGroups",
        # IAM evaluates this call on the mount target's file system: failures are recorded against it.
        resources=[_arn(ctx, mount_target.file_system_id)],
        absent_codes=("MountTargetNotFound",),
        MountTargetId=mount_target.mount_target_id,
    )
    if not isinstance(response, dict):
        return None
    return sorted(response.get("SecurityGroups", []))
