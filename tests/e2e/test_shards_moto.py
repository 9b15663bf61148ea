"""Sharded organisation runs with the installed CLI against moto: three `scan --shard I/3` plus
`merge` give the report of one run; a run stopped by SIGTERM and resumed from its checkpoints
collects again only the (account, region) pairs it had not finished.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecs_audit.collect.shards import shard_of
from tests.e2e.conftest import aws_env, cli_path, run_cli
from tests.support.moto_server import MotoServer
from tests.support.org import REGIONS, ROLE, build_org
from tests.support.proxy import FaultProxy, delay, in_account
from tests.support.report_json import read_report

pytestmark = pytest.mark.e2e

NAMES = ("payments", "search", "ledger", "catalog", "identity", "billing")
EPOCH = "1767225600"  # the reports' date, fixed so that two runs' reports can be compared whole


@dataclass
class Org:
    management: str
    members: dict[str, str]  # id -> name

    @property
    def accounts(self) -> list[str]:
        return sorted([self.management, *self.members])


@pytest.fixture(scope="module")
def org(moto_server: MotoServer) -> Org:
    management, members = build_org(moto_server, NAMES)
    return Org(management, members)


@pytest.fixture()
def proxy(moto_server: MotoServer, org: Org) -> Iterator[FaultProxy]:
    with FaultProxy(moto_server.url, caller_arn=f"arn:aws:iam::{org.management}:user/auditor") as proxy:
        yield proxy


def _args(*extra: str) -> list[str]:
    return ["scan", "--org-role-name", ROLE, "--external-id", "e2e-external-id", *(a for r in REGIONS for a in ("--region", r)), *extra]


def _env(tmp_path: Path, proxy: FaultProxy) -> dict[str, str]:
    return aws_env(tmp_path / "home", proxy.url, SOURCE_DATE_EPOCH=EPOCH)


def test_three_shards_merged_report_what_one_run_reports(tmp_path: Path, proxy: FaultProxy, org: Org):
    env = _env(tmp_path, proxy)
    single = run_cli([*_args("-o", str(tmp_path / "single"), "--format", "json,md")], env, tmp_path, timeout=300)
    assert single.returncode == 0, single

    snapshots = []
    for index in (1, 2, 3):
        snapshot = tmp_path / f"shard-{index}.json"
        run = run_cli(
            [*_args("--shard", f"{index}/3", "-o", str(tmp_path / f"out-{index}"), "--format", "json", "--save-snapshot", str(snapshot))],
            env, tmp_path, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run
        shard_accounts = [a["account_id"] for a in json.loads(snapshot.read_text())["accounts"]]
        # each shard holds exactly the accounts the documented hash gives it
        assert shard_accounts == [a for a in org.accounts if shard_of(a, 3) == index]
        snapshots.append(str(snapshot))
    merged = run_cli(["merge", *snapshots, "-o", str(tmp_path / "merged"), "--format", "json,md", "--save-snapshot", str(tmp_path / "all.json")], env, tmp_path)
    assert merged.returncode == 0, merged

    # the files whole, as written; then their findings, read as schema 2 lays them out
    assert json.loads((tmp_path / "merged" / "report.json").read_text()) == json.loads((tmp_path / "single" / "report.json").read_text())
    one = read_report(tmp_path / "single" / "report.json")
    combined = read_report(tmp_path / "merged" / "report.json")
    assert one["findings"], "the organisation has findings to compare"
    assert {f["account_id"] for f in one["findings"] if f["status"] == "FAIL"} >= set(org.members)
    assert combined == one
    assert (tmp_path / "merged" / "report.md").read_text() == (tmp_path / "single" / "report.md").read_text()
    # every shard but the merged snapshot names the accounts as Organizations does
    names = {a["account_id"]: a["name"] for a in json.loads((tmp_path / "all.json").read_text())["accounts"]}
    assert {a: names[a] for a in org.members} == org.members
    rollup = {a["account_id"]: a for a in combined["summary"]["accounts"]}
    assert rollup[next(iter(org.members))]["account_name"] == next(iter(org.members.values()))
    markdown = (tmp_path / "merged" / "report.md").read_text()
    for account_id, name in org.members.items():
        assert f"{name} ({account_id})" in markdown
    # merging a shard twice is refused in one line
    twice = run_cli(["merge", snapshots[0], snapshots[0], "-o", str(tmp_path / "twice")], env, tmp_path)
    assert twice.returncode == 2 and "give each shard once" in twice.stderr and "Traceback" not in twice.stderr


def _pairs_of(calls) -> set[tuple[str, str]]:
    return {(c.account, c.region) for c in calls}


def test_a_run_stopped_by_sigterm_resumes_without_collecting_finished_pairs(tmp_path: Path, proxy: FaultProxy, org: Org):
    slow = sorted(org.members)[0]
    # The slow account's ECS calls hang, so the run is stopped with its pairs unfinished.
    proxy.add_fault(lambda call: in_account(slow)(call) and call.service == "ecs", delay(20), name="slow account")
    checkpoints = tmp_path / "checkpoints"
    env = _env(tmp_path, proxy)
    args = _args("--checkpoint-dir", str(checkpoints), "-o", str(tmp_path / "out"), "--format", "json")
    process = subprocess.Popen([str(cli_path()), *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    others = {(a, r) for a in org.accounts if a != slow for r in REGIONS}
    deadline = time.monotonic() + 120
    done: set[tuple[str, str]] = set()
    while time.monotonic() < deadline and done != others:
        done = {(p.parent.name, p.stem) for p in (checkpoints / "pairs").glob("*/*.json")}
        time.sleep(0.2)
    assert done == others, f"checkpoints: {sorted(done)}"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out" / "report.json").exists()
    # nothing half-collected was kept for the slow account
    assert not list((checkpoints / "pairs").glob(f"{slow}/*.json"))

    proxy.clear()
    resumed = run_cli([*args, "--resume"], env, tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed
    collected = _pairs_of(proxy.seen("ecs:ListClusters"))
    assert collected == {(slow, r) for r in REGIONS}, "only the unfinished pairs are collected again"
    report = read_report(tmp_path / "out" / "report.json")
    failing = {(f["account_id"], f["region"]) for f in report["findings"] if f["check_id"] == "SECURITY-002" and f["status"] == "FAIL"}
    assert failing == {(a, r) for a in org.members for r in REGIONS}

    # resuming with other options is refused rather than mixing two runs
    other = run_cli([*_args("--shard", "1/2"), "--checkpoint-dir", str(checkpoints), "--resume", "-o", str(tmp_path / "x")], env, tmp_path)
    assert other.returncode == 2 and "another run" in other.stderr, other
