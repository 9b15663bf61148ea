"""Client-side pacing: the audit spends at most a share of each of the account's API rate buckets.

AWS throttles most APIs per account and Region with token buckets: a bucket holds up to `capacity`
tokens (the burst), refills at `refill` tokens a second (the sustained rate), and every request takes
one. The audit shares those buckets with the account's own automation (deployments call
DescribeServices and DescribeTaskDefinition too), so it keeps to `share` of each: a bucket of
share × capacity tokens refilled at share × refill a second, per (account, Region, operation group).
Every attempt (retries included) takes a token before it is sent; adaptive retries stay as the
safety net when the account's own traffic has emptied the real bucket.

Amazon ECS publishes its buckets per category of actions ("Request throttling for the Amazon ECS
API", https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html, section
"Request Token Bucket Sizes and Refill Rates", the same in every Region): `ECS_GROUPS` holds its
read categories with the capacity and refill rate that table gives (every action of a category
shares one bucket); the managed-daemon reads (ListDaemons, DescribeDaemon, DescribeDaemonRevisions)
are not in that table and get the default below. Amazon ECR publishes a rate ("Rate of ... requests", per second, per Region, no
separate burst) only for its image push and pull actions ("Amazon ECR service quotas",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html): `ECR_RATES` holds the
read ones, with one second's worth as the bucket. None of them is an action the audit calls: its ECR
reads (DescribeRepositories, DescribeImages, DescribeImageScanFindings, GetLifecyclePolicy,
GetRepositoryPolicy, GetRegistryScanningConfiguration) have no published rate. Those, and services
that publish no per-action buckets, get a default per operation, the same as ECS's cluster and task
definition reads (50, refilled at 20 a second): an assumption, not a published figure.

Plain Python (no boto3); the guarded client factory (session.py) calls `Pacer.wait` from a botocore
`before-send` hook, so every request of every client passes through it. A collector's call pays its
token ahead (`Pacer.ahead`, from CollectContext) before it takes one of the region's in-flight
slots, so a call waiting for a drained bucket never holds a slot; the hook then takes nothing more
for that request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEFAULT_SHARE = 0.5
# Longest single sleep while waiting for a token, so an interruption is noticed quickly.
_SLICE = 0.25


@dataclass(frozen=True)
class RateLimit:
    capacity: float  # bucket maximum capacity: the burst
    refill: float  # tokens added per second: the sustained rate

    def share(self, share: float) -> "RateLimit":
        return RateLimit(max(1.0, self.capacity * share), self.refill * share)


# Amazon ECS's read categories and their buckets, as published (see the module docstring); the
# modify categories are left out: the guarded client factory refuses their actions.
ECS_GROUPS: dict[str, tuple[RateLimit, tuple[str, ...]]] = {
    "cluster read": (RateLimit(50, 20), ("DescribeClusters", "ListClusters")),
    "task definition read": (
        RateLimit(50, 20), ("DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies")
    ),
    "capacity provider read": (RateLimit(50, 20), ("DescribeCapacityProviders",)),
    "tag read": (RateLimit(50, 20), ("ListTagsForResource",)),
    "setting read": (RateLimit(50, 20), ("ListAccountSettings",)),
    "cluster resource read": (
        RateLimit(100, 20),
        ("DescribeContainerInstances", "DescribeTasks", "ListAttributes", "ListContainerInstances", "ListTasks"),
    ),
    "service read": (RateLimit(100, 20), ("DescribeServices", "ListServices")),
    "service deployment": (RateLimit(50, 20), ("DescribeServiceDeployments", "ListServiceDeployments")),
    "service revision": (RateLimit(50, 20), ("DescribeServiceRevisions",)),
    "cluster service resource read": (RateLimit(10, 1), ("ListServicesByNamespace",)),
}
# Amazon ECR's published request rates for its read actions (see the module docstring): a single
# sustained rate each, so the bucket holds one second of it. The push actions' rates are left out
# with ECS's modify categories.
ECR_RATES: dict[str, RateLimit] = {
    "BatchCheckLayerAvailability": RateLimit(1000, 1000),
    "BatchGetImage": RateLimit(2000, 2000),
    "GetAuthorizationToken": RateLimit(500, 500),
    "GetDownloadUrlForLayer": RateLimit(3000, 3000),
}
# The published example (cluster reads); kept as a name for the tests and the docs.
ECS_READ = ECS_GROUPS["cluster read"][0]
# Assumed, not published: for services without per-action buckets, one bucket per operation, no
# larger than ECS's cluster reads.
DEFAULT_LIMIT = RateLimit(50, 20)

_ECS_GROUP_OF = {operation: group for group, (_, operations) in ECS_GROUPS.items() for operation in operations}
# Services whose rate limits are the account's, not a Region's.
_GLOBAL_SERVICES = frozenset({"iam", "organizations"})


def limit_of(client: str, operation: str) -> tuple[str, RateLimit]:
    """The bucket an operation draws from: its group's name and published (or default) limit."""
    if client == "ecs" and operation in _ECS_GROUP_OF:
        group = _ECS_GROUP_OF[operation]
        return f"ecs {group}", ECS_GROUPS[group][0]
    if client == "ecr" and operation in ECR_RATES:
        return f"ecr {operation}", ECR_RATES[operation]
    return f"{client} {operation}", DEFAULT_LIMIT


