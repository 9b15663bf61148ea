"""End to end: the installed CLI scans a moto server (through the tests' proxy) seeded with a mixed estate.

The CLI is a separate process; it knows nothing of moto but AWS_ENDPOINT_URL. The proxy adds what AWS
returns and moto does not (registeredBy, task availabilityZone...), records every call, and injects
faults.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.catalogue import load_catalogue
from ecs_audit.rules.registry import load_registry
from tests.e2e.conftest import Run, aws_env, base_env, cli_path, run_cli
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy, install_enrichment
from tests.support.seed import GOOD, PLANTED, PLANTED_SECRETS, SeededAccount, find, resource_exists, seed_mixed_estate

pytestmark = pytest.mark.e2e

TASK_ACTIONS = {"ecs:ListTasks", "ecs:DescribeTasks"}


@dataclass
class Scan:
    run: Run
    out: Path
    snapshot: Path
    report: dict[str, Any]
    calls: list[Call]


@pytest.fixture(scope="module")
def account(moto_server: MotoServer) -> SeededAccount:
    return seed_mixed_estate(moto_server)


def _proxy(moto_server: MotoServer, account: SeededAccount) -> FaultProxy:
    proxy = FaultProxy(moto_server.url, caller_arn=account.caller_arn).start()
    install_enrichment(proxy, account.facts)
    return proxy


def _env(account: SeededAccount, work: Path, endpoint: str) -> dict[str, str]:
    return aws_env(work / "home", endpoint, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key)


def _start_scan(account: SeededAccount, proxy: FaultProxy, work: Path, *extra: str) -> tuple[subprocess.Popen[str], list[str], Path, Path]:
    out = work / "report"
    snapshot = work / "snap.json"
    args = ["scan", "--region", "us-east-1", "-o", str(out), "--save-snapshot", str(snapshot), *extra]
    process = subprocess.Popen(
        [str(cli_path()), *args], env=_env(account, work, proxy.url), cwd=str(work),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return process, args, out, snapshot


def _finish_scan(started: tuple[subprocess.Popen[str], list[str], Path, Path], proxy: FaultProxy) -> Scan:
    process, args, out, snapshot = started
    stdout, stderr = process.communicate(timeout=300)
    run = Run(args, process.returncode, stdout, stderr)
    report = read_report(out / "report.json") if (out / "report.json").exists() else {}
    return Scan(run, out, snapshot, report, list(proxy.calls))


@pytest.fixture(scope="module")
def scans(moto_server: MotoServer, account: SeededAccount, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Scan]]:
    """Two scans of the same estate, run side by side: a clean one, and one with ecs:ListTasks denied
    (run with --fail-on critical)."""
    clean, denying = _proxy(moto_server, account), _proxy(moto_server, account)
    denying.deny("ecs:ListTasks")
    try:
        started = {
            "clean": (_start_scan(account, clean, tmp_path_factory.mktemp("scan")), clean),
            "denied": (_start_scan(account, denying, tmp_path_factory.mktemp("denied"), "--fail-on", "critical"), denying),
        }
        yield {name: _finish_scan(run, proxy) for name, (run, proxy) in started.items()}
    finally:
        clean.stop()
        denying.stop()


@pytest.fixture(scope="module")
def scanned(scans: dict[str, Scan]) -> Scan:
    return scans["clean"]


@pytest.fixture(scope="module")
def denied(scans: dict[str, Scan]) -> Scan:
    return scans["denied"]


def _status(findings: list[dict[str, Any]], check: str, arn: str, container: str | None) -> str:
    matches = find(findings, check, arn, container)
    if not matches:
        return "MISSING"
    assert len(matches) == 1, matches
    return matches[0]["status"]


# --- the scan ----------------------------------------------------------------------------------


def test_scan_succeeds_and_writes_every_format(scanned: Scan, account: SeededAccount) -> None:
    assert scanned.run.returncode == 0, scanned.run
    assert {p.name for p in scanned.out.iterdir()} >= {"report.html", "report.md", "report.json"}
    assert scanned.snapshot.is_file()
    assert str(scanned.out / "report.json") in scanned.run.stdout
    assert scanned.report["scope"]["regions"] == ["us-east-1"]
    assert scanned.report["scope"]["caller_arn"] == account.caller_arn
    assert scanned.report["errors"] == [], scanned.report["errors"]


def test_every_finding_names_a_resource_that_exists(scanned: Scan, moto_server: MotoServer, account: SeededAccount) -> None:
    resources = {(f["resource"]["type"], f["resource"]["arn"]): f["resource"] for f in scanned.report["findings"]}
    assert resources
    missing = [arn for (kind, arn), resource in sorted(resources.items()) if not resource_exists(moto_server, resource, account.account_id)]
    assert not missing, missing


@pytest.mark.parametrize("expect", GOOD, ids=lambda e: f"{e.check}:{e.key}{'/' + e.container if e.container else ''}")
def test_well_configured_service_passes(scanned: Scan, account: SeededAccount, expect) -> None:
    arn = account.arn(expect.kind, expect.key)
    status = _status(scanned.report["findings"], expect.check, arn, expect.container)
    details = [f["message"] for f in find(scanned.report["findings"], expect.check, arn, expect.container)]
    assert status == expect.status, f"{expect.check} on {expect.key}: {status} {details}"


@pytest.mark.parametrize("expect", PLANTED, ids=lambda e: f"{e.check}:{e.key}{'/' + e.container if e.container else ''}")
def test_planted_defect_is_found_on_the_right_resource(scanned: Scan, account: SeededAccount, expect) -> None:
    arn = account.arn(expect.kind, expect.key)
    matches = find(scanned.report["findings"], expect.check, arn, expect.container)
    assert [f["status"] for f in matches] == [expect.status], f"{expect.check} on {expect.key}: {[(f['status'], f['message']) for f in matches]}"
    if expect.message_contains:
        assert expect.message_contains.lower() in matches[0]["message"].lower(), matches[0]["message"]


def test_evaluating_the_snapshot_reproduces_the_findings(scanned: Scan, tmp_path: Path) -> None:
    out = tmp_path / "again"
    run = run_cli(["evaluate", str(scanned.snapshot), "-o", str(out)], base_env(tmp_path / "home"), cwd=tmp_path)
    assert run.returncode == 0, run
    again = read_report(out / "report.json")
    first = dict(scanned.report)
    first.pop("generated_at")
    again.pop("generated_at")
    assert again == first


def test_no_planted_secret_reaches_any_file_or_output(scanned: Scan) -> None:
    files = [p for p in scanned.out.rglob("*") if p.is_file()] + [scanned.snapshot]
    assert len(files) >= 4
    leaks = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        leaks += [f"{path.name}: {secret}" for secret in PLANTED_SECRETS if secret in text]
    for stream in (scanned.run.stdout, scanned.run.stderr):
        leaks += [f"console: {secret}" for secret in PLANTED_SECRETS if secret in stream]
    assert not leaks


def test_only_read_only_operations_reach_the_endpoint(scanned: Scan) -> None:
    actions = {c.action for c in scanned.calls}
    assert "ecs:DescribeServices" in actions and "ecs:DescribeTaskDefinition" in actions
    assert not [c.action for c in scanned.calls if c.mutating]
    assert actions <= ALLOWED_ACTIONS, sorted(actions - ALLOWED_ACTIONS)
    # 4xx answers are expected (e.g. LifecyclePolicyNotFoundException); the endpoint never failed.
    assert not [(c.action, c.status) for c in scanned.calls if (c.status or 0) >= 500]


def test_fail_on_critical_exits_1(denied: Scan, scanned: Scan, tmp_path: Path) -> None:
    # The denied scan runs with --fail-on critical (one scan less to wait for): its critical FAILs
    # (a privileged container, a password in an environment variable) set the exit code.
    assert denied.run.returncode == 1, denied.run
    assert any(f["status"] == "FAIL" and f["severity"] == "critical" for f in denied.report["findings"])
    # The same decision offline, from the snapshot of the clean scan.
    run = run_cli(["evaluate", str(scanned.snapshot), "-o", str(tmp_path / "out"), "--fail-on", "critical", "-q"],
                  base_env(tmp_path / "home"), cwd=tmp_path)
    assert run.returncode == 1, run


def _one_line_error(run: Run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run
    assert "Traceback" not in run.stderr
    assert lines[0].startswith("ecs-audit: error: ")
    return lines[0]


def test_unknown_region_is_a_usage_error(tmp_path: Path) -> None:
    # The endpoint is a closed port: nothing may be sent before the region is refused.
    run = run_cli(["scan", "--region", "xx-nowhere-9", "-o", str(tmp_path / "out")], aws_env(tmp_path / "home", "http://127.0.0.1:9"), cwd=tmp_path)
    assert run.returncode == 2, run
    assert "xx-nowhere-9" in _one_line_error(run)
    assert not (tmp_path / "out").exists()


def test_no_credentials_means_the_audit_cannot_run(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home", AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    run = run_cli(["scan", "--region", "us-east-1", "-o", str(tmp_path / "out")], env, cwd=tmp_path)
    assert run.returncode == 3, run
    assert "credentials" in _one_line_error(run).lower()


# --- ListTasks denied ------------------------------------------------------------------------------


def test_denied_list_tasks_makes_task_checks_unknown(denied: Scan, account: SeededAccount) -> None:
    assert denied.run.returncode in (0, 1), denied.run  # 1: it runs with --fail-on critical
    assert denied.report, denied.run
    assert [c for c in denied.calls if c.action == "ecs:ListTasks" and c.injected]
    findings = denied.report["findings"]
    services = [arn for key, arn in account.estate.services.items()]
    assert services
    for arn in services:
        matches = find(findings, "RESILIENCE-003", arn)
        assert [f["status"] for f in matches] == ["UNKNOWN"], (arn, matches)
        assert "ecs:ListTasks" in matches[0]["message"], matches[0]["message"]


def test_denied_list_tasks_is_reported_as_an_error(denied: Scan, account: SeededAccount) -> None:
    errors = [e for e in denied.report["errors"] if e["permission"] == "ecs:ListTasks"]
    assert errors, denied.report["errors"]
    assert {e["error_code"] for e in errors} == {"AccessDeniedException"}
    clusters = {arn for key, arn in account.estate.clusters.items() if key.startswith("us-east-1/")}
    assert {r for e in errors for r in e["resources"]} == clusters
    assert {e["permission"] for e in denied.report["errors"]} == {"ecs:ListTasks"}


def test_denied_list_tasks_leaves_other_checks_alone(denied: Scan, scanned: Scan, account: SeededAccount) -> None:
    """Every result of a check that does not read tasks is what it was without the denial. Expected
    exceptions: task definitions that were in use only through a running standalone task (no longer
    known to be in use), and account-level results that summarise the launch types in use."""
    registry = load_registry()
    needs_tasks = {entry.id for entry in load_catalogue().checks if entry.id in registry and TASK_ACTIONS & set(entry.needs)}
    assert "RESILIENCE-003" in needs_tasks
    standalone_only = {account.estate.task_definitions["invoice-export:1"]}
    # ...and the repository only that task's image comes from: without the task it is not in use.
    standalone_only.add(f"arn:aws:ecr:us-east-1:{account.account_id}:repository/invoice-export")

    def key(f: dict[str, Any]) -> tuple:
        return (f["check_id"], f["resource"]["arn"], f.get("container"))

    after = {key(f): f for f in denied.report["findings"]}
    changed = []
    for finding in scanned.report["findings"]:
        if finding["check_id"] in needs_tasks or finding["resource"]["arn"] in standalone_only:
            continue
        other = after.get(key(finding))
        if other is not None and other["status"] == finding["status"]:
            continue
        if other is not None and finding["resource"]["type"] == "AWS::::Account" and other["status"] == "UNKNOWN" and "ecs:ListTasks" in other["message"]:
            continue
        changed.append((key(finding), finding["status"], other and other["status"], other and other["message"][:120]))
    assert not changed, "\n".join(map(str, changed))


def test_denied_run_sends_nothing_mutating(denied: Scan) -> None:
    assert denied.calls
    assert not [c.action for c in denied.calls if c.mutating]
    actions = {c.action for c in denied.calls}
    assert actions <= ALLOWED_ACTIONS, sorted(actions - ALLOWED_ACTIONS)


def test_the_summary_says_how_many_checks_could_not_be_evaluated(denied: Scan, scanned: Scan) -> None:
    assert scanned.report["summary"]["checks_unknown"] == len({f["check_id"] for f in scanned.report["findings"] if f["status"] == "UNKNOWN"})
    unknown = {f["check_id"] for f in denied.report["findings"] if f["status"] == "UNKNOWN"}
    summary = denied.report["summary"]
    assert summary["checks_unknown"] == len(unknown) > scanned.report["summary"]["checks_unknown"]
    assert f"{len(unknown)} of {summary['checks_evaluated']} checks could not be evaluated on every resource" in denied.run.stdout
    markdown = (denied.out / "report.md").read_text()
    assert f"**{len(unknown)} checks could not be evaluated everywhere** (UNKNOWN)" in markdown
