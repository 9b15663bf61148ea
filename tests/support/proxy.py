"""An HTTP proxy of the tests' own, in front of the moto server: the seed of a fault-injection harness.

The CLI under test is pointed at the proxy (AWS_ENDPOINT_URL); the proxy forwards every request to moto
and every response back, byte for byte, except where a test plugs something in:

- faults run before forwarding and may answer instead of moto (`deny` answers AccessDenied in the
  protocol's real error shape); later: throttling, 5xx, timeouts, malformed bodies;
- rewriters run on moto's answer (`rewrite_json` edits a JSON-protocol body, e.g. to add the fields AWS
  returns and moto does not: see `install_enrichment`);
- every call is recorded (service, operation, IAM action, region, status), so a test can assert which
  operations were called and that nothing mutating reached the endpoint.

`install_enrichment(proxy, facts)` plugs in what makes moto answer like AWS, with the same functions as
the demo's botocore hooks (ecs_audit.demo.enrich): enrichers as rewriters, stubs (operations moto has
no handler for) as faults that answer. To write new faults and answers: `api_params(call)` gives a
request's parameters under their API names, `api_reply(call, dict)` serializes an answer (as moto
would for that protocol), `error_reply(call, code, message, status)` an API error.

Calls are identified the way AWS routes them: the SigV4 credential scope names the service and region;
the operation comes from X-Amz-Target (JSON protocols), `Action=` in the form body or query string
(query and EC2 protocols), the path of Smithy RPC v2 CBOR, or the REST request URI templates of the
service's botocore model (rest-json, rest-xml).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from botocore.loaders import Loader
from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS

# SigV4 signing names that differ from botocore's client names.
SIGNING_NAME_TO_SERVICE = {
    "elasticloadbalancing": "elbv2",
    "monitoring": "cloudwatch",
    "elasticfilesystem": "efs",
    "email": "ses",
    "states": "stepfunctions",
    "execute-api": "apigateway",
}
# IAM action prefixes that differ from botocore's client names.
SERVICE_TO_IAM_PREFIX = {"elbv2": "elasticloadbalancing", "cloudwatch": "cloudwatch", "efs": "elasticfilesystem"}

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "content-length"}

# Operations that can change something. A read-only auditor must never send one.
MUTATING_PREFIXES = (
    "Create", "Update", "Delete", "Put", "Register", "Deregister", "Run", "Start", "Stop", "Tag", "Untag",
    "Modify", "Attach", "Detach", "Set", "Submit", "Execute", "Associate", "Disassociate", "Enable", "Disable",
    "Authorize", "Revoke", "Terminate", "Reboot", "Add", "Remove", "Upload", "Send", "Invoke", "Apply", "Import",
    "Reset", "Restore", "Cancel", "BatchDelete", "BatchPut", "BatchUpdate", "Publish", "Replace", "Accept", "Reject",
)


def is_mutating(operation: str) -> bool:
    return operation.startswith(MUTATING_PREFIXES)


# --- what a call is ----------------------------------------------------------------------------


@dataclass
class Call:
    """One request as the proxy saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    service: str = "unknown"
    operation: str = "unknown"
    region: str = ""
    protocol: str = "unknown"  # json, query, ec2, rest-json, rest-xml, smithy-rpc-v2-cbor
    status: int | None = None  # of the answer sent back
    injected: str | None = None  # the fault that answered instead of moto
    rewritten: bool = False
    started: float = 0.0  # time.monotonic() when the proxy received it
    ended: float = 0.0  # ... and when its answer was ready

    @property
    def key(self) -> str:
        """"<service>.<Operation>", e.g. "ecs.ListTasks"."""
        return f"{self.service}.{self.operation}"

    @property
    def action(self) -> str:
        """The IAM action, e.g. "ecs:ListTasks", "elasticloadbalancing:DescribeListeners"."""
        return f"{SERVICE_TO_IAM_PREFIX.get(self.service, self.service)}:{self.operation}"

    @property
    def mutating(self) -> bool:
        return is_mutating(self.operation)

    @property
    def access_key(self) -> str:
        """The access key id the request was signed with ("" when unsigned)."""
        found = _ACCESS_KEY.search(self.headers.get("authorization", ""))
        return found.group(1) if found else ""

    @property
    def session_token(self) -> bool:
        """Signed with temporary credentials (an assumed role's, for instance)."""
        return bool(self.headers.get("x-amz-security-token"))

    @property
    def account(self) -> str:
        """The account moto serves the call from: the x-moto-account-id header, else the account of the
        access key (an assumed role's key belongs to the role's account), else moto's default."""
        if self.headers.get("x-moto-account-id"):
            return self.headers["x-moto-account-id"]
        from moto.iam.models import get_account_id_from

        return get_account_id_from(self.access_key)

    def params(self) -> dict[str, Any]:
        """The request parameters: the JSON body, or the form/query fields (first value each)."""
        if self.protocol == "json" or self.protocol == "rest-json":
            try:
                parsed = json.loads(self.body or b"{}")
                return parsed if isinstance(parsed, dict) else {}
            except ValueError:
                return {}
        fields = parse_qs(urlsplit(self.path).query)
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            fields.update(parse_qs(self.body.decode("utf-8", "replace")))
        return {k: v[0] for k, v in fields.items()}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


