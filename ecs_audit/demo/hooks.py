"""botocore hooks that make the demo's moto answer like AWS.

`install_demo_hooks(session, facts)` registers, on the boto3 session the audit uses, an `after-call`
handler per enriched ECS operation (see ecs_audit.demo.enrich). Clients copy the session's event
handlers when they are created, so the hooks must be installed before the audit creates its clients;
ecs_audit.pipeline.scan creates every client from the session it is given, after this.

The request parameters are kept from `before-parameter-build` (after-call only sees the response), in
the per-request context botocore passes to both events.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3

from ecs_audit.demo.enrich import ENRICHERS, EstateFacts, as_datetime, collect_facts, enrich

log = logging.getLogger(__name__)

_PARAMS_KEY = "ecs_audit_demo_params"


def install_demo_hooks(session: boto3.Session, facts: EstateFacts | None = None, *, regions: list[str] | None = None) -> EstateFacts:
    """Register the enrichment hooks on `session`; returns the facts they use.

    Without `facts`, they are read once from the endpoint the session talks to, through a separate
    session with the same credentials (so the audit's own calls are neither spent nor enriched)."""
    if facts is None:
        facts = _read_facts(session, regions or [session.region_name or "us-east-1"])

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS_KEY] = dict(params)

    def after_call(parsed: dict[str, Any], model: Any, context: dict[str, Any], http_response: Any = None, **_: Any) -> None:
        if not isinstance(parsed, dict) or "Error" in parsed:
            return
        status = getattr(http_response, "status_code", 200)
        if status and status >= 300:
            return
        operation = f"{model.service_model.service_name}.{model.name}"
        region = context.get("client_region") or session.region_name or "us-east-1"
        try:
            enrich(operation, context.get(_PARAMS_KEY, {}), parsed, region, facts, as_datetime)
        except Exception:  # the demo must not crash on an enrichment bug; the response stays moto's
            log.warning("demo enrichment of %s failed", operation, exc_info=True)

    for operation in ENRICHERS:
        service, name = operation.split(".", 1)
        session.events.register(f"before-parameter-build.{service}.{name}", keep_params, unique_id=f"ecs-audit-demo-params-{operation}")
        session.events.register(f"after-call.{service}.{name}", after_call, unique_id=f"ecs-audit-demo-enrich-{operation}")
    return facts


def _read_facts(session: boto3.Session, regions: list[str]) -> EstateFacts:
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials() if credentials else None
    side = boto3.Session(
        aws_access_key_id=frozen.access_key if frozen else None,
        aws_secret_access_key=frozen.secret_key if frozen else None,
        aws_session_token=frozen.token if frozen else None,
        region_name=regions[0],
    )
    return collect_facts(lambda service, region: side.client(service, region_name=region), regions)
