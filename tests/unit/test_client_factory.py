"""The guarded client factory: one client per (service, region), made once, and calls with a client
already made never wait for another client being made."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from ecs_audit.errors import ReadOnlyViolation
from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory


class SlowSession:
    """A boto3 session whose client creation for `slow` waits until released."""

    def __init__(self, slow: str) -> None:
        self._real = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
        self.slow = slow
        self.entered = threading.Event()
        self.release = threading.Event()
        self.made: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def client(self, service: str, region_name: str, config: Any) -> Any:
        with self._lock:
            self.made.append((service, region_name))
        if service == self.slow:
            self.entered.set()
            assert self.release.wait(10)
        return self._real.client(service, region_name=region_name, config=config, endpoint_url="http://127.0.0.1:9")

    def get_credentials(self) -> Any:
        return self._real.get_credentials()


def test_a_made_client_is_handed_out_while_another_is_being_made() -> None:
    session = SlowSession(slow="ecr")
    factory = ClientFactory(session, ALLOWED_ACTIONS, paced=False)  # type: ignore[arg-type]
    ecs = factory.client("ecs", "eu-west-1")
    making = threading.Thread(target=factory.client, args=("ecr", "eu-west-1"))
    making.start()
    try:
        assert session.entered.wait(10)
        got: list[Any] = []
        reader = threading.Thread(target=lambda: got.append(factory.client("ecs", "eu-west-1")))
        reader.start()
        reader.join(5)
        assert got == [ecs], "the ecs client waited for the ecr client being made"
    finally:
        session.release.set()
        making.join(10)
    assert factory.client("ecr", "eu-west-1") is factory.client("ecr", "eu-west-1")
    assert sorted(session.made) == [("ecr", "eu-west-1"), ("ecs", "eu-west-1")]


def test_threads_asking_at_once_get_one_client_with_the_guard() -> None:
    session = SlowSession(slow="ecs")
    factory = ClientFactory(session, ALLOWED_ACTIONS, paced=False)  # type: ignore[arg-type]
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(factory.client("ecs", "eu-west-1"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert session.entered.wait(10)
    session.release.set()
    for thread in threads:
        thread.join(10)
    assert len(got) == 8 and all(client is got[0] for client in got)
    assert session.made == [("ecs", "eu-west-1")]
    # Whichever thread got it, the read-only guard is on it before any call.
    with pytest.raises(ReadOnlyViolation):
        got[0].delete_cluster(cluster="web")
