"""Checks of the STORAGE area (see checks/storage.yaml)."""

from __future__ import annotations

from collections.abc import Callable

from ecs_audit.evaluation.subjects import ClusterSubject, ServiceSubject, TaskDefSubject
from ecs_audit.inventory.usage import service_task_definition_arns
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.ecs import EfsVolumeConfiguration, TaskDefinition
from ecs_audit.evaluation.network_evidence import efs_part, fs_arn, mount_targets_of, security_group, service_file_systems, service_zones
from ecs_audit.rules.registry import check


def _efs_rule(td: TaskDefinition, broken: Callable[[EfsVolumeConfiguration], bool], problem: str, good: str) -> Verdict:
    """One verdict over a task definition's EFS volumes: FAIL naming those `broken` holds for."""
    efs = {v.name or v.efs_volume_configuration.file_system_id: v.efs_volume_configuration for v in td.volumes if v.efs_volume_configuration}
    if not efs:
        return na("no EFS volumes")
    offending = sorted(name for name, config in efs.items() if broken(config))
    evidence = {"efs_volumes": sorted(efs), "offending_volumes": offending}
    if offending:
        return fail(f"EFS volumes {problem}: " + ", ".join(offending), evidence)
    return ok(f"every EFS volume ({', '.join(sorted(efs))}) {good}", evidence)


# --- the checks, in id order ----------------------------------------------------------------------


@check("STORAGE-001")
def efs_transit_encryption(t: TaskDefSubject) -> Verdict:
    # transitEncryption defaults to DISABLED.
    return _efs_rule(
        t.task_definition,
        lambda c: c.transit_encryption != "ENABLED",
        "do not encrypt in transit",
        "encrypts in transit",
    )


@check("STORAGE-002")
def efs_iam_authorization(t: TaskDefSubject) -> Verdict:
    # authorizationConfig.iam defaults to DISABLED.
    return _efs_rule(
        t.task_definition,
        lambda c: not (c.authorization_config and c.authorization_config.iam == "ENABLED"),
        "do not use IAM authorization",
        "uses IAM authorization",
    )


@check("STORAGE-003")
def efs_access_points(t: TaskDefSubject) -> Verdict:
    return _efs_rule(
        t.task_definition,
        lambda c: not (c.authorization_config and c.authorization_config.access_point_id),
        "mount without an access point",
        "mounts through an access point",
    )


# Unread task definitions raise EvidenceMissing through estate.task_definition; declaring
# ecs:DescribeTaskDefinition would also let a failed read of an older revision (family history) cover the service.
@check("STORAGE-004")
def efs_mount_target_in_every_az(s: ServiceSubject) -> Verdict:
    file_systems = service_file_systems(s)
    if not file_systems:
        return na("the service mounts no EFS volumes")
    zones = service_zones(s)
    if not zones.zones:
        return na(f"none of the service's subnets exists any more ({', '.join(zones.missing_subnets)}); see RESILIENCE-010")
    service_azs = set(zones.zones)
    problems: list[str] = []
    covered: dict[str, list[str]] = {}
    for file_system, users in file_systems.items():
        targets = mount_targets_of(s.estate, file_system)
        if targets is None:
            problems.append(f"{file_system} (mounted by {', '.join(users)}) does not exist")
            continue
        covered[file_system] = sorted({t.availability_zone_name for t in targets if t.usable and t.availability_zone_name})
        lacking = sorted(service_azs - set(covered[file_system]))
        if lacking:
            problems.append(f"{file_system} has no mount target in {', '.join(lacking)}")
    evidence = {"service_azs": zones.zones, "azs_from": zones.basis, "mount_target_azs": covered}
    if problems:
        return fail("tasks placed in some AZs cannot mount EFS: " + "; ".join(problems), evidence)
    return ok(f"every AZ the service uses ({', '.join(sorted(service_azs))}) has a mount target of {', '.join(covered)}", evidence)


