"""Scheduled runs against the moto server: three runs over an organisation that changes between runs
build a history; the third run's reports show the trend and what is new and resolved with no
--baseline; a run whose account cannot be reached carries the account forward, marked; the webhook
hears once per change and not when nothing changed; a quiet run that trips --fail-on says why on
stderr. Every run option comes from a settings file named by ECS_AUDIT_CONFIG.

moto accepts every AssumeRole, so the tests' proxy refuses the second account's role in run 2."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_audit.report.diff import load_report
from tests.e2e.conftest import aws_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.proxy import FaultProxy, access_denied
from tests.support.webhook import WebhookServer

pytestmark = pytest.mark.e2e

ROLE = "Audit"
REGION = "us-east-1"
TOKEN = "T0KEN-b5f2a9c1e7"  # the webhook URL's secret part: must appear nowhere but in the request line


@dataclass
class Org:
    management: str
    members: list[str]


def _ecs(session, account_id: str):
    sts = session.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return session.client(
        "ecs",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _service(ecs, name: str, privileged: bool) -> None:
    # The full ARN, as AWS stores it (moto keeps a bare family given to UpdateService as it is).
    arn = ecs.register_task_definition(
        family=name,
        networkMode="awsvpc",
        requiresCompatibilities=["EC2"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 512, "privileged": privileged}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="apps", serviceName=name, taskDefinition=arn, desiredCount=1)


@pytest.fixture(scope="module")
def moto(moto_server: MotoServer) -> Iterator[tuple[MotoServer, object]]:
    from moto import mock_aws

    moto_server.reset()
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield moto_server, moto_server.session()
    finally:
        mock.stop(remove_data=False)


@pytest.fixture(scope="module")
def org(moto) -> Org:
    _, session = moto
    organizations = session.client("organizations", region_name=REGION)
    management = organizations.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    members = [
        organizations.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        for name in ("payments", "search")
    ]
    for account_id in members:
        ecs = _ecs(session, account_id)
        ecs.create_cluster(clusterName="apps", tags=[{"key": "Environment", "value": "prod"}])
        _service(ecs, "api", privileged=True)
    return Org(management=management, members=members)


def _files_text(root: Path) -> str:
    out = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            out.append((gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", "replace"))
    return "\n".join(out)


def test_three_scheduled_runs_build_a_history(tmp_path: Path, moto, org: Org):
    moto_server, session = moto
    payments, search = org.members
    history = tmp_path / "history"
    config = tmp_path / "ecs-audit.yaml"
    config.write_text(
        "required_tags: [Environment]\n"
        "run:\n"
        f"  org_role_name: {ROLE}\n"
        f"  regions: [{REGION}]\n"
        "  formats: [html, md, json]\n"
        "  output_dir: reports/{date}\n"
        "  fail_on: critical\n"
        "  history: history\n"
        "  notify_on: critical\n"
    )
    with WebhookServer() as hook, FaultProxy(moto_server.url, caller_arn=f"arn:aws:iam::{org.management}:user/auditor") as proxy:
        env = aws_env(tmp_path / "home", proxy.url, ECS_AUDIT_CONFIG=str(config), ECS_AUDIT_NOTIFY=f"{hook.url}/services/{TOKEN}")

        # Run 1: both accounts have a privileged container (critical FAIL): the quiet run exits 1 and says why.
        run1 = run_cli(["scan", "--quiet"], env, tmp_path, timeout=300)
        assert run1.returncode == 1, run1
        assert run1.stdout == ""
        lines = run1.stderr.strip().splitlines()
        assert len(lines) == 1, run1
        assert lines[0].startswith("ecs-audit: --fail-on critical: 2 FAIL at critical or above (2 critical)")
        assert "SECURITY-002" in lines[0] and "no earlier run" in lines[0]
        dated = list((tmp_path / "reports").iterdir())
        assert len(dated) == 1 and (dated[0] / "report.json").is_file()  # reports/{date} from the settings file
        assert hook.posts == []  # nothing to compare with: nothing changed

        # Run 2: the search account's role is refused; nothing changed in payments.
        refused = f"arn:aws:iam::{search}:role/{ROLE}"
        proxy.add_fault(
            lambda call: call.action == "sts:AssumeRole" and call.params().get("RoleArn") == refused,
            lambda call: access_denied(call, proxy.caller_arn, refused),
            name="refuse the search account's role",
        )
        run2 = run_cli(["scan", "-o", str(tmp_path / "out2")], env, tmp_path, timeout=300)
        assert run2.returncode == 1, run2
        report2 = json.loads((tmp_path / "out2" / "report.json").read_text())
        # the unreachable account's FAILs are carried forward, not "resolved"
        assert report2["resolved"] == []
        assert report2["summary"]["changes"]["new"] == 0
        assert [(c["account_id"], c["region"]) for c in report2["history"]["carried"]] == [(search, None)]
        point2 = report2["history"]["trend"][-1]
        assert {a["account_id"]: a["carried_from"] for a in point2["accounts"]}[search] == report2["history"]["previous_run"]
        assert point2["score"] == report2["history"]["trend"][0]["score"]  # the trend does not jump
        assert point2["open_fail"] == report2["history"]["trend"][0]["open_fail"]
        assert "carried forward" in run2.stdout and search in run2.stdout
        assert "carried forward" in (tmp_path / "out2" / "report.html").read_text()
        assert hook.posts == []  # nothing changed

        # Between runs 2 and 3: payments retires api and deploys a new privileged worker; search is back.
        proxy.clear()
        ecs = _ecs(session, payments)
        ecs.delete_service(cluster="apps", service="api", force=True)
        for arn in ecs.list_task_definitions(familyPrefix="api")["taskDefinitionArns"]:
            ecs.deregister_task_definition(taskDefinition=arn)
        _service(ecs, "worker", privileged=True)
        run3 = run_cli(["scan", "--quiet", "-o", str(tmp_path / "out3")], env, tmp_path, timeout=300)
        assert run3.returncode == 1, run3
        assert run3.stdout == ""
        assert len(run3.stderr.strip().splitlines()) == 1, run3
        line = run3.stderr.strip()
        assert "2 FAIL at critical or above" in line and "1 new since" in line
        assert line.index("worker") < line.index("api")  # the new one first

    out3 = tmp_path / "out3"
    report3 = json.loads((out3 / "report.json").read_text())
    # new and resolved without --baseline: the previous run (run 2, with search carried) is the baseline
    assert report3["baseline"]["source"].endswith(report2["history"]["run_id"])
    # findings and resolved ones read through the project's loader (report.json's encoding is its business)
    model3 = load_report(out3 / "report.json", "report")
    new = [(f.check_id, f.account_id, f.resource.name) for f in model3.findings if f.change == "new" and f.status.value == "FAIL"]
    assert ("SECURITY-002", payments, "worker:1") in new
    resolved = [(r.finding.check_id, r.finding.account_id, r.finding.resource.name) for r in model3.resolved]
    assert ("SECURITY-002", payments, "api:1") in resolved
    assert not [r for r in resolved if r[1] == search]  # search came back unchanged: nothing of it resolved
    trend = report3["history"]["trend"]
    assert len(trend) == 3 and report3["history"]["carried"] == []
    assert [bool({a["account_id"]: a["carried_from"] for a in p["accounts"]}.get(search)) for p in trend] == [False, True, False]
    ages = {(a["check_id"], a["account_id"], a["resource"]) for a in report3["history"]["open_ages"]}
    assert ("SECURITY-002", search, "api:1") in ages
    first_seen = {(a["check_id"], a["account_id"]): a["first_seen"] for a in report3["history"]["open_ages"] if a["resource"] == "api:1"}
    assert first_seen[("SECURITY-002", search)] == trend[0]["generated_at"]  # open since run 1, through the carried run
    assert report3["history"]["fixed_count"] >= 1
    html = (out3 / "report.html").read_text()
    assert html.count("<svg") >= 2 and 'id="history"' in html and "Time to fix" in html
    section = html.split('<section id="history"', 1)[1].split("</section>", 1)[0]
    assert section.count("<svg") >= 1 + len(report3["summary"]["areas"])  # overall, and a line per area
    assert "http" not in section.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched: inline charts
    markdown = (out3 / "report.md").read_text()
    assert "### History" in markdown and "3 runs kept" in markdown

    # the webhook: one message, for run 3's change, naming the new critical FAIL and the resolved one
    assert len(hook.posts) == 1, hook.posts
    text = hook.posts[0]["text"]
    assert "1 new FAIL at critical or above" in text and "worker" in text and "resolved" in text
    assert hook.paths == [f"/services/{TOKEN}"]
    # the URL's token appears in no output, report or history file
    for run in (run1, run2, run3):
        assert TOKEN not in run.stdout + run.stderr
    assert TOKEN not in _files_text(tmp_path / "reports") + _files_text(tmp_path / "out2") + _files_text(out3) + _files_text(history)

    # the history: three runs, each with its report and snapshot (gzip), `latest` naming the third
    runs = sorted(p.name for p in (history / "runs").iterdir())
    assert len(runs) == 3
    assert (history / "latest").read_text().strip() == runs[-1] == report3["history"]["run_id"]
    for run_id in runs:
        assert json.loads(gzip.decompress((history / "runs" / run_id / "report.json.gz").read_bytes()))["schema_version"]
        assert json.loads(gzip.decompress((history / "runs" / run_id / "snapshot.json.gz").read_bytes()))["accounts"]
    listing = run_cli(["history", "list"], env, tmp_path)
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 3 and "1 account(s) carried forward" in listing.stdout
    trend_run = run_cli(["history", "trend", "--format", "json"], env, tmp_path)
    assert [p["run_id"] for p in json.loads(trend_run.stdout)] == runs
    pruned = run_cli(["history", "prune", "--keep", "2"], env, tmp_path)
    assert pruned.returncode == 0 and runs[0] in pruned.stdout
    assert sorted(p.name for p in (history / "runs").iterdir()) == runs[1:]
