"""The collectors' declarations (ecs_audit/inventory/parts.py) are the one source of service
knowledge: they must name real operations, the service's real IAM prefix, and only reads; everything
derived from them (allowlist, policy, error actions) must agree; and only collect/ and session.py
may import the AWS SDK."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest

import ecs_audit
from ecs_audit.collect.runner import REGION_COLLECTORS
from ecs_audit.inventory.errors import iam_action
from ecs_audit.inventory.parts import (
    COLLECTOR_ACTIONS,
    ECS_STEPS,
    PERMISSIONS_ONLY,
    SOURCES,
    STEP_FIELDS,
    clients_of_part,
    source_of,
)
from ecs_audit.inventory.ecs import EcsInventory
from ecs_audit.inventory.snapshot import AccountInventory, RegionInventory
from ecs_audit.policy import POLICY_ACTIONS
from ecs_audit.session import ALLOWED_ACTIONS, SESSION_ACTIONS

PACKAGE = Path(ecs_audit.__file__).parent
# Where the AWS SDK may be imported: the collectors and the guarded session. The demo seeds and
# patches an in-process moto account with boto3: it stands in for AWS, it is not part of the audit.
SDK_ALLOWED = ("collect/", "session.py", "demo/")
READ_PREFIXES = ("Describe", "Get", "List", "BatchGet")


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.part)
def test_a_declaration_names_real_read_operations_of_its_client(source):
    model = botocore.session.get_session().get_service_model(source.client)
    # The IAM prefix is the service's signing name or its client name (CloudWatch signs as "monitoring").
    assert source.iam_prefix in {model.signing_name, model.endpoint_prefix, source.client}
    assert source.operations and len(set(source.operations)) == len(source.operations)
    for operation in source.operations:
        assert operation in model.operation_names, f"{source.client} has no operation {operation}"
        assert operation.startswith(READ_PREFIXES), operation


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.part)
def test_a_declaration_fills_an_inventory_part_and_reads_only_declared_parts(source):
    holder = AccountInventory if source.account_wide else RegionInventory
    assert source.part in holder.model_fields
    parts = {s.part for s in SOURCES}
    assert set(source.reads) <= parts | set(ECS_STEPS) and source.part not in source.reads
    if source.part != "ecs":
        # Every other collector follows one step of ECS's collection: where ECS finds nothing, it is not run.
        assert len(set(source.reads) & set(ECS_STEPS)) == 1
    assert clients_of_part(source.part) == (source.client,)
    assert source_of(source.part) is source


def test_the_allowlist_the_policy_and_error_actions_derive_from_the_declarations():
    declared = {action for source in SOURCES for action in source.actions}
    assert COLLECTOR_ACTIONS == declared
    assert ALLOWED_ACTIONS == declared | SESSION_ACTIONS
    assert POLICY_ACTIONS == ALLOWED_ACTIONS | PERMISSIONS_ONLY and not PERMISSIONS_ONLY & ALLOWED_ACTIONS
    for source in SOURCES:
        for operation in source.operations:
            assert iam_action(source.client, operation) in ALLOWED_ACTIONS
    assert iam_action("elbv2", "DescribeListeners") == "elasticloadbalancing:DescribeListeners"
    assert iam_action("efs", "DescribeMountTargets") == "elasticfilesystem:DescribeMountTargets"


def test_the_runner_runs_every_regional_declaration_and_the_graph_has_no_cycle():
    assert [c.source for c in REGION_COLLECTORS] == [s for s in SOURCES if not s.account_wide]
    known = set(ECS_STEPS)
    waiting = [s for s in SOURCES if not s.account_wide and s.part != "ecs"]
    while waiting:
        ready = [s for s in waiting if set(s.reads) <= known]
        assert ready, f"these wait for each other: {[s.part for s in waiting]}"
        known |= {s.part for s in ready}
        waiting = [s for s in waiting if s not in ready]


def _ecs_names_read(module: Path) -> set[str]:
    """Attribute names a collector module reads that EcsInventory has (fields, properties, methods)."""
    inventory_class = next(
        node for node in ast.walk(ast.parse((PACKAGE / "inventory/ecs.py").read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name == "EcsInventory"
    )
    members = set(EcsInventory.model_fields) | {
        node.name for node in inventory_class.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in members}


@pytest.mark.parametrize("source", [s for s in SOURCES if set(s.reads) & set(STEP_FIELDS)], ids=lambda s: s.part)
def test_a_collector_started_early_reads_only_what_ecs_knows_by_then(source):
    # Started on an early step, it sees an ECS inventory with only that step's fields filled: reading
    # another (e.g. task_definitions) would silently see none.
    (step,) = set(source.reads) & set(STEP_FIELDS)
    read = _ecs_names_read(PACKAGE / "collect" / f"{source.part}.py")
    assert read <= set(STEP_FIELDS[step]), sorted(read - set(STEP_FIELDS[step]))


def test_the_early_step_scan_sees_a_late_field(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("def collect(ctx, config, region):\n    return region.ecs.task_definitions\n")
    assert _ecs_names_read(sample) == {"task_definitions"}


def test_the_declarations_import_without_the_aws_sdk():
    code = (
        "import sys, ecs_audit.inventory.parts, ecs_audit.inventory.errors\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _sdk_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [name for name in names if name.split(".")[0] in ("boto3", "botocore")]
    return found


def test_only_the_collectors_and_the_session_import_the_aws_sdk():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(SDK_ALLOWED):
            continue
        bad += [f"{relative} imports {name}" for name in _sdk_imports(path)]
    assert bad == []


def test_the_sdk_scan_sees_type_checking_imports(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import boto3\n    from botocore.client import BaseClient\n")
    assert _sdk_imports(sample) == ["boto3", "botocore.client"]
