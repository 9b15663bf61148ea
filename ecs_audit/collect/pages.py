"""Shapes of reading that several collectors share, each written once.

- `pages`: marker-paginated calls (Elastic Load Balancing, EFS, EC2) that tell "not found" apart from
  failure. CollectContext.paginate records every error; some answers are evidence instead (a target
  group or a file system that no longer exists), so these loops go through CollectContext.call with
  absent codes.
- `validated`: a model from an API item, a malformed item recorded instead of a crash.
- `describe_batches`: list -> describe as data (`BatchDescribe`, after Cloud Custodian's
  `batch_detail_spec`): the ids in batches of the API's limit, the batches at once, the items validated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ecs_audit.collect.base import ABSENT, CollectContext, _Absent, batched

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


@dataclass(frozen=True)
class BatchDescribe:
    """How to describe listed resources: `operation` takes up to `batch_size` ids in `id_param` and
    answers `result_key` items, each read as `model`. With `item_arn`, a failure concerns the ids of
    the batch (a malformed item the ARN it names); without, the `parent` the ids were listed under."""

    service: str
    operation: str
    batch_size: int
    id_param: str
    result_key: str
    model: type[BaseModel]
    item_arn: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # sent with every batch
    # Reads the response for per-resource failures the API reports beside the items.
    on_response: Callable[[CollectContext, str, dict[str, Any]], None] | None = None


def describe_batches(
    ctx: CollectContext, spec: BatchDescribe, ids: Iterable[str], *, parent: str = "", **params: Any
) -> list[Any]:
    """The models of every id (sorted, batched, the batches at once); failures recorded."""

    def one(batch: list[str]) -> dict[str, Any] | _Absent | None:
        resources = batch if spec.item_arn else [parent]
        return ctx.call(spec.service, spec.operation, resources=resources, **spec.params, **params, **{spec.id_param: batch})

    found: list[Any] = []
    for response in ctx.parallel(one, list(batched(sorted(ids), spec.batch_size))):
        if not isinstance(response, dict):
            continue
        if spec.on_response is not None:
            spec.on_response(ctx, spec.operation, response)
        for item in response.get(spec.result_key, []):
            resource = item.get(spec.item_arn, "") if spec.item_arn else parent
            model = validated(ctx, spec.service, spec.operation, spec.model, item, [resource])
            if model is not None:
                found.append(model)
    return found
