"""Least-privilege IAM policies, derived from the operations the collectors declare."""

from __future__ import annotations

from typing import Any

from ecs_audit.inventory.parts import COLLECTOR_ACTIONS, PERMISSIONS_ONLY
from ecs_audit.session import SESSION_ACTIONS

# The audit role's permissions: what the tool sends, plus what AWS checks behind some of those calls.
POLICY_ACTIONS: frozenset[str] = COLLECTOR_ACTIONS | SESSION_ACTIONS | PERMISSIONS_ONLY

DEFAULT_ROLE_NAME = "ECSAuditReadOnly"


def audit_role_policy(*, org: bool = False, role_name: str = DEFAULT_ROLE_NAME) -> dict[str, Any]:
    """The policy for the audit role: exactly the reads the tool may send, and the permissions AWS
    checks behind them (List/Describe calls take
    no narrower resource). With `org`, also what the security-account role needs to list the
    organisation and assume `role_name` in every member account."""
    statements: list[dict[str, Any]] = [
        {"Sid": "EcsAuditReadOnly", "Effect": "Allow", "Action": sorted(POLICY_ACTIONS), "Resource": "*"}
    ]
    if org:
        statements += [
            {"Sid": "EcsAuditListOrganization", "Effect": "Allow", "Action": ["organizations:ListAccounts"], "Resource": "*"},
            {
                "Sid": "EcsAuditAssumeMemberRole",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Resource": f"arn:aws:iam::*:role/{role_name}",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def writer_policy(bucket: str, prefix: str, partition: str = "aws") -> dict[str, Any]:
    """The report writer's policy (--output-dir / --history s3://bucket/prefix): put, get and list in
    that place and nothing else. Give it to a principal of its own (ECS_AUDIT_WRITER_PROFILE), never to
    the audit role, which stays read-only. Old runs are expired by an S3 lifecycle rule, not deleted."""
    objects = f"arn:{partition}:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
    list_statement: dict[str, Any] = {
        "Sid": "EcsAuditWriterList",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": f"arn:{partition}:s3:::{bucket}",
    }
    if prefix:
        list_statement["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            list_statement,
            {"Sid": "EcsAuditWriterObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": objects},
        ],
    }
