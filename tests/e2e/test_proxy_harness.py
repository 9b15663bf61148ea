"""The fault-injection proxy itself: it forwards verbatim, identifies operations in every protocol, and
its injected errors are what botocore makes of real AWS errors."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.exceptions
import pytest
from botocore.config import Config

from tests.support.moto_server import MotoServer
from tests.support.proxy import FaultProxy

pytestmark = pytest.mark.e2e

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(moto_server.url) as running:
        yield running


def _client(moto_server: MotoServer, proxy: FaultProxy, service: str):
    return moto_server.session().client(service, region_name="eu-west-1", endpoint_url=proxy.url, config=NO_RETRIES)


# (service, call, kwargs, IAM action, protocol, error code botocore must raise)
CASES = [
    ("ecs", "list_clusters", {}, "ecs:ListClusters", "json", "AccessDeniedException"),
    ("iam", "list_roles", {}, "iam:ListRoles", "query", "AccessDenied"),
    ("sts", "get_caller_identity", {}, "sts:GetCallerIdentity", "query", "AccessDenied"),
    ("ec2", "describe_subnets", {}, "ec2:DescribeSubnets", "ec2", "UnauthorizedOperation"),
    ("elbv2", "describe_load_balancers", {}, "elasticloadbalancing:DescribeLoadBalancers", "query", "AccessDenied"),
    ("guardduty", "list_detectors", {}, "guardduty:ListDetectors", "rest-json", "AccessDeniedException"),
    ("guardduty", "get_detector", {"DetectorId": "abc123"}, "guardduty:GetDetector", "rest-json", "AccessDeniedException"),
    ("cloudwatch", "describe_alarms", {}, "cloudwatch:DescribeAlarms", "json", "AccessDeniedException"),
]


@pytest.mark.parametrize(("service", "method", "kwargs", "action", "protocol", "code"), CASES, ids=[c[3] for c in CASES])
def test_denied_calls_raise_what_aws_would(moto_server: MotoServer, proxy: FaultProxy, service, method, kwargs, action, protocol, code) -> None:
    proxy.deny(action)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        getattr(_client(moto_server, proxy, service), method)(**kwargs)
    error = raised.value.response["Error"]
    assert error["Code"] == code
    assert f"is not authorized to perform: {action}" in error["Message"]
    (call,) = proxy.calls
    assert (call.action, call.protocol, call.region, call.injected) == (action, protocol, "eu-west-1", f"deny {action}")


def test_undenied_calls_reach_moto_and_are_recorded(moto_server: MotoServer, proxy: FaultProxy) -> None:
    # The account must be empty: moto's backends are the process's, and an earlier module (the smoke
    # benchmark seeds in-process) may have left clusters behind.
    moto_server.reset()
    proxy.deny("ecs:ListTasks")
    assert _client(moto_server, proxy, "ecs").list_clusters()["clusterArns"] == []
    assert _client(moto_server, proxy, "ec2").describe_regions()["Regions"]
    assert proxy.operations() == ["ecs:ListClusters", "ec2:DescribeRegions"]
    assert [c.status for c in proxy.calls] == [200, 200]
    assert not proxy.mutating_calls()


def test_mutating_calls_are_recognised(moto_server: MotoServer, proxy: FaultProxy) -> None:
    ecs = _client(moto_server, proxy, "ecs")
    ecs.create_cluster(clusterName="harness-check")
    try:
        assert [c.action for c in proxy.mutating_calls()] == ["ecs:CreateCluster"]
    finally:
        ecs.delete_cluster(cluster="harness-check")


def test_json_rewriters_edit_answers(moto_server: MotoServer, proxy: FaultProxy) -> None:
    proxy.rewrite_json("ecs.ListClusters", lambda call, body: body.update(clusterArns=["arn:aws:ecs:eu-west-1:123456789012:cluster/made-up"]))
    assert _client(moto_server, proxy, "ecs").list_clusters()["clusterArns"] == ["arn:aws:ecs:eu-west-1:123456789012:cluster/made-up"]
    assert proxy.calls[0].rewritten


def test_answers_are_sent_without_waiting_for_the_clients_ack(moto_server: MotoServer, proxy: FaultProxy, monkeypatch) -> None:
    """An answer leaves in two writes (headers, body): with Nagle's algorithm on, the body waits for
    the ACK of the headers, which a keep-alive client delays by up to 40 ms, and every call through
    the proxy would take that much longer than the latency a test or the benchmark sets."""
    import socket

    from tests.support import proxy as proxy_module

    nodelay: list[int] = []
    setup = proxy_module._Handler.setup

    def recording_setup(handler) -> None:
        setup(handler)
        nodelay.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(proxy_module._Handler, "setup", recording_setup)
    client = _client(moto_server, proxy, "ecs")
    client.list_clusters()
    client.list_clusters()  # the same kept-alive connection
    assert nodelay and all(nodelay)