def check_share(share: float) -> float:
    if not 0 < share <= 1:
        raise ValueError(f"the API share must be above 0 and at most 1, got {share}")
    return share


class TokenBucket:
    """A token bucket that hands out reservations: `reserve` takes a token now and says how long to
    wait before using it, so callers never send more than the bucket allows, whatever their number."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float]):
        self.limit = limit
        self._clock = clock
        self._tokens = limit.capacity
        self._at = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Seconds to wait before the request this token pays for may be sent."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.limit.capacity, self._tokens + (now - self._at) * self.limit.refill)
            self._at = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.limit.refill


class Pacer:
    """The buckets of one account (one set of credentials), keyed by Region and operation group."""

    def __init__(
        self,
        share: float = DEFAULT_SHARE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        check: Callable[[], None] = lambda: None,
    ):
        self.share = check_share(share)
        self._clock = clock
        self._sleep = sleep
        self._check = check  # raises when the run is interrupted
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, all callers together
        self._ahead = threading.local()  # per thread: the request whose token `ahead` took

    def bucket(self, region: str, client: str, operation: str) -> TokenBucket:
        group, limit = limit_of(client, operation)
        key = ("global" if client in _GLOBAL_SERVICES else region, group)
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = TokenBucket(limit.share(self.share), self._clock)
            return found

    @contextmanager
    def ahead(self, region: str, client: str, operation: str) -> Iterator[None]:
        """Take the token of this thread's next request of `operation` now, sleeping for it here: the
        caller waits for its bucket before it takes one of its in-flight slots (CollectContext), so a
        call waiting for one bucket never holds a slot a call on another bucket could use. That
        request's own `wait` (the before-send hook) then takes nothing; its retries take their own."""
        self.wait(region, client, operation)
        self._ahead.paid = (region, client, operation)
        try:
            yield
        finally:
            self._ahead.paid = None  # a request that was never sent leaves its token unused

    def wait(self, region: str, client: str, operation: str) -> float:
        """Take a token for one request, sleeping until it may be sent; the seconds waited."""
        if getattr(self._ahead, "paid", None) == (region, client, operation):
            self._ahead.paid = None  # paid by `ahead`
            return 0.0
        delay = self.bucket(region, client, operation).reserve()
        if delay > 0:
            with self._lock:
                self.waited += delay
            left = delay
            while left > 0:
                self._check()
                step = min(left, _SLICE)
                self._sleep(step)
                left -= step
        return delay
