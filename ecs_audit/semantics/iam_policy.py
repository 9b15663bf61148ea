"""Reading IAM policy documents for over-privilege (SECURITY-009, SECURITY-010).

Only Allow statements grant anything. A statement is broad when it uses NotResource or one of its
Resource patterns covers every resource of a kind: "*", any account ("arn:aws:iam::*:role/x"), or
every resource of a type ("arn:aws:iam::123456789012:role/*"). Actions may be a string or a list;
NotAction allows everything but the listed actions, so it counts as broad. Actions and resources are
IAM patterns (wildcards * and ?), matched case-insensitively for actions. Conditions are not
evaluated: a broad grant under a condition is still reported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

# AWS managed policies that are admin-like by their ARN alone (any partition).
ADMIN_POLICY_NAMES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# The AWS managed policy made for execution roles: ECR pulls and CloudWatch Logs writes.
ECS_TASK_EXECUTION_POLICY = "service-role/AmazonECSTaskExecutionRolePolicy"

# Action patterns that are admin-like on Resource "*".
ADMIN_ACTIONS = ("*", "iam:*", "sts:*")
# Services whose every action on every resource is admin-like (a pattern covering all of them).
ADMIN_SERVICES = ("iam", "sts")
# Single actions that let a principal raise its own privileges when granted on every resource
# (policy rewriting, attachment, credentials for other principals, trust changes, assuming any role).
ESCALATION_ACTIONS = (
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "sts:AssumeRole",
)
# iam:PassRole on every role escalates together with creating a role (then passing it anywhere), or
# with a service that runs the principal's code under the passed role: an instance, a function, a
# stack, an ECS task (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html;
# the combinations of Rhino Security Labs' AWS privilege-escalation methods, which KICS also checks).
PASS_ROLE = "iam:PassRole"
# The service principal each partner passes the role to (iam:PassedToService); role creation works with any.
_PARTNER_PRINCIPALS = {
    "ec2": "ec2.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
    "cloudformation": "cloudformation.amazonaws.com",
    "glue": "glue.amazonaws.com",
    "ecs": "ecs-tasks.amazonaws.com",
    "codebuild": "codebuild.amazonaws.com",
    "sagemaker": "sagemaker.amazonaws.com",
}
PASS_ROLE_PARTNERS: tuple[tuple[str, ...], ...] = (
    ("iam:CreateRole",),
    ("ec2:RunInstances",),
    ("lambda:CreateFunction", "lambda:InvokeFunction"),
    ("lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
    ("cloudformation:CreateStack",),
    ("glue:CreateDevEndpoint",),
    ("ecs:RegisterTaskDefinition", "ecs:RunTask"),
    ("ecs:RegisterTaskDefinition", "ecs:StartTask"),
    ("ecs:RegisterTaskDefinition", "ecs:CreateService"),
    ("codebuild:CreateProject", "codebuild:StartBuild"),
    ("sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"),
)
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
    resources: tuple[str, ...] = ("*",)  # the broad Resource patterns ("NotResource" for NotResource)
    # The services an iam:PassRole grant may pass roles to (its iam:PassedToService condition), or None
    # when the statement does not restrict them.
    passed_to: tuple[str, ...] | None = None

    def describe(self, actions: list[str] | None = None) -> str:
        where = ", ".join(self.resources)
        if self.not_action:
            return f"{self.source} allows every action except {', '.join(self.actions) or 'none'} (NotAction) on {where}"
        shown = actions if actions is not None else list(self.actions)
        return f"{self.source} allows {', '.join(shown)} on {where}"

    def allows(self, action: str) -> bool:
        """Whether the grant's action patterns allow `action` (case-insensitive IAM wildcards)."""
        return allows_action(self.actions, action, self.not_action)


def allows_action(patterns: tuple[str, ...] | list[str], action: str, not_action: bool = False) -> bool:
    matched = any(fnmatchcase(action.lower(), _normal(p)) for p in patterns)
    return not matched if not_action else matched


def covers_service(pattern: str, service: str) -> bool:
    """Whether an action pattern allows every action of a service (e.g. "iam:*", "i*:*", "*")."""
    # No real action is named like this: only a pattern whose wildcard spans the action name matches.
    return fnmatchcase(f"{service}:zz-any-action-zz", _normal(pattern))


def resource_is_broad(pattern: str) -> bool:
    """A Resource pattern that covers every resource, or every resource of a type ("role/*",
    "secret:*"); a path or name prefix ("role/service-role/*", "secret:app/*", "bucket/*") is scoped."""
    text = str(pattern).strip()
    if text == "*":
        return True
    parts = text.split(":", 5)
    if len(parts) < 6:
        return text.startswith("*")
    service, resource = parts[2], parts[5]
    if resource.startswith("*") or service == "*":
        return True
    if service == "s3":
        return False  # bucket and object ARNs: any prefix names a bucket
    kind, separator, rest = resource.partition("/")
    if not separator:
        kind, separator, rest = resource.partition(":")
    return rest == "*" and kind.replace("-", "").isalnum()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _passed_to_services(condition: Any) -> tuple[str, ...] | None:
    """The iam:PassedToService values of a statement's StringEquals/StringLike condition (the way AWS
    recommends scoping iam:PassRole), or None when there is no such condition."""
    if not isinstance(condition, dict):
        return None
    for operator, block in condition.items():
        if not isinstance(block, dict) or not str(operator).removeprefix("ForAnyValue:").startswith(("StringEquals", "StringLike")):
            continue
        for key, value in block.items():
            if str(key).lower() == "iam:passedtoservice":
                return tuple(str(v).strip().lower() for v in _as_list(value))
    return None


