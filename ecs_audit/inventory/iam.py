"""AWS IAM (account-wide): the task and execution roles of audited task definitions and their policies.

IAM responses are PascalCase, so these shapes use a PascalCase alias generator. Policy documents are
kept as parsed JSON (the API returns them URL-encoded; botocore usually decodes them already).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import BeforeValidator

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape


class PermissionsBoundary(PascalShape):
    permissions_boundary_type: str | None = None
    permissions_boundary_arn: str | None = None


class Role(PascalShape):
    role_name: str
    arn: str
    path: str | None = None
    permissions_boundary: PermissionsBoundary | None = None


class AttachedPolicy(PascalShape):
    policy_name: str | None = None
    policy_arn: str


class Policy(PascalShape):
    policy_name: str | None = None
    arn: str
    default_version_id: str | None = None


def parse_policy_document(value: Any) -> Any:
    """A policy document as a dict, from a dict or a (possibly URL-encoded) JSON string."""
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            text = unquote(text)
        return json.loads(text)
    return value


PolicyDocument = Annotated[dict[str, Any] | None, BeforeValidator(parse_policy_document)]


class InlinePolicy(Record):
    name: str
    # None when GetRolePolicy failed (the failure is recorded against the role).
    document: PolicyDocument = None


class ManagedPolicy(Record):
    """A managed policy attached to an audited role, with its default version's document."""

    policy: Policy
    # None when GetPolicy or GetPolicyVersion failed (recorded against the roles that attach it).
    document: PolicyDocument = None


class IamRole(Record):
    """A role as read: GetRole, then its attached and inline policies.

    `attached_policies` / `inline_policies` are None when the list call failed (recorded)."""

    arn: str
    role: Role
    attached_policies: list[AttachedPolicy] | None = None
    inline_policies: list[InlinePolicy] | None = None


class IamInventory(Record):
    """The roles audited task definitions reference (all regions), each read once."""

    roles: list[IamRole] = []
    # Role ARNs for which GetRole answered NoSuchEntity: the role was deleted.
    missing_roles: list[str] = []
    # Managed policies attached to the roles above, each read once.
    policies: list[ManagedPolicy] = []
    # Referenced role ARNs that were deliberately not read (another account or partition).
    not_read: list[str] = []

    def role(self, arn: str) -> IamRole | None:
        for role in self.roles:
            if role.arn == arn:
                return role
        return None

    def policy(self, arn: str) -> ManagedPolicy | None:
        for policy in self.policies:
            if policy.policy.arn == arn:
                return policy
        return None


def role_arn(reference: str, partition: str, account_id: str) -> str:
    """The ARN of a task definition's role reference (an ARN, or a role name in the same account)."""
    if reference.startswith("arn:"):
        return reference
    return f"arn:{partition}:iam::{account_id}:role/{reference.lstrip('/')}"


def role_name(arn: str) -> str:
    """GetRole takes the name without the path: arn:aws:iam::1:role/service-role/x -> x."""
    return arn.rsplit("/", 1)[-1]


def role_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""
