"""Reading IAM policy documents for over-privilege (SECURITY-009, SECURITY-010).

Only Allow statements grant anything. A statement applies to every resource when its Resource is "*"
(alone or in a list) or when it uses NotResource. Actions may be a string or a list; NotAction
allows everything but the listed actions, so it counts as broad. Matching is case-insensitive with
IAM's wildcards (* and ?). Conditions are not evaluated: a broad grant under a condition is still
reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

# AWS managed policies that are admin-like by their ARN alone (any partition).
ADMIN_POLICY_NAMES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# The AWS managed policy made for execution roles: ECR pulls and CloudWatch Logs writes.
ECS_TASK_EXECUTION_POLICY = "service-role/AmazonECSTaskExecutionRolePolicy"

# Action patterns that are admin-like on Resource "*".
ADMIN_ACTIONS = ("*", "iam:*", "sts:*")
# Reads of secret material that an execution role should hold only on named resources.
SECRET_READ_ACTIONS = (
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
)


def aws_managed_policy_name(arn: str) -> str | None:
    """`arn:aws:iam::aws:policy/service-role/X` -> `service-role/X`; None for customer policies."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[4] == "aws" and parts[5].startswith("policy/"):
        return parts[5].removeprefix("policy/")
    return None


def is_admin_policy_arn(arn: str) -> bool:
    return aws_managed_policy_name(arn) in ADMIN_POLICY_NAMES


def is_ecs_task_execution_policy(arn: str) -> bool:
    return aws_managed_policy_name(arn) == ECS_TASK_EXECUTION_POLICY


@dataclass(frozen=True)
class BroadGrant:
    """An Allow statement that applies to every resource."""

    source: str  # e.g. "managed policy AmazonS3FullAccess" or "inline policy app"
    actions: tuple[str, ...]  # the Action patterns, or the NotAction exclusions when not_action
    not_action: bool = False

    def describe(self, actions: list[str] | None = None) -> str:
        if self.not_action:
            return f"{self.source} allows every action except {', '.join(self.actions) or 'none'} (NotAction) on *"
        shown = actions if actions is not None else list(self.actions)
        return f"{self.source} allows {', '.join(shown)} on *"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def broad_grants(document: dict[str, Any] | None, source: str) -> list[BroadGrant]:
    """The document's Allow statements on Resource "*" (or NotResource)."""
    grants = []
    for statement in statements(document):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        on_everything = "NotResource" in statement or "*" in [str(r).strip() for r in _as_list(statement.get("Resource"))]
        if not on_everything:
            continue
        if "NotAction" in statement:
            grants.append(BroadGrant(source, tuple(str(a) for a in _as_list(statement["NotAction"])), not_action=True))
        else:
            grants.append(BroadGrant(source, tuple(str(a) for a in _as_list(statement.get("Action")))))
    return grants


def _normal(pattern: str) -> str:
    pattern = pattern.strip().lower()
    return "*" if pattern == "*:*" else pattern


def admin_actions(grant: BroadGrant) -> list[str]:
    """The grant's patterns that are admin-like: *, iam:*, sts:* (NotAction counts as broad)."""
    if grant.not_action:
        return ["NotAction"]
    return [a for a in grant.actions if _normal(a) in ADMIN_ACTIONS]


def service_wildcards(grant: BroadGrant) -> list[str]:
    """Whole-service wildcards (service:*) other than the admin-like ones."""
    if grant.not_action:
        return []
    out = []
    for action in grant.actions:
        normal = _normal(action)
        service, _, name = normal.partition(":")
        if name == "*" and service and service != "*" and normal not in ADMIN_ACTIONS:
            out.append(action)
    return out


def secret_reads(grant: BroadGrant) -> list[str]:
    """Which secret-reading actions the grant allows on every resource (via the patterns that allow them)."""
    if grant.not_action:
        excluded = [_normal(a) for a in grant.actions]
        return [a for a in SECRET_READ_ACTIONS if not any(fnmatchcase(a.lower(), p) for p in excluded)]
    patterns = [_normal(a) for a in grant.actions]
    return [a for a in SECRET_READ_ACTIONS if any(fnmatchcase(a.lower(), p) for p in patterns)]
