"""Cached lookup indexes of inventory records follow the record's fields, copies included."""

from __future__ import annotations

import pytest

from ecs_audit.inventory.ec2 import Ec2Inventory, Instance


def _inventory() -> Ec2Inventory:
    return Ec2Inventory.model_validate(
        {
            "subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1"}],
            "security_groups": [{"GroupId": "sg-1"}],
            "instances": [{"InstanceId": "i-1"}],
        }
    )


@pytest.mark.parametrize("deep", [False, True])
def test_a_copy_with_updated_lists_does_not_answer_from_the_originals_indexes(deep: bool):
    original = _inventory()
    # fill every index first (review3 item 12: a copy kept them and still found the old subnet)
    assert original.subnet("subnet-1") and original.security_group("sg-1") and original.instance("i-1")
    copied = original.model_copy(update={"subnets": [], "security_groups": [], "instances": [Instance(instance_id="i-2")]}, deep=deep)
    assert copied.subnet("subnet-1") is None
    assert copied.security_group("sg-1") is None
    assert copied.instance("i-1") is None and copied.instance("i-2") is not None
    # the original keeps answering from its own fields
    assert original.subnet("subnet-1") is not None and original.instance("i-2") is None


def test_a_plain_copy_still_answers():
    original = _inventory()
    assert original.subnet("subnet-1") is not None
    assert original.model_copy().subnet("subnet-1") is not None
