"""An in-process fake of AWS APIs served through botocore event hooks on a session.

Unlike moto it honours maxResults/nextToken and the documented batch limits, so it can prove that
collectors paginate and batch exactly as the API requires. Handlers receive the API parameters and
return the parsed response dict, or raise ApiFault to answer with an error.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ApiFault(Exception):
    def __init__(self, code: str, message: str = "", status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class FakeApi:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def on(self, key: str, handler: Handler) -> None:
        """key is "<service>.<Operation>", e.g. "ecs.DescribeServices"."""
        self.handlers[key] = handler

    def session(self, region: str = "us-east-1") -> boto3.Session:
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
        session.events.register("before-parameter-build", self._stash)
        session.events.register("before-call", self._answer)
        return session

    @staticmethod
    def _stash(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_api_params"] = json.loads(json.dumps(params, default=str))

    def _answer(self, model: Any, context: dict[str, Any], **_: Any):
        key = f"{model.service_model.service_name}.{model.name}"
        params = context.get("fake_api_params", {})
        with self._lock:
            self.calls[key] += 1
            self.requests.append((key, params))
        handler = self.handlers.get(key)
        if handler is None:
            raise AssertionError(f"unexpected call {key}")
        try:
            body = handler(params)
        except ApiFault as fault:
            error = {"Error": {"Code": fault.code, "Message": fault.message}, "ResponseMetadata": {"HTTPStatusCode": fault.status}}
            return AWSResponse("https://fake", fault.status, {}, None), error
        return AWSResponse("https://fake", 200, {}, None), dict(body, ResponseMetadata={"HTTPStatusCode": 200})


def page(items: list[Any], params: dict[str, Any], key: str, default_size: int, max_size: int) -> dict[str, Any]:
    """Paginate `items` as AWS does: maxResults (bounded) and an opaque nextToken."""
    size = params.get("maxResults", default_size)
    assert 1 <= size <= max_size, f"maxResults {size} outside 1..{max_size}"
    start = int(params.get("nextToken", "0"))
    chunk = items[start : start + size]
    out: dict[str, Any] = {key: chunk}
    if start + size < len(items):
        out["nextToken"] = str(start + size)
    return out
