"""AWS Compute Optimizer: ECS service recommendations for the region's in-use Fargate services.

Cost per region: GetECSServiceRecommendations per 100 Fargate services (their ARNs), following
nextToken. An account that is not opted in answers OptInRequiredException: that is recorded as the
inventory's state ("not opted in"), not as a failure, and no further call is made.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ecs_audit.collect.base import _CALL_ERRORS, CollectContext, _describe_exception, batched, operation_method
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.inventory.compute_optimizer import NOT_ASKED, NOT_OPTED_IN, OPTED_IN, ComputeOptimizerInventory, EcsServiceRecommendation
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("compute_optimizer")
SERVICE = SOURCE.client
OPERATION = "GetECSServiceRecommendations"
# serviceArns has no documented maximum; 100 keeps each request small and its answer to one page.
SERVICE_BATCH = 100
PAGE_SIZE = 100  # maxResults (0..1000)


class _NotOptedIn(Exception):
    pass


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> ComputeOptimizerInventory | None:
    if region.ecs is None:
        return None
    arns = sorted(
        s.service_arn for s in region.ecs.services if s.status != "INACTIVE" and s.effective_launch_type == "FARGATE"
    )
    if not arns:
        return ComputeOptimizerInventory(status=NOT_ASKED)
    recommendations: list[EcsServiceRecommendation] = []
    unavailable: dict[str, str] = {}
    batches = list(batched(arns, SERVICE_BATCH))
    try:
        # The first batch alone: an account that is not opted in then costs one call; the rest at once.
        answered = [_pages(ctx, batches[0]), *ctx.parallel(lambda batch: _pages(ctx, batch), batches[1:])]
        for batch, pages in zip(batches, answered):
            for page in pages:
                for item in page.get("ecsServiceRecommendations", []):
                    try:
                        recommendations.append(EcsServiceRecommendation.model_validate(item))
                    except ValidationError as exc:
                        ctx.record(SERVICE, OPERATION, "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", batch)
                for error in page.get("errors", []):
                    if error.get("identifier"):
                        unavailable[error["identifier"]] = f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip()
    except _NotOptedIn:
        return ComputeOptimizerInventory(status=NOT_OPTED_IN)
    return ComputeOptimizerInventory(
        status=OPTED_IN,
        recommendations=sorted(recommendations, key=lambda r: r.service_arn),
        unavailable=dict(sorted(unavailable.items())),
    )


def _pages(ctx: CollectContext, batch: list[str]) -> list[dict[str, Any]]:
    """Every page for one batch ([] after a recorded failure); raises _NotOptedIn."""
    client = ctx.client(SERVICE)
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"serviceArns": batch, "maxResults": PAGE_SIZE}
    seen: set[str] = set()
    while True:
        try:
            method = operation_method(client, SERVICE, OPERATION)
            with ctx.in_flight(SERVICE, OPERATION):
                page = method(**params)
        except _CALL_ERRORS as exc:
            code, message = _describe_exception(exc)
            if code == "OptInRequiredException" or "opted in" in message.lower() or "opt in" in message.lower():
                raise _NotOptedIn from None
            ctx.record(SERVICE, OPERATION, code, message, batch)
            return []
        pages.append(page)
        token = page.get("nextToken")
        if not token or token in seen:
            return pages
        seen.add(token)
        params["nextToken"] = token