def _passes_to(grant: BroadGrant, partners: tuple[str, ...]) -> bool:
    """Whether the PassRole grant may pass a role to the service the partner actions run code in."""
    if grant.passed_to is None:
        return True
    principal = _PARTNER_PRINCIPALS.get(partners[0].split(":", 1)[0].lower())
    if principal is None:
        return True  # iam:CreateRole: a new role can trust whichever service the grant allows
    return any(fnmatchcase(principal, pattern) for pattern in grant.passed_to)


def broad_grants(document: dict[str, Any] | None, source: str) -> list[BroadGrant]:
    """The document's Allow statements on Resource "*" (or NotResource)."""
    grants = []
    for statement in statements(document):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        if "NotResource" in statement:
            broad = ("NotResource",)
        else:
            broad = tuple(str(r).strip() for r in _as_list(statement.get("Resource")) if resource_is_broad(str(r)))
        if not broad:
            continue
        passed_to = _passed_to_services(statement.get("Condition"))
        if "NotAction" in statement:
            grants.append(BroadGrant(source, tuple(str(a) for a in _as_list(statement["NotAction"])), not_action=True, resources=broad, passed_to=passed_to))
        else:
            grants.append(BroadGrant(source, tuple(str(a) for a in _as_list(statement.get("Action"))), resources=broad, passed_to=passed_to))
    return grants


def _normal(pattern: str) -> str:
    pattern = pattern.strip().lower()
    return "*" if pattern == "*:*" else pattern


def admin_actions(grant: BroadGrant) -> list[str]:
    """The grant's patterns that are admin-like: any pattern spanning all of iam or sts (*, iam:*,
    i*:*), or one allowing a single privilege-escalation action (iam:Put*, iam:AttachRolePolicy,
    sts:AssumeRole, ...). NotAction counts as broad."""
    if grant.not_action:
        return ["NotAction"]
    return [shown for shown in map(_admin_pattern, grant.actions) if shown is not None]


@functools.lru_cache(maxsize=4096)
def _admin_pattern(action: str) -> str | None:
    """admin_actions' entry for one pattern, or None when it is not admin-like (the same patterns
    recur in the policies of every role)."""
    if any(covers_service(action, service) for service in ADMIN_SERVICES):
        return action
    escalations = [e for e in ESCALATION_ACTIONS if allows_action([action], e)]
    if escalations:
        return action if _normal(action) == escalations[0].lower() else f"{action} ({', '.join(escalations)})"
    return None


def escalation_combinations(grants: list[BroadGrant]) -> list[str]:
    """Actions that escalate only together, across all of a role's broad grants: iam:PassRole with
    role creation, or with running code under the passed role (see PASS_ROLE_PARTNERS)."""
    # A grant of every action (or NotAction) is reported on its own: not again as each combination.
    grants = [g for g in grants if not (g.not_action or any(_normal(a) == "*" for a in g.actions))]
    allowed = lambda action: [g for g in grants if g.allows(action)]  # noqa: E731
    passing = allowed(PASS_ROLE)
    if not passing:
        return []
    out = []
    for partners in PASS_ROLE_PARTNERS:
        passing_here = [g for g in passing if _passes_to(g, partners)]
        with_partners = [allowed(partner) for partner in partners]
        if passing_here and all(with_partners):
            listed = " and ".join(f"{partner} ({grants_[0].source})" for partner, grants_ in zip(partners, with_partners))
            out.append(f"{PASS_ROLE} ({passing_here[0].source}) with {listed} on every resource")
    return out


def service_wildcards(grant: BroadGrant) -> list[str]:
    """Whole-service wildcards (service:*) other than the admin-like ones."""
    if grant.not_action:
        return []
    out = []
    for action in grant.actions:
        normal = _normal(action)
        service, _, name = normal.partition(":")
        if name == "*" and service and service != "*" and not any(covers_service(action, s) for s in ADMIN_SERVICES):
            out.append(action)
    return out


def secret_reads(grant: BroadGrant) -> list[str]:
    """Which secret-reading actions the grant allows on every resource (via the patterns that allow them)."""
    if grant.not_action:
        excluded = [_normal(a) for a in grant.actions]
        return [a for a in SECRET_READ_ACTIONS if not any(fnmatchcase(a.lower(), p) for p in excluded)]
    patterns = [_normal(a) for a in grant.actions]
    return [a for a in SECRET_READ_ACTIONS if any(fnmatchcase(a.lower(), p) for p in patterns)]


# Actions on a role that rewrite what the role itself may do: granted on the role's own ARN, they let
# its holder raise its own privileges whatever the rest of its policies say.
SELF_ESCALATION_ACTIONS = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",  # removes a Deny-carrying inline policy
    "iam:UpdateAssumeRolePolicy",
)


def self_escalations(document: dict[str, Any] | None, source: str, role_arn: str) -> list[str]:
    """Allow statements whose Resource patterns cover the role's own ARN with an action that rewrites
    its permissions (e.g. iam:PutRolePolicy on arn:aws:iam::1:role/app-* held by role app-task)."""
    out = []
    for statement in statements(document):
        if str(statement.get("Effect", "")).lower() != "allow" or "NotAction" in statement or "NotResource" in statement:
            continue  # NotAction/NotResource are reported as broad grants
        resources = [str(r).strip() for r in _as_list(statement.get("Resource"))]
        matching = [r for r in resources if not resource_is_broad(r) and fnmatchcase(role_arn, r)]
        if not matching:
            continue
        actions = [str(a) for a in _as_list(statement.get("Action"))]
        allowed = [e for e in SELF_ESCALATION_ACTIONS if allows_action(actions, e)]
        if allowed:
            out.append(f"{source} allows {', '.join(allowed)} on the role itself ({', '.join(matching)})")
    return out

