"""End to end: an endpoint that throttles every fifth call still yields a complete, correct report.

The CLI scans the mixed estate twice, side by side, through two proxies: one clean, one that refuses
every fifth request it receives with the throttling error the service's protocol really sends
(tests.support.proxy.throttled: ThrottlingException for JSON protocols, Throttling for query ones,
RequestLimitExceeded for EC2).
botocore's adaptive retries must absorb every refusal: both reports must be the same, apart from
their generation time, and neither may record a collection error.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import aws_env, cli_path
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy, install_enrichment, throttle_every
from tests.support.seed import SeededAccount, seed_mixed_estate

pytestmark = pytest.mark.e2e

EVERY = 5
FAULT = "throttle"
PROTOCOLS = ("json", "query", "ec2", "rest-json", "rest-xml", "smithy-rpc-v2-cbor")


@dataclass
class Scan:
    returncode: int
    stderr: str
    report: dict[str, Any]
    calls: list[Call]


@pytest.fixture(scope="module")
def account(moto_server: MotoServer) -> SeededAccount:
    return seed_mixed_estate(moto_server)


def _start(account: SeededAccount, proxy: FaultProxy, work: Path) -> tuple[subprocess.Popen[str], Path]:
    out = work / "report"
    env = aws_env(
        work / "home", proxy.url, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key
    )
    process = subprocess.Popen(
        [str(cli_path()), "scan", "--region", "us-east-1", "-o", str(out), "--format", "json", "-q"],
        env=env, cwd=str(work), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return process, out


def _finish(started: tuple[subprocess.Popen[str], Path], proxy: FaultProxy) -> Scan:
    process, out = started
    _, stderr = process.communicate(timeout=300)
    report = read_report(out / "report.json") if (out / "report.json").exists() else {}
    return Scan(process.returncode, stderr, report, list(proxy.calls))


@pytest.fixture(scope="module")
def scans(moto_server: MotoServer, account: SeededAccount, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Scan]]:
    clean = FaultProxy(moto_server.url, caller_arn=account.caller_arn).start()
    throttling = FaultProxy(moto_server.url, caller_arn=account.caller_arn).start()
    # First in line, so it also throttles the operations the enrichment answers itself. One count per
    # protocol: which calls fall on every fifth of a single count depends on thread timing, and a
    # protocol with few calls (EC2) could then escape refusal altogether.
    for protocol in PROTOCOLS:
        throttling.add_fault(lambda call, p=protocol: call.protocol == p, throttle_every(EVERY), name=FAULT)
    for proxy in (clean, throttling):
        install_enrichment(proxy, account.facts)
    try:
        started = {
            "clean": (_start(account, clean, tmp_path_factory.mktemp("clean")), clean),
            "throttled": (_start(account, throttling, tmp_path_factory.mktemp("throttled")), throttling),
        }
        yield {name: _finish(run, proxy) for name, (run, proxy) in started.items()}
    finally:
        clean.stop()
        throttling.stop()


def _without_time(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_every_fifth_call_was_refused(scans: dict[str, Scan]) -> None:
    calls = scans["throttled"].calls
    refused = [c for c in calls if c.injected == FAULT]
    per_protocol = Counter(c.protocol for c in calls if c.protocol in PROTOCOLS)
    assert len(refused) == sum(n // EVERY for n in per_protocol.values()) > 20
    # JSON, query and EC2 services were all refused, each in its own protocol's shape.
    assert {c.protocol for c in refused} >= {"json", "query", "ec2"}


def test_a_throttled_scan_still_succeeds(scans: dict[str, Scan]) -> None:
    for name, scan in scans.items():
        assert scan.returncode == 0, f"{name}: {scan.stderr}"
        assert scan.report, name


def test_no_collection_error_is_recorded(scans: dict[str, Scan]) -> None:
    assert scans["throttled"].report["errors"] == []
    assert scans["clean"].report["errors"] == []


def test_the_throttled_report_is_the_clean_one(scans: dict[str, Scan]) -> None:
    clean, throttled = _without_time(scans["clean"].report), _without_time(scans["throttled"].report)
    assert throttled["summary"] == clean["summary"]
    assert throttled == clean


def test_every_refused_call_was_sent_again(scans: dict[str, Scan]) -> None:
    """The same request (service, operation, body) reached the endpoint once more after each refusal."""
    calls = scans["throttled"].calls
    for index, call in enumerate(calls):
        if call.injected != FAULT:
            continue
        later = [c for c in calls[index + 1 :] if (c.key, c.path, c.body) == (call.key, call.path, call.body)]
        assert later, f"{call.key} was refused and never retried"
