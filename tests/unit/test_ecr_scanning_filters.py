"""ECR's scanning filter semantics, from the table in the ECR user guide ("Filter wildcards")."""

from __future__ import annotations

import pytest

from ecs_audit.inventory.ecr import RegistryScanningRule, ScanningRepositoryFilter

NAMES = ("prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo")
TABLE = {
    "prod": (True, True, True, True, True),
    "*prod": (True, True, False, False, False),
    "prod*": (True, False, True, False, True),
    "*prod*": (True, True, True, True, True),
    "prod*repo": (False, False, True, False, True),
}


@pytest.mark.parametrize("pattern", list(TABLE))
def test_filter_matches_as_the_user_guide_says(pattern):
    got = tuple(ScanningRepositoryFilter(filter=pattern, filter_type="WILDCARD").matches(name) for name in NAMES)
    assert got == TABLE[pattern]


def test_a_rule_without_filters_matches_nothing():
    assert not RegistryScanningRule(scan_frequency="SCAN_ON_PUSH").matches("anything")
