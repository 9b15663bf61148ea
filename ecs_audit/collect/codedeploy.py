"""AWS CodeDeploy: the deployment groups that deploy the region's CODE_DEPLOY services.

Nothing is called unless some service uses the CODE_DEPLOY deployment controller. Then, per region:
a paginated ListApplications, BatchGetApplications per 100 applications (to keep the ECS ones), a
paginated ListDeploymentGroups per ECS application and BatchGetDeploymentGroups per 100 of its groups.
CodeDeploy cannot be asked "which group deploys this service", so every ECS application is read; a
failure anywhere is recorded against all CODE_DEPLOY services (any of them could be the one affected).
"""

from __future__ import annotations

from pydantic import ValidationError

from ecs_audit.collect.base import CollectContext, batched
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.codedeploy import CodeDeployInventory, DeploymentGroup
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("codedeploy")
SERVICE = SOURCE.client
APPLICATION_BATCH = 100  # BatchGetApplications applicationNames
GROUP_BATCH = 100  # BatchGetDeploymentGroups deploymentGroupNames (BatchLimitExceededException above 100)


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> CodeDeployInventory | None:
    if region.ecs is None:
        return None
    users = sorted(s.service_arn for s in region.ecs.services if s.status != "INACTIVE" and s.controller_type == "CODE_DEPLOY")
    if not users:
        return CodeDeployInventory(read=False)
    names = ctx.paginate(SERVICE, "ListApplications", "applications", resources=users)
    if names is None:
        return None
    ecs_applications: list[str] = []
    for batch in batched(sorted(set(names)), APPLICATION_BATCH):
        response = ctx.call(SERVICE, "BatchGetApplications", resources=users, applicationNames=batch)
        if not isinstance(response, dict):
            continue
        ecs_applications.extend(
            info["applicationName"] for info in response.get("applicationsInfo", []) if info.get("computePlatform") == "ECS"
        )
    per_application = ctx.parallel(lambda name: _deployment_groups(ctx, name, users), sorted(ecs_applications))
    groups = [g for found, _ in per_application for g in found]
    missing = [m for _, gone in per_application for m in gone]
    return CodeDeployInventory(read=True, ecs_applications=sorted(ecs_applications), deployment_groups=groups, missing_deployment_groups=missing)


def _deployment_groups(ctx: CollectContext, application: str, users: list[str]) -> tuple[list[DeploymentGroup], list[str]]:
    names = ctx.paginate(SERVICE, "ListDeploymentGroups", "deploymentGroups", resources=users, applicationName=application)
    groups: list[DeploymentGroup] = []
    missing: list[str] = []
    for batch in batched(sorted(set(names or [])), GROUP_BATCH):
        response = ctx.call(SERVICE, "BatchGetDeploymentGroups", resources=users, applicationName=application, deploymentGroupNames=batch)
        if not isinstance(response, dict):
            continue
        returned: set[str] = set()
        for item in response.get("deploymentGroupsInfo", []):
            try:
                group = DeploymentGroup.model_validate(item)
            except ValidationError as exc:
                ctx.record(SERVICE, "BatchGetDeploymentGroups", "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", users)
                continue
            returned.add(group.deployment_group_name)
            groups.append(group)
        # A group deleted since it was listed is absent, not a failure; anything else unexplained is.
        gone = [f"{application}/{n}" for n in batch if n not in returned]
        message = response.get("errorMessage") or ""
        if gone and message and "not exist" not in message.lower():
            ctx.record(SERVICE, "BatchGetDeploymentGroups", "PartialFailure", message, users)
        else:
            missing.extend(gone)
    return sorted(groups, key=lambda g: g.deployment_group_name), missing
