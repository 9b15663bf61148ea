"""A version 1 snapshot predates reading ECS managed daemons: its `daemons: []` means "never read",
not "none". Re-evaluated offline, a check that needs them must be UNKNOWN where they would have been
read (clusters with ECS Managed Instances capacity providers), never a FAIL or PASS resting on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import evaluate
from ecs_audit.inventory.snapshot import SCHEMA_VERSION, load_snapshot, save_snapshot
from tests.support.estate import build_inventory

GUARDDUTY_ON = {"detectors": [{"DetectorId": "d1", "Status": "ENABLED", "Features": [{"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}]}]}
# A service on ECS Managed Instances, which GuardDuty Runtime Monitoring does not watch: with no
# agent in the task, only a managed daemon could cover it.
MANAGED_INSTANCES = {
    "clusters": [{"clusterName": "mi", "capacityProviders": ["mi-cp"]}],
    "capacity_providers": [{"name": "mi-cp", "type": "MANAGED_INSTANCES"}],
    "task_definitions": [{"family": "job", "containerDefinitions": [{"name": "web", "image": "app:1.0"}]}],
    "services": [{"serviceName": "worker", "cluster": "mi", "capacityProviderStrategy": [{"capacityProvider": "mi-cp"}], "taskDefinition": "job:1"}],
    "guardduty": GUARDDUTY_ON,
}
FARGATE_ONLY = {
    "task_definitions": [{"family": "app", "containerDefinitions": [{"name": "web", "image": "app:1.0"}]}],
    "services": [{"serviceName": "api", "cluster": "c1", "launchType": "FARGATE", "taskDefinition": "app:1"}],
    "guardduty": GUARDDUTY_ON,
}


def _snapshot(tmp_path: Path, estate: dict[str, Any], version: int) -> Path:
    """The estate saved as a snapshot of schema `version` (1: without what version 2 added)."""
    path = tmp_path / f"v{version}.json"
    save_snapshot(build_inventory(estate), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = version
    if version == 1:
        for account in data["accounts"]:
            for region in account["regions"]:
                region.pop("not_collected", None)
                if region.get("ecs"):
                    region["ecs"].pop("daemons", None)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _security_011(path: Path, catalogue, registry):  # type: ignore[no-untyped-def]
    (finding,) = evaluate(load_snapshot(path), catalogue, registry, AuditConfig(), selected={"SECURITY-011"})
    return finding


def test_a_version_1_managed_instances_cluster_is_unknown_not_fail(tmp_path: Path, catalogue, registry):
    assert _security_011(_snapshot(tmp_path, MANAGED_INSTANCES, 2), catalogue, registry).status.value == "FAIL"  # daemons read: none
    finding = _security_011(_snapshot(tmp_path, MANAGED_INSTANCES, 1), catalogue, registry)
    assert finding.status.value == "UNKNOWN"
    assert "ecs:ListDaemons" in finding.message and "schema version 1" in finding.message


def test_a_version_1_region_without_managed_instances_keeps_its_verdict(tmp_path: Path, catalogue, registry):
    # No Managed Instances: no daemon would be read today either, so nothing is missing.
    inventory = load_snapshot(_snapshot(tmp_path, FARGATE_ONLY, 1))
    assert inventory.schema_version == SCHEMA_VERSION and inventory.accounts[0].regions[0].not_collected == []
    assert _security_011(_snapshot(tmp_path, FARGATE_ONLY, 1), catalogue, registry).status.value == "PASS"


def test_a_loaded_version_1_snapshot_saved_again_keeps_the_daemons_not_collected(tmp_path: Path):
    inventory = load_snapshot(_snapshot(tmp_path, MANAGED_INSTANCES, 1))
    (region,) = inventory.accounts[0].regions
    assert [(e.operation, e.error_code) for e in region.not_collected] == [
        ("ListDaemons", "NotCollected"), ("DescribeDaemon", "NotCollected"), ("DescribeDaemonRevisions", "NotCollected"),
    ]
    again = tmp_path / "again.json"
    save_snapshot(inventory, again)
    assert load_snapshot(again) == inventory


def test_a_version_2_cluster_whose_provider_was_not_returned_is_unknown_not_ec2(tmp_path: Path, catalogue, registry):
    # Versions 1 and 2 asked DescribeCapacityProviders without the cluster, which leaves out a Managed
    # Instances provider: missing from the snapshot, it would be taken for EC2 (watched by GuardDuty).
    unasked = {key: value for key, value in MANAGED_INSTANCES.items() if key != "capacity_providers"}
    finding = _security_011(_snapshot(tmp_path, unasked, 2), catalogue, registry)
    assert finding.status.value == "UNKNOWN"
    assert "ecs:DescribeCapacityProviders" in finding.message and "schema version 2 or older" in finding.message
    assert _security_011(_snapshot(tmp_path, MANAGED_INSTANCES, 2), catalogue, registry).status.value == "FAIL"