Fault = Callable[[Call], "Reply | None"]
Rewriter = Callable[[Call, Reply], "Reply | None"]


_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")


def identify(call: Call) -> None:
    """Fill in service, region, protocol and operation from the request."""
    headers = call.headers
    scope = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    if scope:
        call.region, signing_name = scope.group(1), scope.group(2)
        call.service = SIGNING_NAME_TO_SERVICE.get(signing_name, signing_name)
    target = headers.get("x-amz-target")
    if target:
        call.protocol = "json"
        call.operation = target.rsplit(".", 1)[-1]
        return
    path = urlsplit(call.path).path
    cbor = _CBOR_PATH.match(path)
    if cbor and headers.get("smithy-protocol", "").startswith("rpc-v2-cbor"):
        call.protocol = "smithy-rpc-v2-cbor"
        call.operation = cbor.group(2)
        return
    params = call.params() if call.method in ("POST", "GET") else {}
    if "Action" in params and (call.method == "GET" or headers.get("content-type", "").startswith("application/x-www-form-urlencoded")):
        call.protocol = "ec2" if call.service == "ec2" else "query"
        call.operation = params["Action"]
        return
    matched = _match_rest(call.service, call.method, call.path)
    if matched:
        call.protocol, call.operation = matched


_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


@lru_cache(maxsize=64)
def _rest_routes(service: str) -> tuple[str, list[tuple[str, re.Pattern[str], list[str], int, str]]]:
    try:
        model = Loader().load_service_model(service, "service-2")
    except Exception:
        return "unknown", []
    metadata = model["metadata"]
    # What botocore sends: the first protocol it prefers among those the service supports.
    protocol = next((p for p in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p in metadata.get("protocols", [])), metadata.get("protocol", "unknown"))
    routes = []
    for name, operation in model["operations"].items():
        http_info = operation.get("http", {})
        uri = http_info.get("requestUri", "/")
        path, _, query = uri.partition("?")
        pattern, position = "^", 0
        for label in _LABEL.finditer(path):
            pattern += re.escape(path[position : label.start()])
            group = re.sub(r"\W", "_", label.group(1))
            pattern += f"(?P<{group}>.+)" if label.group(2) else f"(?P<{group}>[^/]+)"
            position = label.end()
        pattern += re.escape(path[position:].rstrip("/")) + "/?$"
        required = [q.split("=", 1)[0] for q in query.split("&") if q]
        literal = len(_LABEL.sub("", path))
        routes.append((http_info.get("method", "POST"), re.compile(pattern), required, literal, name))
    return protocol, routes


def _match_rest(service: str, method: str, raw_path: str) -> tuple[str, str] | None:
    found = _rest_route(service, method, raw_path)
    return (found[0], found[1]) if found else None


def _rest_route(service: str, method: str, raw_path: str) -> tuple[str, str, dict[str, str]] | None:
    """(protocol, operation, URI labels) of a REST request."""
    protocol, routes = _rest_routes(service)
    parts = urlsplit(raw_path)
    query = parse_qs(parts.query, keep_blank_values=True)
    best: tuple[int, str, dict[str, str]] | None = None
    for route_method, pattern, required, literal, name in routes:
        matched = pattern.match(parts.path or "/") if route_method == method else None
        if matched is None or any(q not in query for q in required):
            continue
        score = literal * 10 + len(required)
        if best is None or score > best[0]:
            best = (score, name, {k: unquote(v) for k, v in matched.groupdict().items()})
    return (protocol, best[1], best[2]) if best else None


