"""The demo account live: seeded into moto's in-process mock, as `python -m ecs_audit.demo.record`
records it (ecs_audit.demo.cassette). `ecs-audit demo` itself replays that recording and never
imports moto.

The seeding is the slow part (about 240 boto3 requests into moto, the bulk of five seconds of CPU);
the helpers here spare moto work the demo never needs.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import boto3
import botocore.session

from ecs_audit.errors import UsageError

MOTO_MESSAGE = "recording the demo account needs moto: pip install -e '.[test]'"


@contextmanager
def moto_account() -> Iterator[tuple[botocore.session.Session, datetime]]:
    """moto's mock with the demo estate seeded: yields the botocore session the seeding used (its
    model loader is shared with moto) and when the seeding started. Run inside demo_environment()."""
    try:
        from moto import mock_aws
    except ImportError:
        raise UsageError(MOTO_MESSAGE) from None

    from ecs_audit.demo.account import HOME_REGION, seed_estate

    with _one_model_loader() as core, _quicker_moto(), _mocked(mock_aws()):
        started = datetime.now(timezone.utc)
        seed_session = boto3.Session(
            aws_access_key_id="demo-seed", aws_secret_access_key="demo-seed", region_name=HOME_REGION, botocore_session=core
        )
        # The estate's clock (the backstory's ages count from it) is the hour the recording names.
        seed_estate(seed_session, now=started.replace(minute=0, second=0, microsecond=0))
        yield core, started


@contextmanager
def _one_model_loader() -> Iterator[botocore.session.Session]:
    """One botocore loader for moto and the demo's sessions.

    moto parses the botocore service models again for its own use (a new loader per model, and another
    for the regions of each backend); the demo's sessions would parse them a third time. The JSON of
    the EC2 model alone takes a quarter of a second to decode. Sharing one caching loader saves a
    second or two of a demo run. moto ships no model extras, so its loader reads the same files."""
    import moto.core.utils
    from moto.core.base_backend import AccountSpecificBackend

    shared = AccountSpecificBackend.get_session()._session  # moto's own (cached) session for regions
    loader = shared.get_component("data_loader")
    original = moto.core.utils.create_loader
    moto.core.utils.create_loader = lambda: loader
    try:
        _import_ec2_models(loader)
        core = botocore.session.get_session()
        core.register_component("data_loader", loader)
        yield core
    finally:
        moto.core.utils.create_loader = original


@contextmanager
def _quicker_moto() -> Iterator[None]:
    """Spare moto work the demo never needs, for the demo's duration.

    - moto lists a response class's methods (inspect.getmembers) on every request it answers, about a
      millisecond each over a thousand-odd requests; the classes do not change meanwhile.
    - every KMS key and ACM certificate gets a fresh 2048-bit RSA key (a tenth of a second each); the
      demo never signs or decrypts with them, so one key serves them all.
    - every region's EC2 backend builds moto's whole catalogue of public AMIs, each with a snapshot and
      a volume (about 1,300 a region, a fifth of the seeding's CPU); only the AMIs the demo's data
      names are kept (the audit asks about no other).
    - GetMetricData walks every datapoint of the region for every period of every query (the audit
      asks six queries per service over 336 hourly periods): each query is answered from the
      datapoints of its own metric, picked out first with moto's own matching."""
    import moto.core.responses
    import moto.ec2.models.amis as amis
    from cryptography.hazmat.primitives.asymmetric import rsa
    from moto.cloudwatch.models import CloudWatchBackend

    from ecs_audit.demo.account import account_data

    methods, generate = moto.core.responses.method_names_from_class, rsa.generate_private_key
    metric_data = CloudWatchBackend.get_metric_data
    moto.core.responses.method_names_from_class = functools.cache(lambda clazz: frozenset(methods(clazz)))
    rsa.generate_private_key = functools.cache(lambda public_exponent, key_size, backend=None: generate(public_exponent, key_size))
    CloudWatchBackend.get_metric_data = _metric_data_per_query(metric_data)  # type: ignore[method-assign]
    named = {str(v) for v in account_data()["variables"].values() if str(v).startswith("ami-")}
    every_ami, load_resource = amis.AMIS, amis.load_resource
    amis.AMIS = [ami for ami in every_ami if ami["ami_id"] in named]
    amis.load_resource = lambda *args, **kwargs: [ami for ami in load_resource(*args, **kwargs) if ami["ami_id"] in named]
    try:
        yield
    finally:
        moto.core.responses.method_names_from_class, rsa.generate_private_key = methods, generate
        CloudWatchBackend.get_metric_data = metric_data  # type: ignore[method-assign]
        amis.AMIS, amis.load_resource = every_ami, load_resource


def _metric_data_per_query(get_metric_data: Any) -> Any:
    """moto's GetMetricData, run once per MetricStat query over the datapoints that query can match
    (the same test moto applies: metric name and sorted dimensions, or namespace and metric name)."""
    from moto.cloudwatch.models import Dimension

    class Only:
        def __init__(self, backend: Any, datapoints: list[Any]):
            self.backend, self.datapoints = backend, datapoints

        def get_all_metrics(self) -> list[Any]:
            return self.datapoints

        def __getattr__(self, name: str) -> Any:
            return getattr(self.backend, name)

    def per_query(self: Any, queries: list[dict[str, Any]], start_time: Any, end_time: Any, scan_by: str = "TimestampAscending") -> Any:
        if not queries or any("MetricStat" not in q for q in queries):
            return get_metric_data(self, queries, start_time, end_time, scan_by)
        everything = self.get_all_metrics()
        results = []
        for query in queries:
            metric = query["MetricStat"]["Metric"]
            dimensions = sorted(Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", []))
            if dimensions:
                matching = [md for md in everything if md.name == metric["MetricName"] and sorted(md.dimensions) == dimensions]
            else:
                matching = [md for md in everything if md.namespace == metric["Namespace"] and md.name == metric["MetricName"]]
            results += get_metric_data(Only(self, matching), [query], start_time, end_time, scan_by)
        return results

    return per_query


def _import_ec2_models(loader: Any) -> None:
    """Import moto's EC2 models with `boto3.Session()` sharing `loader`: at import, moto lists the EC2
    regions of three partitions, each through a new session that parses the EC2 model again."""
    if "moto.ec2.models" in sys.modules:
        return

    class SharingSession(boto3.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if not args and not kwargs:
                core = botocore.session.get_session()
                core.register_component("data_loader", loader)
                kwargs["botocore_session"] = core
            super().__init__(*args, **kwargs)

    original = boto3.Session
    boto3.Session = SharingSession  # type: ignore[misc]
    try:
        importlib.import_module("moto.ec2.models")
    finally:
        boto3.Session = original  # type: ignore[misc]


@contextmanager
def _mocked(mock: Any) -> Iterator[None]:
    """moto's mock, left without emptying its backends: resetting them (IAM reloads its managed
    policies) costs most of a second, and the next mock resets them when it starts anyway."""
    mock.start()
    try:
        yield
    finally:
        mock.stop(remove_data=False)
