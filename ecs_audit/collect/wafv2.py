"""AWS WAFv2: the web ACL of each internet-facing Application Load Balancer in front of services.

Cost per region: one GetWebACLForResource per internet-facing ALB (the API takes one resource). An
answer without a WebACL, or WAFNonexistentItemException, means no web ACL is associated.
"""

from __future__ import annotations

from ecs_audit.collect.base import ABSENT, CollectContext
from ecs_audit.collect.pages import validated
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.inventory.wafv2 import WafInventory, WebAcl

SOURCE = source_of("wafv2")
SERVICE = SOURCE.client
_NONE = object()


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> WafInventory | None:
    if region.elbv2 is None:
        return None  # the load balancers are unknown; their checks are UNKNOWN already
    arns = sorted(
        lb.load_balancer_arn for lb in region.elbv2.load_balancers if lb.is_internet_facing and lb.type == "application"
    )
    answers = ctx.parallel(lambda arn: _web_acl(ctx, arn), arns)
    return WafInventory(web_acls={arn: (None if answer is _NONE else answer) for arn, answer in zip(arns, answers) if answer is not None})


def _web_acl(ctx: CollectContext, load_balancer_arn: str):
    """The WebAcl, _NONE when none is associated, or None after a recorded failure."""
    response = ctx.call(
        SERVICE,
        "GetWebACLForResource",
        resources=[load_balancer_arn],
        absent_codes=("WAFNonexistentItemException",),
        ResourceArn=load_balancer_arn,
    )
    if response is ABSENT:
        return _NONE
    if not isinstance(response, dict):
        return None
    if not response.get("WebACL"):
        return _NONE
    web_acl = validated(ctx, SERVICE, "GetWebACLForResource", WebAcl, response["WebACL"], [load_balancer_arn])
    return web_acl
