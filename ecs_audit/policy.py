"""The least-privilege IAM policy for the audit role, derived from what the collectors declare."""

from __future__ import annotations

from typing import Any

from ecs_audit.collect.runner import ALLOWED_ACTIONS


def audit_role_policy() -> dict[str, Any]:
    """Exactly the read actions the tool may send; no resource narrowing is possible for List/Describe."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsAuditReadOnly",
                "Effect": "Allow",
                "Action": sorted(ALLOWED_ACTIONS),
                "Resource": "*",
            }
        ],
    }
