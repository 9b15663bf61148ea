"""What every AWS client of the tool gets, and how collection records faults (docs/reliability.md):
retry and timeout settings, malformed answers refused, expired assumed-role credentials renewed,
endpoints that do not answer not asked again, and a region whose clusters could not be listed never
judged PASS or not applicable."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.parsers import ResponseParserError

from ecs_audit.catalogue import Area, Catalogue, CheckEntry, Scope, Severity
from ecs_audit.collect.base import CollectContext
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import evaluate
from ecs_audit.errors import UsageError
from ecs_audit.findings import Status, fail, na, ok
from ecs_audit.rules.registry import RegisteredCheck
from ecs_audit.session import (
    AssumedRoleCredentials,
    MalformedResponse,
    RefreshWindows,
    _refuse_malformed,
    _renew_when_expired,
    client_config,
)
from tests.support.estate import build_inventory, result_key

# --- settings ---------------------------------------------------------------------------------


def test_defaults_and_environment(monkeypatch) -> None:
    config = client_config()
    assert (config.read_timeout, config.retries) == (30.0, {"mode": "adaptive", "total_max_attempts": 9})
    monkeypatch.setenv("ECS_AUDIT_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    config = client_config()
    assert (config.read_timeout, config.retries["total_max_attempts"]) == (2.5, 3)


@pytest.mark.parametrize(("variable", "value"), [("ECS_AUDIT_READ_TIMEOUT", "nan"), ("ECS_AUDIT_READ_TIMEOUT", "901"), ("AWS_MAX_ATTEMPTS", "1.5"), ("AWS_MAX_ATTEMPTS", "21")])
def test_bad_settings_are_usage_errors(monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(UsageError, match=variable):
        client_config()


# --- assumed-role credentials ---------------------------------------------------------------------


def _fetcher(duration: int):
    calls: list[str] = []

    def fetch() -> dict[str, Any]:
        calls.append("AssumeRole")
        n = len(calls)
        expiry = datetime.now(timezone.utc) + timedelta(seconds=duration)
        return {"access_key": f"ASIA{n:016d}", "secret_key": "s", "token": f"t{n}", "expiry_time": expiry.isoformat()}

    return fetch, calls


def test_the_shortest_session_is_not_renewed_before_every_call() -> None:
    """botocore renews 15 minutes ahead: a 900-second session would be assumed again for every call."""
    assert RefreshWindows.for_duration(900) == RefreshWindows(300, 150)
    assert RefreshWindows.for_duration(3600) == RefreshWindows(900, 600)
    fetch, calls = _fetcher(900)
    credentials = AssumedRoleCredentials(fetch, {}, "arn:aws:iam::123456789012:role/audit", RefreshWindows.for_duration(900))
    keys = {credentials.get_frozen_credentials().access_key for _ in range(20)}
    assert len(calls) == 1 and len(keys) == 1


def _expired_response(code: str = "ExpiredTokenException") -> tuple[Any, dict[str, Any]]:
    return (object(), {"Error": {"Code": code, "Message": "The security token included in the request is expired"}})


def test_an_expired_answer_renews_once_and_retries() -> None:
    fetch, calls = _fetcher(3600)
    credentials = AssumedRoleCredentials(fetch, {}, "arn:aws:iam::123456789012:role/audit", RefreshWindows.for_duration(3600))
    first = credentials.get_frozen_credentials().access_key
    renew = _renew_when_expired(credentials)
    request = {"context": {"ecs_audit_access_key": first}}
    assert renew(response=_expired_response(), request_dict=request) == 0
    second = credentials.get_frozen_credentials().access_key
    assert second != first and len(calls) == 2
    # another call that was signed with the old key: retried with the new one, no second AssumeRole
    assert renew(response=_expired_response("ExpiredToken"), request_dict={"context": {"ecs_audit_access_key": first}}) == 0
    assert len(calls) == 2
    # other errors are not this hook's business
    assert renew(response=_expired_response("AccessDeniedException"), request_dict={"context": {}}) is None
    # a call keeps being rejected: it gives up after a few renewals
    stubborn = {"context": {}}
    assert [renew(response=_expired_response(), request_dict=stubborn) for _ in range(4)] == [0, 0, 0, None]


def test_when_renewal_fails_the_error_names_the_cause() -> None:
    def refused() -> dict[str, Any]:
        raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}}, "AssumeRole")

    credentials = AssumedRoleCredentials(refused, {}, "arn:aws:iam::123456789012:role/audit", RefreshWindows.for_duration(3600))
    response = _expired_response()
    assert _renew_when_expired(credentials)(response=response, request_dict={"context": {}}) is None
    message = response[1]["Error"]["Message"]
    assert message == (
        "The security token included in the request is expired; assuming arn:aws:iam::123456789012:role/audit again failed: "
        "AccessDenied: not authorized to perform: sts:AssumeRole"
    )


# --- malformed answers ----------------------------------------------------------------------------------


def _operation(service: str, name: str):
    return boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").client(service).meta.service_model.operation_model(name)


@pytest.mark.parametrize(
    ("service", "operation", "body", "refused"),
    [
        ("ecs", "ListClusters", b'{"clusterArns": []}', False),
        ("ecs", "ListClusters", b'{"clusterArns": [', True),
        ("ecs", "ListClusters", b"<html>502</html>", True),
        ("ecs", "ListClusters", b"[]", True),
        ("ecs", "ListClusters", b"", True),
        ("guardduty", "ListDetectors", b'{"detectorIds": []}', False),
        ("guardduty", "ListDetectors", b"upstream reset", True),
        ("elbv2", "DescribeLoadBalancers", b'<DescribeLoadBalancersResponse xmlns="x"><DescribeLoadBalancersResult/></DescribeLoadBalancersResponse>', False),
        ("elbv2", "DescribeLoadBalancers", b"<html><body>502 Bad Gateway</body></html>", True),
        ("ec2", "DescribeSubnets", b'<?xml version="1.0"?>\n<DescribeSubnetsResponse xmlns="x"/>', False),
        ("ec2", "DescribeSubnets", b"", True),
    ],
)
def test_successful_answers_that_are_not_the_apis_are_refused(service, operation, body, refused) -> None:
    response = {"status_code": 200, "headers": {}, "body": body}
    if refused:
        with pytest.raises(MalformedResponse, match=r"answered HTTP 200 with"):
            _refuse_malformed(operation_model=_operation(service, operation), response_dict=response)
    else:
        _refuse_malformed(operation_model=_operation(service, operation), response_dict=response)


def test_error_answers_are_left_to_botocore() -> None:
    _refuse_malformed(operation_model=_operation("ecs", "ListClusters"), response_dict={"status_code": 503, "headers": {}, "body": b"<html/>"})


# --- collection ---------------------------------------------------------------------------------


class _Client:
    def __init__(self, exc: Exception):
        self.exc, self.calls = exc, 0

    def list_clusters(self, **_: Any) -> Any:
        self.calls += 1
        raise self.exc

    describe_clusters = list_task_definition_families = list_clusters


class _Factory:
    def __init__(self, client: _Client):
        self._client = client

    def client(self, service: str, region: str) -> _Client:
        return self._client


def test_an_endpoint_that_does_not_answer_is_not_asked_again() -> None:
    client = _Client(botocore.exceptions.ReadTimeoutError(endpoint_url="https://ecs.eu-west-1.amazonaws.com/"))
    ctx = CollectContext(_Factory(client), "123456789012", "eu-west-1")  # type: ignore[arg-type]
    assert ctx.call("ecs", "ListClusters") is None
    assert ctx.call("ecs", "DescribeClusters", clusters=["a"], resources=["arn:a"]) is None
    assert ctx.call("ecs", "ListTaskDefinitionFamilies") is None
    assert client.calls == 1
    assert [(e.operation, e.error_code) for e in ctx.errors] == [
        ("ListClusters", "ReadTimeoutError"), ("DescribeClusters", "ReadTimeoutError"), ("ListTaskDefinitionFamilies", "ReadTimeoutError")
    ]  # fmt: skip
    assert ctx.errors[1].message.startswith("not sent: an earlier ecs call got no answer here") and ctx.errors[1].resources == ["arn:a"]


def test_other_failures_do_not_stop_later_calls() -> None:
    client = _Client(botocore.exceptions.ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "ListClusters"))
    ctx = CollectContext(_Factory(client), "123456789012", "eu-west-1")  # type: ignore[arg-type]
    ctx.call("ecs", "ListClusters")
    ctx.call("ecs", "ListClusters")
    assert client.calls == 2


def test_unparseable_answers_are_recorded_as_malformed() -> None:
    client = _Client(ResponseParserError("Unable to parse response (syntax error), invalid XML received"))
    ctx = CollectContext(_Factory(client), "123456789012", "eu-west-1")  # type: ignore[arg-type]
    assert ctx.call("ecs", "ListClusters") is None
    assert [(e.error_code, e.message[:22]) for e in ctx.errors] == [("MalformedResponse", "Unable to parse respon")]


# --- a region whose clusters could not be listed ------------------------------------------------------------


def _account_check(verdict):
    entry = CheckEntry(id="TEST-001", title="A test check", severity=Severity.HIGH, scope=[Scope.ACCOUNT],
                       rationale="because tests need one", remediation="fix the test estate")  # fmt: skip
    catalogue = Catalogue(areas=[Area(area="TEST", title="Test", order=1, checks=[entry])])
    registry = {"TEST-001": RegisteredCheck("TEST-001", lambda subject: verdict)}
    estate = {"errors": [{"service": "ecs", "operation": "ListClusters", "error_code": "ReadTimeoutError", "message": "Read timeout"}], "auto_clusters": False}
    findings = evaluate(build_inventory(estate), catalogue, registry, AuditConfig())
    return {result_key(f): f for f in findings}["account"]


@pytest.mark.parametrize("verdict", [ok("nothing in use is unprotected"), na("no task definition is in use in this region")], ids=["PASS", "N/A"])
def test_account_results_that_could_rest_on_an_empty_cluster_list_are_unknown(verdict) -> None:
    finding = _account_check(verdict)
    assert finding.status is Status.UNKNOWN
    assert "ecs:ListClusters failed (ReadTimeoutError)" in finding.message


def test_what_was_found_still_stands() -> None:
    assert _account_check(fail("the account setting is off")).status is Status.FAIL