def _operation_model(call: Call):  # type: ignore[no-untyped-def]
    from moto.core.utils import get_service_model

    return get_service_model(call.service).operation_model(call.operation)


def _moto_request(call: Call, fields: dict[str, list[str]], url_params: dict[str, str]) -> dict[str, Any]:
    """The request as moto's protocol parsers take it."""
    from werkzeug.datastructures import MultiDict

    return {
        "method": call.method,
        "values": MultiDict([(k, v) for k, values in fields.items() for v in values]),
        "headers": call.headers,
        "body": call.body,
        "url_path": urlsplit(call.path).path,
        "url_params": url_params,
    }


def api_params(call: Call) -> dict[str, Any]:
    """The request's parameters under their API (botocore) names."""
    if call.protocol == "rest-json":
        from moto.core.parse import RestJSONParser

        route = _rest_route(call.service, call.method, call.path)
        query = parse_qs(urlsplit(call.path).query, keep_blank_values=True)
        return RestJSONParser(_operation_model(call)).parse(_moto_request(call, query, route[2] if route else {}))
    if call.protocol in ("query", "ec2"):
        from moto.core.parse import EC2QueryParser, QueryParser

        fields = parse_qs(urlsplit(call.path).query, keep_blank_values=True)
        if call.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            fields.update(parse_qs(call.body.decode("utf-8", "replace"), keep_blank_values=True))
        parser = EC2QueryParser if call.protocol == "ec2" else QueryParser
        return parser(_operation_model(call)).parse(_moto_request(call, fields, {}))
    return call.params()


def _protocol_of(service: str) -> str:
    return _rest_routes(service)[0]


def api_response(call: Call, reply: Reply) -> dict[str, Any]:
    """A wire answer parsed the way botocore parses it (API names, datetimes)."""
    from botocore.parsers import create_parser
    from moto.core.utils import get_service_model

    operation = get_service_model(call.service).operation_model(call.operation)
    parser = create_parser(call.protocol)
    return parser.parse({"body": reply.body, "headers": reply.headers, "status_code": reply.status}, operation.output_shape)


def api_reply(call: Call, body: Mapping[str, Any]) -> Reply:
    """A successful answer to `call`, from a botocore-style response dict (datetimes for timestamps),
    serialized the way moto serializes its own answers for that protocol."""
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    protocol = "rest-json" if call.protocol == "rest-json" else "json" if call.protocol == "json" else call.protocol
    operation = get_service_model(call.service).operation_model(call.operation)
    serialized = get_serializer_class(call.service, protocol)(operation).serialize(dict(body))
    headers = dict(serialized["headers"])
    if protocol == "json":
        headers["Content-Type"] = call.headers.get("content-type", "application/x-amz-json-1.1")
    headers["x-amzn-RequestId"] = str(uuid.uuid4())
    raw = serialized["body"]
    return Reply(int(serialized["status_code"]), headers, raw.encode() if isinstance(raw, str) else raw)


# --- error shapes ------------------------------------------------------------------------------


def access_denied(call: Call, caller_arn: str, resource: str = "*") -> Reply:
    """AccessDenied as AWS sends it for `call`'s protocol."""
    message = (
        f"User: {caller_arn} is not authorized to perform: {call.action} on resource: {resource} "
        f"because no identity-based policy allows the {call.action} action"
    )
    if call.protocol == "ec2":
        message = f"You are not authorized to perform this operation. {message}"
        return error_reply(call, "UnauthorizedOperation", message, 403)
    if call.protocol in ("query", "rest-xml", "unknown"):
        return error_reply(call, "AccessDenied", message, 403)
    return error_reply(call, "AccessDeniedException", message, 400 if call.protocol == "json" else 403)


