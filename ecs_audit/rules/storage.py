"""Checks of the STORAGE area (see checks/storage.yaml)."""

from __future__ import annotations

from collections.abc import Callable

from ecs_audit.estate import ClusterSubject, TaskDefSubject, service_task_definition_arns
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, warn
from ecs_audit.inventory.ecs import EfsVolumeConfiguration, TaskDefinition
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


@check("STORAGE-006", needs=("ecs:ListServices", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"))
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
