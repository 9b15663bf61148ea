"""AWS Secrets Manager: metadata of secrets referenced by container secrets; never values."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape


class Secret(PascalShape):
    """DescribeSecret's answer, reduced to what checks read."""

    arn: str = Field(alias="ARN")
    name: str | None = None
    kms_key_id: str | None = None
    # Set when the secret is scheduled for deletion: ECS can no longer read it.
    deleted_date: datetime | None = None


class SecretsInventory(Record):
    """The secrets this region's audited containers reference."""

    # Keyed by the reference as resolved by ecs_audit.semantics.secret_reference (the full or partial secret ARN).
    secrets: dict[str, Secret] = {}
    # References DescribeSecret answered ResourceNotFoundException for: the secret does not exist.
    missing: list[str] = []