def error_reply(call: Call, code: str, message: str, status: int = 400) -> Reply:
    """An API error in the shape of `call`'s protocol."""
    request_id = str(uuid.uuid4())
    if call.protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return Reply(status, {"Content-Type": call.headers.get("content-type", "application/x-amz-json-1.1"), "x-amzn-RequestId": request_id}, body)
    if call.protocol == "rest-json":
        body = json.dumps({"message": message}).encode()
        return Reply(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}, body)
    if call.protocol == "smithy-rpc-v2-cbor":
        body = _cbor_map({"__type": code, "message": message})
        return Reply(status, {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": request_id}, body)
    if call.protocol == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        return Reply(status, {"Content-Type": "text/xml;charset=UTF-8"}, body)
    # query protocol (IAM, STS, ELBv2...), rest-xml, and anything unidentified
    body = (
        f'<ErrorResponse xmlns="https://{call.service}.amazonaws.com/doc/"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return Reply(status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body)


def throttled(call: Call) -> Reply:
    """A throttling error as AWS sends it: ThrottlingException (JSON protocols, 400; REST JSON, 429),
    Throttling (query protocol: IAM, STS, ELB), RequestLimitExceeded (EC2, 503). botocore retries each."""
    if call.protocol == "ec2":
        return error_reply(call, "RequestLimitExceeded", "Request limit exceeded.", 503)
    if call.protocol in ("query", "rest-xml", "unknown"):
        return error_reply(call, "Throttling", "Rate exceeded", 400)
    return error_reply(call, "ThrottlingException", "Rate exceeded", 429 if call.protocol == "rest-json" else 400)


def unavailable(call: Call, status: int = 503) -> Reply:
    """A server-side error (500, 503...) in the protocol's shape: botocore retries every 5xx."""
    if status == 503:
        code = {"ec2": "Unavailable", "query": "ServiceUnavailable", "rest-xml": "ServiceUnavailable"}.get(call.protocol, "ServiceUnavailableException")
        return error_reply(call, code, "Service Unavailable", 503)
    code = {"ec2": "InternalError", "query": "InternalFailure", "rest-xml": "InternalError"}.get(call.protocol, "InternalServerException")
    return error_reply(call, code, "We encountered an internal error. Please try again.", status)


def expired_token(call: Call) -> Reply:
    """Temporary credentials AWS no longer accepts: ExpiredTokenException (JSON protocols), ExpiredToken
    (query protocol), RequestExpired (EC2). botocore does not retry these; refreshing is the caller's job."""
    message = "The security token included in the request is expired"
    if call.protocol == "ec2":
        return error_reply(call, "RequestExpired", message, 400)
    if call.protocol in ("query", "rest-xml", "unknown"):
        return error_reply(call, "ExpiredToken", message, 403)
    return error_reply(call, "ExpiredTokenException", message, 403 if call.protocol == "rest-json" else 400)


def _cbor_map(values: Mapping[str, str]) -> bytes:
    """A CBOR map of text strings (all an error body needs)."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        if length < 65536:
            return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
        return bytes([major << 5 | 26]) + length.to_bytes(4, "big")

    out = head(5, len(values))
    for key, value in values.items():
        for text in (key, value):
            data = text.encode()
            out += head(3, len(data)) + data
    return out


# --- faults: small functions that compose --------------------------------------------------------
#
# A fault takes a Call and returns a Reply (sent instead of moto's answer), DROP (the connection is
# closed without an answer), or None (the call goes on to the next fault and then to moto). Plug them
# in with `proxy.add_fault(what, fault)`, where `what` is an action, a list of them, or a predicate
# such as `in_region("eu-west-1")`. Rewriters (`truncate_body`, `non_json_body`) change moto's answer.
#
#     proxy.add_fault(lambda call: True, throttle_every(5))             # every 5th call throttled
#     proxy.add_fault(lambda call: True, server_error_every(100, 503))  # every 100th of the rest: 503
#     proxy.add_fault(in_region("eu-west-1"), delay(5))                 # a region that times out
#     proxy.add_fault(in_account("111111111111"), denied(proxy.caller_arn))
#     proxy.add_fault(lambda call: True, expire_credentials_after(20))  # assumed-role keys expire
#     proxy.add_rewriter("ecs:DescribeServices", truncate_body())


# Returned by a fault: close the connection without answering (a refused or reset connection).
DROP = Reply(0, {}, b"")


def in_region(*regions: str) -> Callable[[Call], bool]:
    """Calls signed for one of `regions` (the SigV4 credential scope)."""
    wanted = set(regions)
    return lambda call: call.region in wanted


def in_account(*accounts: str) -> Callable[[Call], bool]:
    """Calls moto serves from one of `accounts` (by the signing access key: see Call.account)."""
    wanted = set(accounts)
    return lambda call: call.account in wanted


def every(n: int, fault: Fault) -> Fault:
    """`fault` on the nth, 2nth, 3nth... call that reaches it; the others pass. Deterministic: the count
    is over the calls this plug sees (retries included), whichever thread sends them."""
    if n < 1:
        raise ValueError("n must be at least 1")
    lock = threading.Lock()
    seen = [0]

    def plug(call: Call) -> Reply | None:
        with lock:
            seen[0] += 1
            hit = seen[0] % n == 0
        return fault(call) if hit else None

    return plug


def after(n: int, fault: Fault) -> Fault:
    """The first `n` calls pass; `fault` answers every later one (e.g. AssumeRole refused once a run is
    under way)."""
    lock = threading.Lock()
    seen = [0]

    def plug(call: Call) -> Reply | None:
        with lock:
            seen[0] += 1
            hit = seen[0] > n
        return fault(call) if hit else None

    return plug


def throttle_every(n: int) -> Fault:
    """Every nth call throttled, in the shape AWS uses for its protocol."""
    return every(n, throttled)


def server_error_every(n: int, status: int = 503) -> Fault:
    """Every nth call answered with a server error (503 Service Unavailable by default)."""
    return every(n, lambda call: unavailable(call, status))


class TokenBuckets:
    """AWS-style throttling: one token bucket per (account, region, operation), `capacity` tokens
    refilled at `refill` a second (the issue's model of ECS: 50 and 20); a call finding its bucket
    empty is throttled in its protocol's shape. `throttled` counts those answers per "<service>.<Op>",
    `calls` every call that reached the buckets. Plug in with
    `proxy.add_fault(lambda call: True, buckets.fault(), "throttled")`."""

    def __init__(self, capacity: float = 50, refill: float = 20, clock: Callable[[], float] = time.monotonic):
        self.capacity, self.refill = capacity, refill
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.throttled: dict[str, int] = {}

    def take(self, call: Call) -> bool:
        """Take a token for `call`; False when its bucket is empty."""
        key = (call.account, call.region, call.key)
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill)
            self.calls[call.key] = self.calls.get(call.key, 0) + 1
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                self.throttled[call.key] = self.throttled.get(call.key, 0) + 1
                return False
            self._buckets[key] = (tokens - 1, now)
            return True

    def fault(self) -> Fault:
        def plug(call: Call) -> Reply | None:
            return None if self.take(call) else throttled(call)

        return plug


def delay(seconds: float) -> Fault:
    """Hold the call for `seconds`, then let it go on: longer than the client's read timeout, it is a
    timeout (the answer, if any, goes to a closed connection)."""

    def plug(call: Call) -> None:
        time.sleep(seconds)
        return None

    return plug


def drop_connection() -> Fault:
    """Close the connection without an answer, like an endpoint that resets connections."""
    return lambda call: DROP


def denied(caller_arn: str, resource: str = "*") -> Fault:
    """AccessDenied in the protocol's shape (for an account, a region, an operation...)."""
    return lambda call: access_denied(call, caller_arn, resource)


def expire_credentials_after(n: int) -> Fault:
    """Temporary credentials (requests with a session token) stop being accepted after `n` calls each:
    call n+1 and every later call signed with the same access key gets ExpiredToken in the protocol's
    shape, until the client assumes the role again and signs with a new key."""
    lock = threading.Lock()
    uses: dict[str, int] = {}

    def plug(call: Call) -> Reply | None:
        if not call.session_token:
            return None
        with lock:
            uses[call.access_key] = uses.get(call.access_key, 0) + 1
            expired = uses[call.access_key] > n
        return expired_token(call) if expired else None

    return plug


def truncate_body(keep: float = 0.5) -> Rewriter:
    """A successful answer cut short (a well-formed HTTP response whose body is the first part of moto's)."""

    def rewrite(call: Call, reply: Reply) -> Reply | None:
        if reply.status >= 300 or len(reply.body) < 2:
            return None
        return Reply(reply.status, reply.headers, reply.body[: max(1, int(len(reply.body) * keep))])

    return rewrite


def non_json_body(body: bytes = b"<html><body><h1>502 Bad Gateway</h1></body></html>") -> Rewriter:
    """A successful status with a body that is not the API's (an HTML page from a middlebox)."""

    def rewrite(call: Call, reply: Reply) -> Reply | None:
        if reply.status >= 300:
            return None
        return Reply(200, {"Content-Type": "text/html"}, body)

    return rewrite


# --- the proxy ---------------------------------------------------------------------------------


@dataclass
class _Plug:
    match: Callable[[Call], bool]
    name: str


@dataclass
class _FaultPlug(_Plug):
    fault: Fault = field(default=lambda call: None)


@dataclass
class _RewritePlug(_Plug):
    rewriter: Rewriter = field(default=lambda call, reply: None)


def _matcher(what: str | Iterable[str] | Callable[[Call], bool]) -> Callable[[Call], bool]:
    """A call matcher from "ecs:ListTasks" (IAM action), "ecs.ListTasks" (service.Operation), "ecs:*",
    a list of those, or a predicate."""
    if callable(what):
        return what
    names = [what] if isinstance(what, str) else list(what)

    def match(call: Call) -> bool:
        for name in names:
            if name in (call.action, call.key):
                return True
            if name.endswith("*") and (call.action.startswith(name[:-1]) or call.key.startswith(name[:-1])):
                return True
        return False

    return match


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 in front of `upstream` (the moto server's URL)."""

    def __init__(self, upstream: str, *, caller_arn: str = "arn:aws:iam::123456789012:user/ecs-audit-e2e", timeout: float = 30.0):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.caller_arn = caller_arn
        self.timeout = timeout
        self.calls: list[Call] = []
        self._faults: list[_FaultPlug] = []
        self._rewriters: list[_RewritePlug] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FaultProxy":
        handler = type("ProxyHandler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for it, and tests start and stop many proxies.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # plugging in

    def add_fault(self, what: str | Iterable[str] | Callable[[Call], bool], fault: Fault, name: str = "fault") -> None:
        with self._lock:
            self._faults.append(_FaultPlug(_matcher(what), name, fault))

    def add_rewriter(self, what: str | Iterable[str] | Callable[[Call], bool], rewriter: Rewriter, name: str = "rewrite") -> None:
        with self._lock:
            self._rewriters.append(_RewritePlug(_matcher(what), name, rewriter))

    def deny(self, *actions: str, resource: str = "*") -> None:
        """Answer these operations ("ecs:ListTasks", "ecs.ListTasks", "ecs:Describe*") with AccessDenied."""
        for action in actions:
            self.add_fault(action, lambda call: access_denied(call, self.caller_arn, resource), name=f"deny {action}")

    def deny_account(self, *accounts: str) -> None:
        """Answer every call served from these accounts with AccessDenied (an account that refuses)."""
        self.add_fault(in_account(*accounts), denied(self.caller_arn), name=f"deny account {','.join(accounts)}")

    def deny_region(self, *regions: str) -> None:
        """Answer every call signed for these regions with AccessDenied (an SCP that blocks the region)."""
        self.add_fault(in_region(*regions), denied(self.caller_arn), name=f"deny region {','.join(regions)}")

    def rewrite_json(self, what: str | Iterable[str], edit: Callable[[Call, Any], Any]) -> None:
        """Edit successful JSON-protocol answers: `edit(call, body)` changes `body` in place or returns a new one."""

        def rewriter(call: Call, reply: Reply) -> Reply | None:
            if reply.status >= 300 or call.protocol not in ("json", "rest-json"):
                return None
            body = reply.json()
            replaced = edit(call, body)
            if replaced is not None:
                body = replaced
            return Reply(reply.status, reply.headers, json.dumps(body).encode())

        self.add_rewriter(what, rewriter, name=f"rewrite {what}")

    def clear(self) -> None:
        """Forget faults, rewriters and recorded calls."""
        with self._lock:
            self._faults.clear()
            self._rewriters.clear()
            self.calls.clear()

    # what was seen

    def operations(self) -> list[str]:
        """Every call's IAM action, in order."""
        with self._lock:
            return [c.action for c in self.calls]

    def seen(self, what: str) -> list[Call]:
        match = _matcher(what)
        with self._lock:
            return [c for c in self.calls if match(c)]

    def mutating_calls(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.mutating]

    # the work

    def _handle(self, call: Call) -> Reply:
        call.started = time.monotonic()
        try:
            return self._answer(call)
        finally:
            call.ended = time.monotonic()

    def _answer(self, call: Call) -> Reply:
        identify(call)
        with self._lock:
            self.calls.append(call)
            faults = [p for p in self._faults if p.match(call)]
            rewriters = [p for p in self._rewriters if p.match(call)]
        for plug in faults:
            reply = plug.fault(call)
            if reply is not None:
                call.injected = plug.name
                call.status = reply.status
                return reply
        reply = self._forward(call)
        for plug in rewriters:
            changed = plug.rewriter(call, reply)
            if changed is not None:
                reply = changed
                call.rewritten = True
        call.status = reply.status
        return reply

    def _forward(self, call: Call) -> Reply:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=self.timeout)
        try:
            headers = {k: v for k, v in call.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(call.body))
            connection.request(call.method, call.path, body=call.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            return Reply(response.status, {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}, body)
        finally:
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"
    # An answer goes out in two writes (headers, then body). With Nagle's algorithm the body waits
    # for the ACK of the headers, which the client delays by up to 40 ms: every call would take 40 ms
    # more than the latency the tests set (AWS's endpoints answer without that wait).
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(length) if length else b""
        call = Call(method=self.command, path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        try:
            reply = self.proxy._handle(call)
        except Exception as exc:  # an upstream failure becomes a 502, never a hung client
            reply = Reply(502, {"Content-Type": "text/plain"}, f"fault proxy: {type(exc).__name__}: {exc}".encode())
            call.status = 502
        if reply is DROP:
            self.close_connection = True
            return
        try:
            self.send_response_only(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:  # the client gave up (its read timeout): nobody is listening
            self.close_connection = True

    def _read_chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


# --- the demo's enrichment, on the wire ----------------------------------------------------------


def install_enrichment(proxy: FaultProxy, facts: Any) -> None:
    """Make moto answer like AWS, with the functions the demo's botocore hooks use
    (ecs_audit.demo.enrich): enrichers add to moto's answers (JSON, or parsed and serialized again for
    REST JSON and XML) what AWS returns and moto does not (registeredBy/At, task availabilityZone...);
    stubs answer the operations moto has no handler for (GuardDuty ListCoverage, Compute Optimizer
    GetECSServiceRecommendations, CodeDeploy BatchGetDeploymentGroups...)."""
    from ecs_audit.demo.enrich import ENRICHERS, STUBS, StubError, answer, as_datetime, as_epoch, enrich

    def edit(call: Call, body: Any) -> None:
        if isinstance(body, dict):
            enrich(call.key, call.params(), body, call.region or "us-east-1", facts, as_epoch)

    def rest_edit(call: Call, reply: Reply) -> Reply | None:
        # rest-json bodies use wire names, query and EC2 ones are XML: parse to API names, enrich,
        # serialize again.
        if reply.status >= 300 or call.protocol not in ("rest-json", "query", "ec2"):
            return None
        body = api_response(call, reply)
        enrich(call.key, api_params(call), body, call.region or "us-east-1", facts, as_datetime)
        body.pop("ResponseMetadata", None)
        return api_reply(call, body)

    for key in ENRICHERS:
        if _protocol_of(key.split(".", 1)[0]) in ("rest-json", "query", "ec2"):
            proxy.add_rewriter(key, rest_edit, name=f"enrich {key}")
        else:
            proxy.rewrite_json(key, edit)

    def stub(call: Call) -> Reply | None:
        try:
            body = answer(call.key, api_params(call), call.region or "us-east-1", facts, as_datetime)
        except StubError as error:
            return error_reply(call, error.code, error.message, error.status)
        return None if body is None else api_reply(call, body)

    for key in STUBS:
        proxy.add_fault(key, stub, name=f"stub {key}")
