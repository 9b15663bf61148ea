"""botocore hooks that make the demo's moto answer like AWS.

`install_demo_hooks(session, facts)` registers, on the boto3 session the audit uses, an `after-call`
handler that adds to moto's answers what AWS returns and moto does not (ecs_audit.demo.enrich
ENRICHERS), and a `before-call` handler that answers the operations moto has no handler for (STUBS).
Clients copy the session's event handlers when they are created, so the hooks must be installed
before the audit creates its clients; ecs_audit.pipeline.scan creates every client from the session it
is given, after this.

The request parameters are kept from `before-parameter-build` (after-call only sees the response), in
the per-request context botocore passes to both events.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from ecs_audit.demo.account import demo_backstory
from ecs_audit.demo.enrich import ENRICHERS, STUBS, EstateFacts, StubError, answer, as_datetime, collect_facts, enrich

log = logging.getLogger(__name__)

_PARAMS_KEY = "ecs_audit_demo_params"
_STUB_URL = "https://ecs-audit-demo.invalid/"


def install_demo_hooks(session: boto3.Session, facts: EstateFacts | None = None, *, regions: list[str] | None = None) -> EstateFacts:
    """Register the enrichment hooks on `session`; returns the facts they use.

    Without `facts`, they are read once from the endpoint the session talks to, through a separate
    session with the same credentials (so the audit's own calls are neither spent nor enriched)."""
    if facts is None:
        facts = _read_facts(session, regions or [session.region_name or "us-east-1"])

    wanted = set(ENRICHERS) | set(STUBS)

    def operation_of(model: Any) -> str:
        return f"{model.service_model.service_name}.{model.name}"

    def keep_params(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if operation_of(model) in wanted:
            context[_PARAMS_KEY] = dict(params)

    def region_of(context: dict[str, Any]) -> str:
        return context.get("client_region") or session.region_name or "us-east-1"

    def stub_call(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        operation = operation_of(model)
        if operation not in STUBS:
            return None
        try:
            body = answer(operation, context.get(_PARAMS_KEY, {}), region_of(context), facts, as_datetime)
        except StubError as error:
            parsed = {"Error": {"Code": error.code, "Message": error.message}, "ResponseMetadata": {"HTTPStatusCode": error.status}}
            return AWSResponse(_STUB_URL, error.status, {}, None), parsed
        assert body is not None
        return AWSResponse(_STUB_URL, 200, {}, None), dict(body, ResponseMetadata={"HTTPStatusCode": 200, "RequestId": _request_id()})

    def after_call(parsed: dict[str, Any], model: Any, context: dict[str, Any], http_response: Any = None, **_: Any) -> None:
        operation = operation_of(model)
        if operation not in ENRICHERS or not isinstance(parsed, dict) or "Error" in parsed:
            return
        status = getattr(http_response, "status_code", 200)
        if status and status >= 300:
            return
        try:
            enrich(operation, context.get(_PARAMS_KEY, {}), parsed, region_of(context), facts, as_datetime)
        except Exception:  # the demo must not crash on an enrichment bug; the response stays moto's
            log.warning("demo enrichment of %s failed", operation, exc_info=True)

    session.events.register("before-parameter-build", keep_params, unique_id="ecs-audit-demo-params")
    session.events.register("before-call", stub_call, unique_id="ecs-audit-demo-stubs")
    session.events.register("after-call", after_call, unique_id="ecs-audit-demo-enrich")
    return facts


def _request_id() -> str:
    return str(uuid.uuid4())


def _read_facts(session: boto3.Session, regions: list[str]) -> EstateFacts:
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials() if credentials else None
    side = boto3.Session(
        aws_access_key_id=frozen.access_key if frozen else None,
        aws_secret_access_key=frozen.secret_key if frozen else None,
        aws_session_token=frozen.token if frozen else None,
        region_name=regions[0],
    )
    clients: dict[tuple[str, str], Any] = {}

    def client_for(service: str, region: str) -> Any:
        if (service, region) not in clients:
            clients[(service, region)] = side.client(service, region_name=region)
        return clients[(service, region)]

    return collect_facts(client_for, regions, backstory=demo_backstory())
