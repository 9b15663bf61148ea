"""Marker-paginated calls (Elastic Load Balancing, EFS, EC2) that tell "not found" apart from failure.

CollectContext.paginate records every error; some answers are evidence instead (a target group or a
file system that no longer exists), so these loops go through CollectContext.call with absent codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from ecs_audit.collect.base import ABSENT, CollectContext, _Absent

# Safety stop for an endpoint that keeps handing out the same token.
MAX_PAGES = 1000


def pages(
    ctx: CollectContext,
    service: str,
    operation: str,
    result_key: str,
    *,
    input_token: str,
    output_token: str,
    resources: Iterable[str] = (),
    absent_codes: Iterable[str] = (),
    context: str | None = None,
    **params: Any,
) -> list[Any] | _Absent | None:
    """Every item over all pages; ABSENT for an absent code; None (failure recorded) otherwise."""
    resources = list(resources)
    items: list[Any] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        request = dict(params, **({input_token: token} if token else {}))
        response = ctx.call(service, operation, resources=resources, absent_codes=absent_codes, context=context, **request)
        if response is ABSENT:
            return ABSENT
        if not isinstance(response, dict):
            return None
        items.extend(response.get(result_key) or [])
        token = response.get(output_token)
        if not token:
            return items
        if token in seen:
            break
        seen.add(token)
    ctx.record(service, operation, "PaginationLoop", "the endpoint kept returning the same page token", resources, context)
    return None


def validated(
    ctx: CollectContext, service: str, operation: str, model: type[BaseModel], item: Any, resources: Iterable[str]
) -> Any:
    """A model from an API item; a malformed item is recorded (against `resources`), never a crash."""
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        ctx.record(service, operation, "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}", resources)
        return None
