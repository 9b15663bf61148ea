"""Splitting an organisation run over processes, and picking up an interrupted one.

Shards: `--shard I/N` keeps the accounts whose SHA-256 of the 12-digit id, read as a number, is
I-1 modulo N. That depends on the account id alone: every shard decides on its own, from its own
listing of the organisation, with no coordinator, and an account that joins the organisation moves
no other account to another shard. (Sorted-position modulo would balance better but moves accounts
whenever one joins or leaves between the shards' listings.)

Checkpoints: with a checkpoint directory, every finished (account, region) pair and every account's
account-wide part (IAM, account errors) is written there as soon as it is complete, atomically;
`--resume` loads them instead of collecting them again. A pair interrupted half-way is never written.

Merging: shard snapshots become one inventory, accounts in id order as a single run lists them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ecs_audit import interrupt
from ecs_audit.errors import UsageError
from ecs_audit.inventory.snapshot import SCHEMA_VERSION, AccountInventory, Inventory, RegionInventory

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_MANIFEST = "run.json"


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def includes(self, account_id: str) -> bool:
        return shard_of(account_id, self.count) == self.index


def shard_of(account_id: str, count: int) -> int:
    """The 1-based shard of `account_id` among `count`."""
    digest = hashlib.sha256(account_id.encode("ascii")).hexdigest()
    return int(digest, 16) % count + 1


def parse_shard(value: str | None) -> Shard | None:
    if value is None:
        return None
    match = _SHARD.match(value)
    if not match:
        raise UsageError(f"--shard {value!r}: expected I/N, e.g. 1/3 (shard I of N, counted from 1)")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= 10000 or not 1 <= index <= count:
        raise UsageError(f"--shard {value!r}: I must be between 1 and N, N between 1 and 10000")
    return Shard(index, count)


class Checkpoint:
    """Finished parts of one run, under `root`: pairs/<account>/<region>.json and accounts/<account>.json."""

    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def open(cls, root: Path, run: dict[str, object], *, resume: bool) -> "Checkpoint":
        """Start (or, with `resume`, continue) the run described by `run` (its options that decide
        what is collected). Resuming a different run is a usage error, never a silent mix."""
        checkpoint = cls(root)
        manifest = root / _MANIFEST
        # The parts are saved in the snapshot's schema: a checkpoint of another schema (one from before
        # ECS managed daemons were read has none, and no record that they were not) is not resumed.
        run = {**run, "schema_version": SCHEMA_VERSION}
        try:
            if resume and manifest.is_file():
                saved = json.loads(manifest.read_text(encoding="utf-8"))
                if saved != run:
                    changed = sorted(k for k in set(saved) | set(run) if saved.get(k) != run.get(k))
                    if {"schema_version", "tool_version"} & set(changed):
                        raise UsageError(
                            f"--resume: the checkpoints in {root} were written by another version of ecs-audit "
                            f"(differs in: {', '.join(changed)}); run without --resume"
                        )
                    raise UsageError(
                        f"--resume: the checkpoints in {root} are of another run (differs in: {', '.join(changed)}); "
                        "run with the same options or without --resume"
                    )
                return checkpoint
            for part in ("pairs", "accounts"):
                shutil.rmtree(root / part, ignore_errors=True)
            root.mkdir(parents=True, exist_ok=True)
            _write(manifest, json.dumps(run, sort_keys=True))
        except OSError as exc:
            raise UsageError(f"--checkpoint-dir {root}: cannot use it ({exc.strerror or exc})") from None
        except json.JSONDecodeError:
            raise UsageError(f"--checkpoint-dir {root}: {_MANIFEST} is not JSON; remove the directory or run without --resume") from None
        return checkpoint

    def _pair(self, account_id: str, region: str) -> Path:
        return self.root / "pairs" / account_id / f"{region}.json"

    def _account(self, account_id: str) -> Path:
        return self.root / "accounts" / f"{account_id}.json"

    def load_region(self, account_id: str, region: str) -> RegionInventory | None:
        return _load(self._pair(account_id, region), RegionInventory)

    def save_region(self, inventory: RegionInventory) -> None:
        self._save(self._pair(inventory.account_id, inventory.region), inventory.model_dump_json())

    def load_account(self, account_id: str) -> AccountInventory | None:
        return _load(self._account(account_id), AccountInventory)

    def save_account(self, inventory: AccountInventory) -> None:
        # The regions are checkpointed on their own; the account part keeps IAM and its errors.
        self._save(self._account(inventory.account_id), inventory.model_copy(update={"regions": []}).model_dump_json())

    def done_pairs(self) -> set[tuple[str, str]]:
        return {(path.parent.name, path.stem) for path in (self.root / "pairs").glob("*/*.json")}

    def _save(self, path: Path, text: str) -> None:
        # A part finished while the run was being stopped may be incomplete (calls refused): not kept.
        if interrupt.interrupted():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, text)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path, model: type[RegionInventory] | type[AccountInventory]):  # type: ignore[no-untyped-def]
    """A checkpoint that cannot be read is collected again, not trusted."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None


