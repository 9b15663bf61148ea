"""A real moto server on 127.0.0.1, for end-to-end tests that run the CLI as a separate process.

The server runs in the test process (moto's ThreadedMotoServer, a werkzeug HTTP server on a thread), so
tests can also reach moto's backends directly when the public API cannot seed something, and settings
moto reads from the environment at request time (MOTO_ECS_SERVICE_RUNNING) reach it.

    with MotoServer() as moto:
        session = moto.session()
        session.client("ecs", endpoint_url=moto.url)...
        moto.reset()            # POST /moto-api/reset: empty every backend
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

import boto3
import requests

# Credentials moto accepts (any are); unknown keys map to account 123456789012.
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Read by moto when a backend is first created, so set for the server's whole life.
SERVER_ENVIRONMENT = {
    # The seeded roles attach AWS managed policies (AmazonECSTaskExecutionRolePolicy...).
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}


class MotoServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port: int | None = None
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._sessions: dict[str, boto3.Session] = {}

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the moto server is not running")
        return f"http://{self.host}:{self.port}"

    def start(self) -> "MotoServer":
        from moto.server import ThreadedMotoServer

        for key, value in SERVER_ENVIRONMENT.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        # werkzeug logs every request at INFO; pytest would capture thousands of lines per test.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server on {self.url} did not come up") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            self.port = None
            self._clients.clear()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def reset(self) -> None:
        """Empty every moto backend (POST /moto-api/reset).

        After an organisation scanned with --all-regions (test_org_moto) there are backends for every
        account and region, and the reset takes 7-8 s on an idle 2-core machine: allow for load."""
        requests.post(f"{self.url}/moto-api/reset", timeout=60).raise_for_status()

    def session(self, region: str = "us-east-1") -> boto3.Session:
        """A session for talking to this server directly (seeding, inspecting); pass endpoint_url=self.url.

        Cached per region: a session parses each service model again for its first client."""
        if region not in self._sessions:
            self._sessions[region] = boto3.Session(region_name=region, **TEST_CREDENTIALS)
        return self._sessions[region]

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A client for this server (cached: creating one costs tens of milliseconds)."""
        key = (service, region, self.url)
        if key not in self._clients:
            self._clients[key] = self.session(region).client(service, region_name=region, endpoint_url=self.url)
        return self._clients[key]

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
