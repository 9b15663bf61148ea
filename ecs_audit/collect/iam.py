"""AWS IAM (global): the task and execution roles of audited task definitions, and their policies.

Runs once per account, after every region's ECS collection, for the roles the task definitions of
all regions reference (in-use revisions and the latest revision of other families: the ones TASKDEF
checks evaluate). Cost: per distinct role GetRole, a paginated ListAttachedRolePolicies, a paginated
ListRolePolicies and GetRolePolicy per inline policy; per distinct attached managed policy (shared
across roles) GetPolicy and GetPolicyVersion of its default version, once. A role that GetRole says
does not exist (NoSuchEntity) is recorded as missing, not as an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ecs_audit.collect.base import ABSENT, CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.iam import (
    AttachedPolicy,
    IamInventory,
    IamRole,
    InlinePolicy,
    ManagedPolicy,
    Policy,
    Role,
    role_account,
    role_arn,
    role_name,
)
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("iam")
SERVICE = SOURCE.client
PAGE_SIZE = 1000  # MaxItems max for the IAM list calls


def referenced_roles(ctx: CollectContext, regions: list[RegionInventory]) -> list[str]:
    """ARNs of the task and execution roles of every region's audited task definitions."""
    arns: set[str] = set()
    for region in regions:
        if region.ecs is None:
            continue
        for td in region.ecs.task_definitions:
            for reference in (td.task_role_arn, td.execution_role_arn):
                if reference:
                    arns.add(role_arn(reference, ctx.partition, ctx.account_id))
    return sorted(arns)


def _malformed(ctx: CollectContext, operation: str, exc: ValidationError, resources: Iterable[str]) -> None:
    ctx.record(SERVICE, operation, "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", resources)


def _read_role(ctx: CollectContext, arn: str) -> IamRole | Any:
    """The role with its policy lists, ABSENT if it does not exist, None if GetRole failed."""
    name = role_name(arn)
    response = ctx.call(SERVICE, "GetRole", resources=[arn], absent_codes=("NoSuchEntity",), RoleName=name)
    if response is ABSENT or not isinstance(response, dict):
        return response
    try:
        role = Role.model_validate(response.get("Role", {}))
    except ValidationError as exc:
        _malformed(ctx, "GetRole", exc, [arn])
        return None

    # Both lists at once; then every inline policy at once.
    attached_items, inline_names = ctx.parallel(
        lambda step: step(),
        [
            lambda: ctx.paginate(
                SERVICE, "ListAttachedRolePolicies", "AttachedPolicies", resources=[arn], RoleName=name, PaginationConfig={"PageSize": PAGE_SIZE}
            ),
            lambda: ctx.paginate(
                SERVICE, "ListRolePolicies", "PolicyNames", resources=[arn], RoleName=name, PaginationConfig={"PageSize": PAGE_SIZE}
            ),
        ],
    )
    attached: list[AttachedPolicy] | None = None
    if attached_items is not None:
        try:
            attached = [AttachedPolicy.model_validate(item) for item in attached_items]
        except ValidationError as exc:
            _malformed(ctx, "ListAttachedRolePolicies", exc, [arn])

    inline: list[InlinePolicy] | None = None
    if inline_names is not None:
        inline = ctx.parallel(lambda policy_name: _read_inline_policy(ctx, arn, name, policy_name), sorted(set(inline_names)))
    return IamRole(arn=arn, role=role, attached_policies=attached, inline_policies=inline)


def _read_inline_policy(ctx: CollectContext, arn: str, name: str, policy_name: str) -> InlinePolicy:
    response = ctx.call(SERVICE, "GetRolePolicy", resources=[arn], RoleName=name, PolicyName=policy_name)
    if not isinstance(response, dict):
        return InlinePolicy(name=policy_name)
    try:
        return InlinePolicy(name=policy_name, document=response.get("PolicyDocument"))
    except (ValidationError, ValueError) as exc:
        ctx.record(SERVICE, "GetRolePolicy", "MalformedResponse", f"unparseable policy document: {exc}", [arn])
        return InlinePolicy(name=policy_name)


def _read_managed_policy(ctx: CollectContext, policy_arn: str, users: list[str]) -> ManagedPolicy | None:
    """A managed policy and its default version's document; failures recorded against every role using it."""
    resources = [policy_arn, *users]
    response = ctx.call(SERVICE, "GetPolicy", resources=resources, PolicyArn=policy_arn)
    if not isinstance(response, dict):
        return None
    try:
        policy = Policy.model_validate(response.get("Policy", {}))
    except ValidationError as exc:
        _malformed(ctx, "GetPolicy", exc, resources)
        return None
    if not policy.default_version_id:
        ctx.record(SERVICE, "GetPolicy", "MalformedResponse", "the policy has no DefaultVersionId", resources)
        return ManagedPolicy(policy=policy)
    version = ctx.call(
        SERVICE, "GetPolicyVersion", resources=resources, PolicyArn=policy_arn, VersionId=policy.default_version_id
    )
    if not isinstance(version, dict):
        return ManagedPolicy(policy=policy)
    try:
        return ManagedPolicy(policy=policy, document=version.get("PolicyVersion", {}).get("Document"))
    except (ValidationError, ValueError) as exc:
        ctx.record(SERVICE, "GetPolicyVersion", "MalformedResponse", f"unparseable policy document: {exc}", resources)
        return ManagedPolicy(policy=policy)


def collect(ctx: CollectContext, config: AuditConfig, regions: list[RegionInventory]) -> IamInventory | None:
    referenced = referenced_roles(ctx, regions)
    # Roles of another account (or partition) cannot be read with this account's credentials.
    local = [arn for arn in referenced if role_account(arn) == ctx.account_id and arn.split(":")[1] == ctx.partition]
    not_read = [arn for arn in referenced if arn not in local]

    results = ctx.parallel(lambda arn: _read_role(ctx, arn), local)
    roles = [r for r in results if isinstance(r, IamRole)]
    missing = [arn for arn, r in zip(local, results) if r is ABSENT]

    users: dict[str, list[str]] = {}
    for role in roles:
        for attached in role.attached_policies or []:
            users.setdefault(attached.policy_arn, []).append(role.arn)
    policy_arns = sorted(users)
    policies = ctx.parallel(lambda arn: _read_managed_policy(ctx, arn, users[arn]), policy_arns)

    return IamInventory(
        roles=roles,
        missing_roles=missing,
        policies=[p for p in policies if p is not None],
        not_read=not_read,
    )
