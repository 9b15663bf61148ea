"""Organisation runs: the CLI lists the organisation, assumes a role in every member account across
regions, reports an account whose role cannot be assumed, and rolls the accounts up.

moto accepts every AssumeRole (and switches to the role's account), so the tests' proxy refuses one.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import aws_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.org import REGIONS, ROLE, build_org
from tests.support.proxy import FaultProxy, access_denied, delay, in_account

pytestmark = pytest.mark.e2e


@dataclass
class Org:
    management: str
    members: list[str]  # the first two run ECS, the third refuses the audit role

    @property
    def refusing(self) -> str:
        return self.members[2]


@pytest.fixture(scope="module")
def org(moto_server: MotoServer) -> Iterator[Org]:
    management, members = build_org(
        moto_server, ("payments", "search", "locked"), cluster="apps-{region}", tags={"Environment": "prod"}, unseeded=("locked",)
    )
    yield Org(management=management, members=list(members))


@pytest.fixture()
def proxy(moto_server: MotoServer, org: Org) -> Iterator[FaultProxy]:
    with FaultProxy(moto_server.url, caller_arn=f"arn:aws:iam::{org.management}:user/auditor") as proxy:
        refused = f"arn:aws:iam::{org.refusing}:role/{ROLE}"
        proxy.add_fault(
            lambda call: call.action == "sts:AssumeRole" and call.params().get("RoleArn") == refused,
            lambda call: access_denied(call, proxy.caller_arn, refused),
            name="refuse the locked account's role",
        )
        yield proxy


def _scan(tmp_path: Path, proxy: FaultProxy, *extra: str):
    out = tmp_path / "out"
    run = run_cli(
        ["scan", "--org-role-name", ROLE, "--external-id", "e2e-external-id", "-o", str(out), "--format", "json,md,html", *extra],
        aws_env(tmp_path / "home", proxy.url),
        tmp_path,
        timeout=300,
    )
    report = read_report(out / "report.json") if (out / "report.json").exists() else None
    return run, report, out


def test_an_organisation_is_audited_across_accounts_and_regions(tmp_path: Path, proxy: FaultProxy, org: Org):
    run, report, out = _scan(tmp_path, proxy, "--all-regions")
    assert run.returncode == 0, run
    # every ACTIVE account is in scope, the refusing one included
    assert set(report["scope"]["accounts"]) == {org.management, *org.members}
    # both member accounts were audited in both regions
    audited = {(f["account_id"], f["region"]) for f in report["findings"]}
    for account_id in org.members[:2]:
        for region in REGIONS:
            assert (account_id, region) in audited
    privileged = [f for f in report["findings"] if f["check_id"] == "SECURITY-002" and f["status"] == "FAIL"]
    assert {(f["account_id"], f["region"]) for f in privileged} == {(a, r) for a in org.members[:2] for r in REGIONS}
    # the refusing account: no findings, its error reported with the missing permission
    assert not [f for f in report["findings"] if f["account_id"] == org.refusing]
    errors = [e for e in report["errors"] if e["account_id"] == org.refusing]
    assert [(e["permission"], e["error_code"]) for e in errors] == [("sts:AssumeRole", "AccessDenied")]
    # the roll-up: one entry per account, the unreachable one last and saying why
    rollup = report["summary"]["accounts"]
    assert [a["account_id"] for a in rollup][-1] == org.refusing
    assert rollup[-1]["unreachable"] and "sts:AssumeRole" in rollup[-1]["unreachable"]
    assert {a["account_id"] for a in rollup} == {org.management, *org.members}
    # every member role was assumed with the external id; nothing mutating reached the endpoint
    assumed = proxy.seen("sts:AssumeRole")
    assert {c.params().get("ExternalId") for c in assumed} == {"e2e-external-id"}
    assert {c.params().get("RoleArn") for c in assumed} == {f"arn:aws:iam::{a}:role/{ROLE}" for a in (org.management, *org.members)}
    assert proxy.mutating_calls() == []
    # regions without clusters cost one call each and produce nothing
    assert not [f for f in report["findings"] if f["region"] not in REGIONS and f["area"] != "MANUAL"]
    # the Markdown names every account in its roll-up
    markdown = (out / "report.md").read_text()
    for account_id in (org.management, *org.members):
        assert account_id in markdown


def test_accounts_can_be_selected_and_excluded(tmp_path: Path, proxy: FaultProxy, org: Org):
    run, report, _ = _scan(tmp_path, proxy, "--region", "us-east-1", "--accounts", ",".join(org.members), "--exclude-accounts", org.refusing)
    assert run.returncode == 0, run
    assert set(report["scope"]["accounts"]) == set(org.members[:2])
    # moto has no Compute Optimizer; nothing else may fail
    assert [e for e in report["errors"] if e["service"] != "compute-optimizer"] == []
    assert {f["region"] for f in report["findings"] if f["area"] != "MANUAL"} == {"us-east-1"}


def test_an_account_outside_the_organisation_is_a_usage_error(tmp_path: Path, proxy: FaultProxy, org: Org):
    run, report, _ = _scan(tmp_path, proxy, "--region", "us-east-1", "--accounts", "999999999999")
    assert run.returncode == 2, run
    assert report is None
    assert run.stderr.count("\n") == 1 and "999999999999" in run.stderr and "Traceback" not in run.stderr


def test_when_no_account_can_be_reached_the_audit_cannot_run(tmp_path: Path, proxy: FaultProxy, org: Org):
    proxy.add_fault("sts:AssumeRole", lambda call: access_denied(call, proxy.caller_arn), name="refuse all")
    run, report, _ = _scan(tmp_path, proxy, "--region", "us-east-1")
    assert run.returncode == 3, run
    assert report is None
    assert "no account could be reached" in run.stderr and "Traceback" not in run.stderr


def test_a_single_assumed_role(tmp_path: Path, proxy: FaultProxy, org: Org):
    out = tmp_path / "out"
    role_arn = f"arn:aws:iam::{org.members[0]}:role/{ROLE}"
    run = run_cli(
        ["scan", "--role-arn", role_arn, "--region", "eu-west-1", "-o", str(out), "--format", "json"],
        aws_env(tmp_path / "home", proxy.url),
        tmp_path,
    )
    assert run.returncode == 0, run
    report = read_report(out / "report.json")
    assert report["scope"]["accounts"] == [org.members[0]]
    assert report["scope"]["caller_arn"].startswith(f"arn:aws:sts::{org.members[0]}:assumed-role/{ROLE}/")
    assert [c.params().get("RoleArn") for c in proxy.seen("sts:AssumeRole")] == [role_arn]


def test_an_account_that_times_out_is_recorded_and_the_others_complete(tmp_path: Path, proxy: FaultProxy, org: Org):
    """Once its role is assumed, every call to the `search` account goes unanswered."""
    slow = org.members[1]
    proxy.add_fault(in_account(slow), delay(6), name="timeout")
    out = tmp_path / "out"
    run = run_cli(
        ["scan", "--org-role-name", ROLE, "--region", "us-east-1", "-o", str(out), "--format", "json"],
        aws_env(tmp_path / "home", proxy.url, ECS_AUDIT_READ_TIMEOUT="2", AWS_MAX_ATTEMPTS="2"),
        tmp_path,
        timeout=300,
    )
    assert run.returncode == 0, run
    report = read_report(out / "report.json")
    errors = [e for e in report["errors"] if e["account_id"] == slow]
    assert [(e["permission"], e["error_code"]) for e in errors] == [("sts:AssumeRole", "ReadTimeoutError")], errors
    rollup = {a["account_id"]: a for a in report["summary"]["accounts"]}
    assert rollup[slow]["unreachable"] and "ReadTimeoutError" in rollup[slow]["unreachable"]
    assert not [f for f in report["findings"] if f["account_id"] == slow]
    privileged = [f for f in report["findings"] if f["check_id"] == "SECURITY-002" and f["status"] == "FAIL"]
    assert {f["account_id"] for f in privileged} == {org.members[0]}
