"""Client-side pacing (ecs_audit/pacing.py) with a fake clock: never more requests than the shared
bucket allows, in any window, whoever asks; and every request of a guarded client passes through it."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from ecs_audit.pacing import DEFAULT_LIMIT, DEFAULT_SHARE, ECS_GROUPS, ECS_READ, Pacer, RateLimit, TokenBucket, check_share, limit_of
from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _most_in_a_window(sends: list[float], limit: RateLimit) -> float:
    """The largest excess of requests sent in any window [s_i, s_j] over what the bucket allows."""
    sends = sorted(sends)
    worst = float("-inf")
    for i in range(len(sends)):
        for j in range(i, len(sends)):
            allowed = limit.capacity + limit.refill * (sends[j] - sends[i])
            worst = max(worst, (j - i + 1) - allowed)
    return worst


@pytest.mark.parametrize("seed", range(5))
def test_reservations_never_exceed_the_bucket_in_any_window(seed: int):
    rng = random.Random(seed)
    clock = FakeClock()
    limit = RateLimit(10, 4)
    bucket = TokenBucket(limit, clock)
    arrivals = sorted(rng.uniform(0, 20) for _ in range(300))
    sends = []
    for arrival in arrivals:
        clock.now = 1000.0 + arrival
        sends.append(clock.now + bucket.reserve())
    assert _most_in_a_window(sends, limit) <= 1e-9
    # ... and it holds back no more than needed: from the first request, a burst of 10, then 4 a second.
    assert max(sends) - 1000.0 <= arrivals[0] + (300 - 10) / 4 + 1e-9


def test_a_full_bucket_lets_its_burst_through_at_once_then_the_refill_rate():
    clock = FakeClock()
    bucket = TokenBucket(RateLimit(5, 2), clock)
    delays = [bucket.reserve() for _ in range(9)]
    assert delays[:5] == [0.0] * 5
    assert delays[5:] == pytest.approx([0.5, 1.0, 1.5, 2.0])


def test_the_share_leaves_the_rest_of_each_bucket_to_the_account():
    clock = FakeClock()
    pacer = Pacer(0.5, clock=clock, sleep=clock.sleep)
    bucket = pacer.bucket("eu-west-1", "ecs", "DescribeServices")
    assert bucket.limit == RateLimit(100 * 0.5, 20 * 0.5)  # service reads: 100, refilled at 20
    assert Pacer().share == DEFAULT_SHARE
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError):
            check_share(bad)


def test_buckets_are_per_region_and_ecs_group_and_iam_is_account_wide():
    pacer = Pacer(1.0, clock=FakeClock())
    assert pacer.bucket("eu-west-1", "ecs", "ListServices") is pacer.bucket("eu-west-1", "ecs", "DescribeServices")
    assert pacer.bucket("eu-west-1", "ecs", "DescribeServices") is not pacer.bucket("us-east-1", "ecs", "DescribeServices")
    assert pacer.bucket("eu-west-1", "ecs", "DescribeTasks") is not pacer.bucket("eu-west-1", "ecs", "DescribeServices")
    assert pacer.bucket("eu-west-1", "iam", "GetRole") is pacer.bucket("us-east-1", "iam", "GetRole")
    assert limit_of("ecs", "DescribeTaskDefinition")[0] == limit_of("ecs", "ListTaskDefinitions")[0]
    assert limit_of("ecr", "DescribeImages")[0] != limit_of("ecr", "DescribeRepositories")[0]


def test_ecs_buckets_are_the_published_ones():
    from ecs_audit.inventory.parts import source_of

    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html, "Request Token
    # Bucket Sizes and Refill Rates": a few rows, and the actions that share a bucket.
    assert limit_of("ecs", "DescribeClusters") == ("ecs cluster read", RateLimit(50, 20))
    assert limit_of("ecs", "DescribeTaskDefinition") == ("ecs task definition read", RateLimit(50, 20))
    assert limit_of("ecs", "DescribeServices") == ("ecs service read", RateLimit(100, 20))
    assert limit_of("ecs", "ListTasks") == limit_of("ecs", "DescribeContainerInstances") == ("ecs cluster resource read", RateLimit(100, 20))
    assert limit_of("ecs", "ListServicesByNamespace")[1] == RateLimit(10, 1)
    assert limit_of("guardduty", "ListDetectors") == ("guardduty ListDetectors", DEFAULT_LIMIT)
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html publishes rates for
    # image pulls only; the ECR reads the audit makes keep the default.
    assert limit_of("ecr", "BatchGetImage") == ("ecr BatchGetImage", RateLimit(2000, 2000))
    assert limit_of("ecr", "GetAuthorizationToken")[1] == RateLimit(500, 500)
    for operation in source_of("ecr").operations:
        assert limit_of("ecr", operation) == (f"ecr {operation}", DEFAULT_LIMIT), operation
    # Every ECS operation the audit may call is in a published read category, but the managed-daemon
    # reads (ECS Managed Instances), which the published table does not list: they keep the default.
    grouped = {op for _, ops in ECS_GROUPS.values() for op in ops}
    unpublished = {"ListDaemons", "DescribeDaemon", "DescribeDaemonRevisions"}
    assert set(source_of("ecs").operations) - unpublished <= grouped
    for operation in unpublished:
        assert limit_of("ecs", operation) == (f"ecs {operation}", DEFAULT_LIMIT), operation


def test_every_request_of_a_guarded_client_waits_for_its_token():
    clock = FakeClock()
    pacer = Pacer(0.5, clock=clock, sleep=clock.sleep)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
    factory = ClientFactory(session, ALLOWED_ACTIONS, pacer=pacer)
    client = factory.client("ecs", "eu-west-1")
    sent: list[float] = []
    _network(client, clock, sent)
    for _ in range(60):
        client.list_clusters()
    shared = ECS_READ.share(0.5)
    assert len(sent) == 60
    assert _most_in_a_window(sent, shared) <= 1e-9
    assert sent[-1] - sent[0] == pytest.approx((60 - shared.capacity) / shared.refill)
    assert pacer.waited > 0



def _network(client: Any, clock: FakeClock, sent: list[float]) -> None:
    """Stands where the network would be (registered after the factory's own hooks)."""

    class Body:
        def stream(self, **_: Any):
            yield b'{"clusterArns": []}'

    def answer(**_: Any) -> AWSResponse:
        sent.append(clock.now)
        return AWSResponse("https://ecs.eu-west-1.amazonaws.com/", 200, {}, Body())

    client.meta.events.register("before-send", answer)


@pytest.mark.parametrize("paced", [False, True])
def test_pacing_off_removes_the_hook_and_every_wait_pacing_on_is_unchanged(paced: bool, monkeypatch: pytest.MonkeyPatch):
    clock = FakeClock()
    slept: list[float] = []
    asked: list[str] = []
    real_wait = Pacer.wait

    def spy(self: Pacer, region: str, client: str, operation: str) -> float:
        asked.append(operation)
        return real_wait(self, region, client, operation)

    monkeypatch.setattr(Pacer, "wait", spy)

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    pacer = Pacer(0.5, clock=clock, sleep=sleep)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
    factory = ClientFactory(session, ALLOWED_ACTIONS, pacer=pacer, paced=paced)
    client = factory.client("ecs", "eu-west-1")
    sent: list[float] = []
    _network(client, clock, sent)
    for _ in range(200):  # four times the shared cluster-read bucket
        client.list_clusters()
    assert len(sent) == 200
    shared = ECS_READ.share(0.5)
    if paced:
        assert factory.pacer is pacer and asked == ["ListClusters"] * 200
        assert sent[-1] - sent[0] == pytest.approx((200 - shared.capacity) / shared.refill)
        assert slept and pacer.waited > 0
    else:
        assert factory.pacer is None and asked == []
        assert sent[-1] == sent[0] and slept == [] and pacer.waited == 0
    # The read-only guard stays either way.
    with pytest.raises(Exception, match="(?i)read-only|not allowed|refus"):
        client.delete_cluster(cluster="x")


def _context(pacer: Pacer, clock: FakeClock, sent: list[tuple[float, str]], max_in_flight: int) -> Any:
    from ecs_audit.collect.base import CollectContext

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
    factory = ClientFactory(session, ALLOWED_ACTIONS, pacer=pacer)
    client = factory.client("ecs", "eu-west-1")

    class Body:
        def stream(self, **_: Any):
            yield b"{}"

    def answer(event_name: str = "", **_: Any) -> AWSResponse:
        sent.append((clock.now, event_name.rsplit(".", 1)[-1]))
        return AWSResponse("https://ecs.eu-west-1.amazonaws.com/", 200, {}, Body())

    client.meta.events.register("before-send", answer)
    return CollectContext(factory, "123456789012", "eu-west-1", max_in_flight=max_in_flight)


def test_a_collector_call_takes_its_token_before_its_slot_and_only_one():
    # CollectContext pays the token ahead (outside its in-flight slot); the before-send hook then
    # takes none for that request: 60 calls take 60 tokens, never more than the bucket allows.
    clock = FakeClock()
    pacer = Pacer(0.5, clock=clock, sleep=clock.sleep)
    sent: list[tuple[float, str]] = []
    ctx = _context(pacer, clock, sent, max_in_flight=4)
    for _ in range(60):
        assert isinstance(ctx.call("ecs", "ListClusters"), dict)
    assert ctx.paginate("ecs", "ListServices", "serviceArns", cluster="c") == []
    # One page, one token: the iteration's end sends nothing and takes none.
    assert pacer.bucket("eu-west-1", "ecs", "ListServices")._tokens == pytest.approx(ECS_GROUPS["service read"][0].share(0.5).capacity - 1)
    shared = ECS_READ.share(0.5)
    times = [t for t, operation in sent if operation == "ListClusters"]
    assert len(times) == 60 and _most_in_a_window(times, shared) <= 1e-9
    assert times[-1] - times[0] == pytest.approx((60 - shared.capacity) / shared.refill)
    # The next request of the thread pays for itself again: nothing is left prepaid.
    bucket = pacer.bucket("eu-west-1", "ecs", "ListClusters")
    reserved: list[float] = []
    reserve = bucket.reserve
    bucket.reserve = lambda: reserved.append(clock.now) or reserve()  # type: ignore[method-assign]
    with pacer.ahead("eu-west-1", "ecs", "ListClusters"):
        pass  # a request never sent: its token is spent, and the next request pays its own
    pacer.wait("eu-west-1", "ecs", "ListClusters")
    assert len(reserved) == 2


def test_a_call_waiting_for_its_bucket_holds_no_in_flight_slot():
    import threading

    clock = FakeClock()
    gate = threading.Event()
    pacer = Pacer(0.5, clock=clock, sleep=lambda seconds: gate.wait(5))
    sent: list[tuple[float, str]] = []
    ctx = _context(pacer, clock, sent, max_in_flight=1)  # one slot
    bucket = pacer.bucket("eu-west-1", "ecs", "DescribeTaskDefinition")
    while bucket.reserve() <= 0:  # the task-definition bucket is empty
        pass
    waiting = threading.Thread(target=lambda: ctx.call("ecs", "DescribeTaskDefinition", taskDefinition="web:1"))
    waiting.start()
    try:
        # Another bucket's call gets the only slot while that one waits for its token.
        assert isinstance(ctx.call("ecs", "ListClusters"), dict)
        assert [operation for _, operation in sent] == ["ListClusters"]
    finally:
        gate.set()
        waiting.join(5)
    assert [operation for _, operation in sent] == ["ListClusters", "DescribeTaskDefinition"]
