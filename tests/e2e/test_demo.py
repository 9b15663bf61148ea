"""End to end: `ecs-audit demo` as a user runs it, with no network at all.

The subprocess gets a sitecustomize that refuses (and logs) every INET socket, and an environment full of
AWS settings that would lead elsewhere (a profile that does not exist, an endpoint on a closed port,
credentials): the demo must scrub them and answer everything in-process.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_audit.catalogue import load_catalogue
from ecs_audit.demo.account import PLANTED_SECRET_VALUES
from tests.e2e.conftest import Run, base_env, run_cli

pytestmark = pytest.mark.e2e

NO_NETWORK = '''
import os, socket

_LOG = os.environ.get("ECS_AUDIT_TEST_SOCKET_LOG")


def _refuse(what, address):
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{what} {address!r}\\n")
    raise OSError(f"network disabled by the test: {what} {address!r}")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse("connect", address)
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse("connect_ex", address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    _refuse("getaddrinfo", host)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
'''


@dataclass
class Demo:
    run: Run
    out: Path
    snapshot: Path
    socket_log: Path
    report: dict[str, Any]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    work = tmp_path_factory.mktemp("demo")
    guard = work / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK)
    socket_log = work / "sockets.log"
    env = base_env(
        work / "home",
        PYTHONPATH=str(guard),
        ECS_AUDIT_TEST_SOCKET_LOG=str(socket_log),
        # Everything here would send boto3 elsewhere if the demo did not scrub it.
        AWS_PROFILE="no-such-profile",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ENDPOINT_URL_ECS="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="ASIAREALLOOKINGKEY00",
        AWS_SECRET_ACCESS_KEY="not-a-secret-either",
        AWS_CONFIG_FILE=str(work / "missing-config"),
        AWS_USE_FIPS_ENDPOINT="true",
    )
    out = work / "report"
    snapshot = work / "demo-snapshot.json"
    run = run_cli(["demo", "-o", str(out), "--save-snapshot", str(snapshot)], env, cwd=work)
    report = read_report(out / "report.json") if (out / "report.json").exists() else {}
    yield Demo(run, out, snapshot, socket_log, report)


def test_demo_succeeds_and_says_where_the_report_is(demo: Demo) -> None:
    assert demo.run.returncode == 0, demo.run
    for name in ("report.html", "report.md", "report.json"):
        assert (demo.out / name).is_file(), name
        assert str(demo.out / name) in demo.run.stdout, demo.run.stdout
    assert "demo account" in demo.run.stdout
    assert "Traceback" not in demo.run.stderr


def test_demo_covers_three_regions_and_every_outcome(demo: Demo) -> None:
    assert demo.report["scope"]["regions"] == ["eu-west-1", "us-east-1", "us-west-2"]
    assert demo.report["scope"]["accounts"] == ["111122223333"]
    statuses = {f["status"] for f in demo.report["findings"]}
    assert {"PASS", "FAIL", "WARN"} <= statuses, statuses
    clusters = {f["cluster"] for f in demo.report["findings"] if f.get("cluster")}
    assert {"prod", "legacy", "search", "prod-eu", "prod-dr"} <= clusters, clusters


def test_demo_never_touches_the_network(demo: Demo) -> None:
    assert demo.run.returncode == 0, demo.run
    attempts = demo.socket_log.read_text() if demo.socket_log.exists() else ""
    assert attempts == "", attempts


def test_demo_never_writes_the_planted_secrets(demo: Demo) -> None:
    files = [p for p in demo.out.rglob("*") if p.is_file()] + [demo.snapshot]
    assert demo.snapshot.is_file()
    leaks = [f"{p.name}: {s}" for p in files for s in PLANTED_SECRET_VALUES if s in p.read_text(encoding="utf-8")]
    leaks += [f"console: {s}" for s in PLANTED_SECRET_VALUES for stream in (demo.run.stdout, demo.run.stderr) if s in stream]
    assert not leaks
    # ...while the finding that they exist is there, naming the variable.
    names = [f["message"] for f in demo.report["findings"] if f["check_id"] == "SECURITY-006" and f["status"] == "FAIL"]
    assert any("DB_PASSWORD" in message for message in names), names


def test_demo_shows_every_automated_check_both_passing_and_not(demo: Demo) -> None:
    """Each automated check of the catalogue meets, somewhere in the demo account, a resource that does
    it right (PASS) and one that does not (FAIL or WARN)."""
    assert demo.run.returncode == 0, demo.run
    statuses: dict[str, set[str]] = defaultdict(set)
    for finding in demo.report["findings"]:
        statuses[finding["check_id"]].add(finding["status"])
    automated = [check.id for check in load_catalogue().checks if check.automated]
    assert automated
    lacking = {
        check: sorted(statuses[check]) for check in automated if "PASS" not in statuses[check] or not statuses[check] & {"FAIL", "WARN"}
    }
    assert not lacking, lacking


def test_demo_is_deterministic(demo: Demo, tmp_path: Path) -> None:
    """A second run reports the same, apart from when it was generated. (The demo account's clock is the
    current hour: ages and recent timestamps follow it, so runs in different hours may differ.)"""
    out = tmp_path / "again"
    run = run_cli(["demo", "-o", str(out), "-q", "--format", "json"], base_env(tmp_path / "home"), cwd=tmp_path)
    assert run.returncode == 0, run
    again = read_report(out / "report.json")
    first = dict(demo.report)
    if first["generated_at"][:13] != again["generated_at"][:13]:
        pytest.skip("the two runs fell in different hours")
    first.pop("generated_at")
    again.pop("generated_at")
    assert again == first


def test_demo_report_has_no_collection_errors(demo: Demo) -> None:
    """Every collector reads the simulated account without an error (moto's gaps are filled)."""
    errors = [(e["region"], e["permission"], e["error_code"], e["message"][:160]) for e in demo.report.get("errors", [])]
    assert not errors, errors


def test_demo_runs_without_moto(tmp_path: Path) -> None:
    """The demo replays a recording (ecs_audit.demo.cassette): moto is neither needed nor imported.
    (Replaces the test that, when the demo seeded moto on every run, expected an error without moto.)"""
    guard = tmp_path / "guard"
    guard.mkdir()
    imported = tmp_path / "imported.log"
    (guard / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoMoto:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'moto' or name.startswith('moto.'):\n"
        f"            open({str(imported)!r}, 'a').write(name + '\\n')\n"
        "            raise ModuleNotFoundError(\"No module named 'moto'\", name='moto')\n"
        "sys.meta_path.insert(0, _NoMoto())\n"
    )
    out = tmp_path / "out"
    run = run_cli(["demo", "-o", str(out), "-q", "--format", "json"], base_env(tmp_path / "home", PYTHONPATH=str(guard)), cwd=tmp_path)
    assert run.returncode == 0, run
    assert not imported.exists(), imported.read_text()
    assert read_report(out / "report.json")["findings"]