@check("STORAGE-005")
def efs_mount_targets_admit_only_nfs(s: ServiceSubject) -> Verdict:
    file_systems = service_file_systems(s)
    if not file_systems:
        return na("the service mounts no EFS volumes")
    efs = efs_part(s.estate)
    problems: list[str] = []
    rules: dict[str, list[str]] = {}
    for file_system in file_systems:
        for target in mount_targets_of(s.estate, file_system) or []:
            if not target.usable:
                continue
            group_ids = efs.mount_target_security_groups.get(target.mount_target_id)
            if group_ids is None:
                s.estate.raise_if_failed("elasticfilesystem:DescribeMountTargetSecurityGroups", fs_arn(s.estate, file_system))
                raise EvidenceMissing(f"the security groups of mount target {target.mount_target_id} were not collected")
            for group_id in group_ids:
                if group_id in rules:
                    continue
                group = security_group(s.estate, group_id)
                if group is None:
                    continue  # deleted meanwhile: admits nothing
                rules[group_id] = []
                for permission in group.ip_permissions:
                    sources = [*permission.cidr_sources, *(p.group_id for p in permission.user_id_group_pairs if p.group_id)]
                    rules[group_id].append(f"{permission.ports} from {', '.join(sources) or 'nothing'}")
                    if not permission.is_nfs_only:
                        problems.append(f"{group_id} admits {permission.ports}")
                    if permission.cidr_sources:
                        problems.append(f"{group_id} admits address ranges {', '.join(permission.cidr_sources)}")
    evidence = {"file_systems": sorted(file_systems), "mount_target_security_groups": rules}
    if problems:
        return fail("EFS mount targets admit more than NFS from security groups: " + "; ".join(dict.fromkeys(problems)), evidence)
    if not rules:
        return na("the file systems have no mount targets to admit anything (see STORAGE-004)", evidence)
    return ok(f"mount targets admit only NFS (TCP 2049) from security groups: {', '.join(sorted(rules))}", evidence)


@check("STORAGE-006")
def managed_storage_customer_key(c: ClusterSubject) -> Verdict:
    estate = c.estate
    services = [s for s in c.services if s.status != "INACTIVE"]
    runs_fargate = any(
        s.effective_launch_type == "FARGATE"
        for s in services
    ) or any(
        t.effective_launch_type == "FARGATE"
        for t in c.tasks
    )
    references = {arn for s in services for arn in service_task_definition_arns(s)}
    references |= {t.task_definition_arn for t in c.tasks if t.task_definition_arn}
    ebs_users: set[str] = set()
    unreadable: list[EvidenceMissing] = []
    for reference in sorted(references):
        try:
            td = estate.task_definition(reference)
        except EvidenceMissing as missing:
            unreadable.append(missing)
            continue
        if any(v.configured_at_launch for v in td.volumes):
            ebs_users.add(td.family_revision)

    storage = c.cluster.configuration.managed_storage_configuration if c.cluster.configuration else None
    fargate_key = storage.fargate_ephemeral_storage_kms_key_id if storage else None
    ebs_key = storage.kms_key_id if storage else None
    evidence = {
        "runs_fargate": runs_fargate,
        "managed_ebs_task_definitions": sorted(ebs_users),
        "fargate_ephemeral_storage_kms_key_id": fargate_key,
        "kms_key_id": ebs_key,
    }
    problems = []
    if runs_fargate and not fargate_key:
        problems.append("Fargate ephemeral storage has no customer-managed key (fargateEphemeralStorageKmsKeyId)")
    if ebs_users and not ebs_key:
        problems.append(f"managed EBS volumes ({', '.join(sorted(ebs_users))}) have no customer-managed key (kmsKeyId)")
    if problems:
        return warn("; ".join(problems), evidence)
    if unreadable and not ebs_key:
        # An unread task definition may configure managed EBS volumes.
        raise unreadable[0]
    # With the key set, any managed EBS volume of an unread task definition is covered.
    uses_ebs = bool(ebs_users or unreadable)
    if not runs_fargate and not uses_ebs:
        return na("the cluster runs neither Fargate tasks nor managed EBS volumes", evidence)
    ebs_label = "managed EBS volumes" if ebs_users else "any managed EBS volumes (some task definitions were not read)"
    covered = [what for what, used in (("Fargate ephemeral storage", runs_fargate), (ebs_label, uses_ebs)) if used]
    return ok("a customer-managed key covers " + " and ".join(covered), evidence)