def snapshot_files(paths: list[Path]) -> list[Path]:
    """The snapshots named, a directory standing for the *.json files in it (in name order)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                raise UsageError(f"merge: {path} holds no snapshot (*.json)")
            files.extend(found)
        else:
            files.append(path)
    return files


def merge_inventories(parts: list[tuple[str, Inventory]]) -> Inventory:
    """One inventory from shard snapshots (name, inventory): the accounts of all, in id order."""
    if not parts:
        raise UsageError("merge: give at least one snapshot")
    first_name, first = parts[0]
    accounts: dict[str, tuple[str, AccountInventory]] = {}
    for name, inventory in parts:
        if inventory.partition != first.partition:
            raise UsageError(f"merge: {name} is of partition {inventory.partition}, {first_name} of {first.partition}")
        for account in inventory.accounts:
            if account.account_id in accounts:
                other = accounts[account.account_id][0]
                raise UsageError(f"merge: account {account.account_id} is in both {other} and {name}; give each shard once")
            accounts[account.account_id] = (name, account)
    _check_complete(parts)
    callers = {inv.caller.account_id for _, inv in parts if inv.caller is not None}
    if len(callers) > 1:
        raise UsageError(f"merge: the snapshots were collected by different accounts ({', '.join(sorted(callers))})")
    return Inventory(
        tool_version=first.tool_version,
        collected_at=min(inv.collected_at for _, inv in parts),
        caller=next((inv.caller for _, inv in parts if inv.caller is not None), None),
        partition=first.partition,
        accounts=[accounts[key][1] for key in sorted(accounts)],
    )


def _check_complete(parts: list[tuple[str, Inventory]]) -> None:
    """Shard snapshots say which shard they are: a merge of some of them would silently report part of
    the organisation as the whole, so every shard of the run must be there, each once."""
    sharded = [(name, parse_shard(inv.shard)) for name, inv in parts if inv.shard is not None]
    if not sharded:
        return
    if len(sharded) != len(parts):
        whole = next(name for name, inv in parts if inv.shard is None)
        raise UsageError(f"merge: {whole} is not a shard snapshot, the others are; merge the shards of one run")
    counts = {shard.count for _, shard in sharded if shard}
    if len(counts) > 1:
        raise UsageError(f"merge: the snapshots are shards of runs split differently ({', '.join(f'N={c}' for c in sorted(counts))})")
    count = counts.pop()
    seen: dict[int, str] = {}
    for name, shard in sharded:
        assert shard is not None
        if shard.index in seen:
            raise UsageError(f"merge: {seen[shard.index]} and {name} are both shard {shard}; give each shard once")
        seen[shard.index] = name
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise UsageError(f"merge: shard {', '.join(missing)} missing; the report would leave out its accounts")
