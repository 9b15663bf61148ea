"""AWS WAFv2: the web ACLs associated with the internet-facing Application Load Balancers of services."""

from __future__ import annotations

from pydantic import Field

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.pascal import PascalShape


class WebAcl(PascalShape):
    """GetWebACLForResource's WebACL, reduced to what names it (its rules are not needed)."""

    name: str
    id: str | None = None
    arn: str | None = Field(default=None, alias="ARN")


class WafInventory(Record):
    """Load balancer ARN -> its web ACL, or None when none is associated. Only internet-facing ALBs are
    asked; a load balancer without a key was not (successfully) asked."""

    web_acls: dict[str, WebAcl | None] = {}
