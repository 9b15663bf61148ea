"""End to end: the IAM policy ecs-audit prints is exactly what an audit uses.

The demo account (all its regions) is seeded into the moto server; the installed CLI scans every
region moto knows (`scan --all-regions`, the demo's among them) through the tests' proxy, which adds what AWS returns and moto does not and
answers what moto has no handler for (tests.support.proxy.install_enrichment). Every operation the
proxy saw is then held against the policy:

- nothing outside the operations the client factory allows (session.ALLOWED_ACTIONS, which the
  printed policy grants) was sent, and nothing mutating;
- every action the policy grants was sent in this run: the policy grants nothing unused. The only
  exceptions are the permissions AWS checks behind another call, which the tool never sends itself
  (POLICY_ACTIONS - ALLOWED_ACTIONS, e.g. wafv2:GetWebACL behind GetWebACLForResource).

The demo estate is built so that every collector has something to read (a CODE_DEPLOY service, an
internet-facing ALB, EFS volumes, container instances, enhanced ECR scanning with Inspector, a region
with a cluster but nothing in use...): an action this test finds unused is a gap in the estate, or a
permission the tool no longer needs.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_audit.policy import POLICY_ACTIONS
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.demo.estate import DEMO_REGIONS
from ecs_audit.policy import audit_role_policy
from tests.e2e.conftest import Run, aws_env, base_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy, install_enrichment
from tests.support.seed import SeededAccount, seed_mixed_estate

pytestmark = pytest.mark.e2e

# Permissions AWS evaluates behind another call; ecs-audit never sends these operations itself.
PERMISSIONS_ONLY = POLICY_ACTIONS - ALLOWED_ACTIONS


@dataclass
class Audit:
    run: Run
    report: dict[str, Any]
    calls: list[Call]

    @property
    def actions(self) -> Counter[str]:
        return Counter(call.action for call in self.calls)


@pytest.fixture(scope="module")
def account(moto_server: MotoServer) -> Iterator[SeededAccount]:
    yield seed_mixed_estate(moto_server, regions=DEMO_REGIONS)
    moto_server.reset()  # the server is shared: later modules expect the regions they do not seed empty


@pytest.fixture(scope="module")
def audit(moto_server: MotoServer, account: SeededAccount, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audit]:
    work = tmp_path_factory.mktemp("policy")
    out = work / "report"
    with FaultProxy(moto_server.url, caller_arn=account.caller_arn) as proxy:
        install_enrichment(proxy, account.facts)
        env = aws_env(work / "home", proxy.url, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key)
        run = run_cli(["scan", "--all-regions", "-o", str(out), "--format", "json", "-q"], env, cwd=work, timeout=600)
        calls = list(proxy.calls)
    report = read_report(out / "report.json") if (out / "report.json").exists() else {}
    # What the run sent, for whoever has to find out why an action went unused.
    (work / "operations.txt").write_text("".join(f"{action} {n}\n" for action, n in sorted(Counter(c.action for c in calls).items())))
    yield Audit(run, report, calls)


def test_the_scan_covers_every_region_without_errors(audit: Audit) -> None:
    assert audit.run.returncode == 0, audit.run
    regions = audit.report["scope"]["regions"]
    assert set(DEMO_REGIONS) <= set(regions), regions
    assert len(regions) > len(DEMO_REGIONS), "--all-regions scanned only the demo regions"
    errors = [(e["region"], e["permission"], e["error_code"], e["message"][:160]) for e in audit.report["errors"]]
    assert not errors, errors


def test_only_allowed_read_operations_reach_the_endpoint(audit: Audit) -> None:
    assert audit.calls
    mutating = sorted({call.action for call in audit.calls if call.mutating})
    assert not mutating, mutating
    unidentified = sorted({f"{call.method} {call.path}" for call in audit.calls if call.operation == "unknown"})
    assert not unidentified, unidentified
    outside = sorted(set(audit.actions) - ALLOWED_ACTIONS)
    assert not outside, outside
    ungranted = sorted(set(audit.actions) - _granted())
    assert not ungranted, ungranted


def test_the_printed_policy_is_the_audit_role_policy(tmp_path: Path) -> None:
    run = run_cli(["iam-policy"], base_env(tmp_path / "home"), cwd=tmp_path)
    assert run.returncode == 0, run
    assert json.loads(run.stdout) == audit_role_policy()


def test_the_policy_grants_nothing_unused(audit: Audit) -> None:
    granted = _granted()
    assert granted == POLICY_ACTIONS
    unused = sorted(granted - PERMISSIONS_ONLY - set(audit.actions))
    assert not unused, f"granted but never sent against the demo account: {unused}"


def _granted() -> set[str]:
    return {action for statement in audit_role_policy()["Statement"] for action in statement["Action"]}
