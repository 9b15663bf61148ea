"""Shards, checkpoints and merging (ecs_audit.collect.shards), offline."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecs_audit.collect.shards import Checkpoint, Shard, merge_inventories, parse_shard, shard_of, snapshot_files
from ecs_audit.errors import UsageError
from ecs_audit.inventory.snapshot import AccountInventory, CallerIdentity, Inventory, RegionInventory, save_snapshot

ACCOUNTS = [f"{n:012d}" for n in range(100000000000, 100000000000 + 3000, 7)]


@pytest.mark.parametrize("value", ["1/3", "3/3", " 2 / 5 ", "1/1"])
def test_shard_specs(value: str):
    shard = parse_shard(value)
    assert shard is not None and 1 <= shard.index <= shard.count


@pytest.mark.parametrize("value", ["0/3", "4/3", "1/0", "1", "a/b", "-1/3", "1/3/4", "1/10001"])
def test_bad_shard_specs_are_usage_errors(value: str):
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(value)


def test_every_account_is_in_exactly_one_shard_decided_by_its_id_alone():
    for count in (1, 2, 3, 7):
        shards = [Shard(i, count) for i in range(1, count + 1)]
        for account in ACCOUNTS:
            assert sum(s.includes(account) for s in shards) == 1
    # the documented rule, spelled out
    account = "123456789012"
    assert shard_of(account, 5) == int(hashlib.sha256(account.encode()).hexdigest(), 16) % 5 + 1


def test_shards_are_balanced():
    sizes = [sum(shard_of(a, 4) == i for a in ACCOUNTS) for i in range(1, 5)]
    assert min(sizes) > 0.8 * len(ACCOUNTS) / 4, sizes


def _inventory(*accounts: str, shard: str | None = None, caller: str = "999999999999") -> Inventory:
    return Inventory(
        tool_version="t",
        collected_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        caller=CallerIdentity(account_id=caller, arn=f"arn:aws:iam::{caller}:role/audit"),
        shard=shard,
        accounts=[AccountInventory(account_id=a, name=f"n{a[-2:]}") for a in accounts],
    )


def test_merge_orders_accounts_as_one_run_does():
    merged = merge_inventories([("b", _inventory("300000000000", "100000000000", shard="2/2")), ("a", _inventory("200000000000", shard="1/2"))])
    assert [a.account_id for a in merged.accounts] == ["100000000000", "200000000000", "300000000000"]
    assert merged.shard is None and merged.accounts[0].name == "n00"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("a", _inventory("100000000000", shard="1/3")), ("b", _inventory("200000000000", shard="2/3"))], "shard 3/3 missing"),
        ([("a", _inventory("100000000000", shard="1/2")), ("b", _inventory("200000000000", shard="1/2"))], "give each shard once"),
        ([("a", _inventory("100000000000", shard="1/2")), ("b", _inventory("200000000000", shard="1/3"))], "split differently"),
        ([("a", _inventory("100000000000", shard="1/1")), ("b", _inventory("200000000000"))], "not a shard snapshot"),
        ([("a", _inventory("100000000000")), ("b", _inventory("100000000000"))], "in both a and b"),
        ([("a", _inventory("100000000000")), ("b", _inventory("200000000000", caller="888888888888"))], "different accounts"),
        ([], "at least one"),
    ],
)
def test_merges_that_would_mislead_are_refused(parts, message: str):
    with pytest.raises(UsageError, match=message):
        merge_inventories(parts)


def test_a_directory_stands_for_its_snapshots(tmp_path: Path):
    for name in ("shard-2.json", "shard-1.json"):
        save_snapshot(_inventory(), tmp_path / name)
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in snapshot_files([tmp_path])] == ["shard-1.json", "shard-2.json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="holds no snapshot"):
        snapshot_files([empty])


def test_checkpoints_round_trip_and_a_new_run_starts_clean(tmp_path: Path):
    run = {"shard": "1/2", "regions": ["eu-west-1"]}
    checkpoint = Checkpoint.open(tmp_path, run, resume=False)
    region = RegionInventory(account_id="100000000000", region="eu-west-1")
    checkpoint.save_region(region)
    checkpoint.save_account(AccountInventory(account_id="100000000000", regions=[region]))
    resumed = Checkpoint.open(tmp_path, run, resume=True)
    assert resumed.load_region("100000000000", "eu-west-1") == region
    assert resumed.load_account("100000000000") == AccountInventory(account_id="100000000000")
    assert resumed.done_pairs() == {("100000000000", "eu-west-1")}
    assert resumed.load_region("100000000000", "us-east-1") is None
    # a damaged checkpoint is collected again, never trusted
    (tmp_path / "pairs" / "100000000000" / "eu-west-1.json").write_text("{not json")
    assert resumed.load_region("100000000000", "eu-west-1") is None
    # without --resume the run starts over
    fresh = Checkpoint.open(tmp_path, run, resume=False)
    assert fresh.done_pairs() == set()


def test_resuming_another_run_is_refused(tmp_path: Path):
    Checkpoint.open(tmp_path, {"shard": "1/2"}, resume=False)
    with pytest.raises(UsageError, match="another run.*shard"):
        Checkpoint.open(tmp_path, {"shard": "2/2"}, resume=True)


def test_resuming_checkpoints_of_an_older_schema_is_refused(tmp_path: Path):
    # Checkpoints written before ECS managed daemons were read (same tool version 0.1.0, a manifest
    # without the schema): their regions have no daemons and no record that none were read.
    run = {"tool_version": "0.1.0", "shard": None}
    Checkpoint.open(tmp_path, run, resume=False).save_region(RegionInventory(account_id="100000000000", region="eu-west-1"))
    (tmp_path / "run.json").write_text(json.dumps(run, sort_keys=True), encoding="utf-8")
    with pytest.raises(UsageError, match="another version of ecs-audit .*schema_version.*without --resume"):
        Checkpoint.open(tmp_path, run, resume=True)
    # without --resume the run starts over in the current schema, and can be resumed
    assert Checkpoint.open(tmp_path, run, resume=False).done_pairs() == set()
    assert Checkpoint.open(tmp_path, run, resume=True).done_pairs() == set()
