"""The fault-injection harness's fault kinds (tests/support/proxy.py): each produces what botocore makes
of the real thing, and the tool's clients (ecs_audit.session) react as docs/reliability.md says.

Fast: a client or two against the session's moto server through a proxy, no CLI run."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.session import ClientFactory, MalformedResponse
from tests.support.moto_server import TEST_CREDENTIALS, MotoServer
from tests.support.proxy import (
    DROP,
    FaultProxy,
    delay,
    drop_connection,
    every,
    expire_credentials_after,
    expired_token,
    in_account,
    in_region,
    non_json_body,
    server_error_every,
    throttle_every,
    throttled,
    truncate_body,
    unavailable,
)

pytestmark = pytest.mark.e2e

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    # These tests talk to an empty account: earlier modules (and the benchmark smoke run, which shares
    # moto's in-process backends) leave estates behind.
    moto_server.reset()
    with FaultProxy(moto_server.url) as running:
        yield running


def _client(moto_server: MotoServer, proxy: FaultProxy, service: str, config: Config = NO_RETRIES, region: str = "eu-west-1", **credentials: str):
    session = boto3.Session(region_name=region, **(credentials or TEST_CREDENTIALS))
    return session.client(service, region_name=region, endpoint_url=proxy.url, config=config)


# (service, call, kwargs, protocol) one per wire protocol the collectors use
PROTOCOLS = [
    ("ecs", "list_clusters", {}, "json"),
    ("iam", "list_roles", {}, "query"),
    ("ec2", "describe_subnets", {}, "ec2"),
    ("guardduty", "list_detectors", {}, "rest-json"),
]
THROTTLE_CODES = {"json": "ThrottlingException", "query": "Throttling", "ec2": "RequestLimitExceeded", "rest-json": "ThrottlingException"}
EXPIRED_CODES = {"json": "ExpiredTokenException", "query": "ExpiredToken", "ec2": "RequestExpired", "rest-json": "ExpiredTokenException"}


@pytest.mark.parametrize(("service", "method", "kwargs", "protocol"), PROTOCOLS, ids=[p[3] for p in PROTOCOLS])
def test_error_shapes_are_what_botocore_expects(moto_server: MotoServer, proxy: FaultProxy, service, method, kwargs, protocol) -> None:
    client = _client(moto_server, proxy, service)
    for fault, code in ((throttled, THROTTLE_CODES[protocol]), (expired_token, EXPIRED_CODES[protocol])):
        proxy.clear()
        proxy.add_fault(lambda call: True, fault)
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            getattr(client, method)(**kwargs)
        assert raised.value.response["Error"]["Code"] == code
        assert proxy.calls[0].protocol == protocol
    proxy.clear()
    proxy.add_fault(lambda call: True, lambda call: unavailable(call, 503))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        getattr(client, method)(**kwargs)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_botocore_retries_throttling_and_503s_through(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.add_fault(lambda call: True, throttle_every(2))
    proxy.add_fault(lambda call: True, server_error_every(2, 503))
    client = _client(moto_server, proxy, "ecs", Config(retries={"mode": "standard", "total_max_attempts": 5}))
    assert client.list_clusters()["clusterArns"] == []
    assert client.list_clusters()["clusterArns"] == []
    # The first call passes both plugs. The second is throttled (the throttle's 2nd), retried into a 503
    # (the 503 plug's 2nd), throttled again (4th), and answered on its fourth attempt.
    assert [c.status for c in proxy.calls] == [200, 400, 503, 400, 200]


def test_every_counts_deterministically(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.add_fault(lambda call: True, every(3, throttled))
    client = _client(moto_server, proxy, "ecs")
    outcomes = []
    for _ in range(9):
        try:
            client.list_clusters()
            outcomes.append("ok")
        except botocore.exceptions.ClientError:
            outcomes.append("throttled")
    assert outcomes == ["ok", "ok", "throttled"] * 3


def test_delay_is_a_read_timeout(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.add_fault(in_region("eu-west-1"), delay(2))
    slow = _client(moto_server, proxy, "ecs", Config(read_timeout=0.5, retries={"total_max_attempts": 1, "mode": "standard"}))
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        slow.list_clusters()
    assert time.monotonic() - started < 1.9
    # another region is not held
    assert _client(moto_server, proxy, "ecs", region="us-east-1").list_clusters()["clusterArns"] == []


def test_dropped_connections_are_connection_errors(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.add_fault(lambda call: True, drop_connection())
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)):
        _client(moto_server, proxy, "ecs").list_clusters()
    assert proxy.calls[0].status == DROP.status


def test_deny_by_region_and_account(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.deny_region("eu-west-1")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        _client(moto_server, proxy, "ecs").list_clusters()
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert _client(moto_server, proxy, "ecs", region="us-east-1").list_clusters()["clusterArns"] == []

    proxy.clear()
    sts = _client(moto_server, proxy, "sts", region="us-east-1")
    creds = sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/Audit", RoleSessionName="harness")["Credentials"]
    proxy.deny_account("111111111111")
    member = _client(moto_server, proxy, "ecs", region="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                     aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    with pytest.raises(botocore.exceptions.ClientError):
        member.list_clusters()
    assert _client(moto_server, proxy, "ecs", region="us-east-1").list_clusters()["clusterArns"] == []  # the default account
    assert [c.account for c in proxy.calls[-2:]] == ["111111111111", "123456789012"]
    assert in_account("111111111111")(proxy.calls[-2])


def test_credentials_expire_after_n_calls_per_key(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.add_fault(lambda call: True, expire_credentials_after(2))
    sts = _client(moto_server, proxy, "sts", region="us-east-1")
    creds = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/Audit", RoleSessionName="harness")["Credentials"]
    ecs = _client(moto_server, proxy, "ecs", region="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                  aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    ecs.list_clusters()
    ecs.list_clusters()
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ecs.list_clusters()
    assert raised.value.response["Error"]["Code"] == "ExpiredTokenException"
    # long-term keys (no session token) never expire
    for _ in range(3):
        sts.get_caller_identity()


@pytest.mark.parametrize(
    ("action", "rewriter"),
    [
        ("ecs:ListClusters", truncate_body()),
        ("ecs:ListClusters", non_json_body()),
        ("guardduty:ListDetectors", non_json_body(b"not json at all")),
        ("elasticloadbalancing:DescribeLoadBalancers", non_json_body()),
        ("elasticloadbalancing:DescribeLoadBalancers", truncate_body()),
        ("ec2:DescribeSubnets", non_json_body(b"")),
    ],
    ids=["json-truncated", "json-html", "rest-json-text", "query-html", "query-truncated", "ec2-empty"],
)
def test_malformed_answers_are_errors_for_the_tools_clients(moto_server: MotoServer, proxy: FaultProxy, action, rewriter) -> None:
    """Plain botocore reads a JSON body it cannot parse as {"message": ...} and a well-formed foreign XML
    page as an answer without data: an empty list. The tool's clients refuse both."""
    proxy.add_rewriter(action, rewriter)
    service = {"ecs": "ecs", "guardduty": "guardduty", "elasticloadbalancing": "elbv2", "ec2": "ec2"}[action.split(":")[0]]
    method = {"ecs": "list_clusters", "guardduty": "list_detectors", "elbv2": "describe_load_balancers", "ec2": "describe_subnets"}[service]
    session = boto3.Session(region_name="eu-west-1", **TEST_CREDENTIALS)
    factory = ClientFactory(_EndpointSession(session, proxy.url), ALLOWED_ACTIONS)
    with pytest.raises((MalformedResponse, botocore.parsers.ResponseParserError)):
        getattr(factory.client(service, "eu-west-1"), method)()


class _EndpointSession:
    """A boto3 session whose clients go to `url` (what AWS_ENDPOINT_URL does for the CLI)."""

    def __init__(self, session: boto3.Session, url: str):
        self._session, self._url = session, url

    def client(self, service: str, **kwargs):
        return self._session.client(service, endpoint_url=self._url, **kwargs)

    def get_credentials(self):
        return self._session.get_credentials()
