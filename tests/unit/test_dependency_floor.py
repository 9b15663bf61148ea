"""pyproject.toml's floor for boto3/botocore must be a release whose models have every operation the
audit may call: an older allowed botocore has no method for a newer operation (the call is then
recorded as UnknownOperation, collect/base.py, but the facts it reads are lost on every run)."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest

from ecs_audit.inventory.errors import iam_action
from ecs_audit.inventory.parts import SOURCES
from ecs_audit.session import ACCESS_ACTIONS, SESSION_ACTIONS

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# The first botocore whose ECS model has ListDaemons, DescribeDaemon and DescribeDaemonRevisions
# (1.42.80 has none of them; checked in the wheels from PyPI, botocore/data/ecs/2014-11-13/service-2.json).
# Every other operation below is in 1.42.81's models too. boto3 1.42.81 requires botocore >=1.42.81,<1.43.
MANAGED_DAEMONS_BOTOCORE = (1, 42, 81)
# The non-collector calls, by client: (client, operation) for each action of the session and the caller.
OTHER_CALLS = {
    "sts:GetCallerIdentity": ("sts", "GetCallerIdentity"),
    "ec2:DescribeRegions": ("ec2", "DescribeRegions"),
    "sts:AssumeRole": ("sts", "AssumeRole"),
    "organizations:ListAccounts": ("organizations", "ListAccounts"),
}


def _floor(package: str) -> tuple[int, ...]:
    # The [project] dependencies (the test extra pins exact versions with ==).
    (floor,) = re.findall(rf'^\s*"{package}>=([\d.]+)"', PYPROJECT.read_text(encoding="utf-8"), re.MULTILINE)
    return tuple(int(part) for part in floor.split("."))


def test_the_boto3_and_botocore_floors_are_one_release_with_managed_daemons():
    assert _floor("botocore") == _floor("boto3")
    assert _floor("botocore") >= MANAGED_DAEMONS_BOTOCORE


def _every_call() -> list[tuple[str, str]]:
    calls = [(source.client, operation) for source in SOURCES for operation in source.operations]
    assert set(OTHER_CALLS) == SESSION_ACTIONS | ACCESS_ACTIONS
    return calls + list(OTHER_CALLS.values())


@pytest.mark.parametrize("client,operation", _every_call(), ids=lambda value: value)
def test_every_operation_the_audit_may_call_is_in_the_installed_botocore(client, operation):
    model = botocore.session.get_session().get_service_model(client)
    assert operation in model.operation_names, f"botocore {botocore.__version__} has no {iam_action(client, operation)}"
