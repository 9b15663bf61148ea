"""One id, written once per artifact: catalogue entry, registered function, test cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecs_audit.rules.registry import check

ROOT = Path(__file__).resolve().parents[2]

# Automated checks without a function yet: none. A new catalogue entry lands with its function.
NOT_YET_IMPLEMENTED: set[str] = set()


def checklist_ids() -> set[str]:
    text = (ROOT / "docs" / "CHECKLIST.md").read_text()
    return set(re.findall(r"^\| ([A-Z]+-\d{3}) \|", text, flags=re.MULTILINE))


def test_every_function_implements_a_catalogue_id(catalogue, registry):
    ids = {c.id for c in catalogue.checks}
    assert set(registry) <= ids, sorted(set(registry) - ids)


def test_every_catalogue_id_is_in_the_checklist(catalogue):
    assert {c.id for c in catalogue.checks} == checklist_ids()


def test_every_automated_id_has_a_function(catalogue, registry):
    missing = {c.id for c in catalogue.checks if c.automated and not c.deprecated and c.id not in registry}
    assert missing == NOT_YET_IMPLEMENTED, (
        f"without a function: {sorted(missing - NOT_YET_IMPLEMENTED)}; "
        f"implemented now, remove from NOT_YET_IMPLEMENTED: {sorted(NOT_YET_IMPLEMENTED - missing)}"
    )


def test_manual_items_have_no_function(catalogue, registry):
    assert not {c.id for c in catalogue.checks if not c.automated} & set(registry)


def test_registering_an_id_twice_is_refused(registry):
    some_id = sorted(registry)[0]
    with pytest.raises(ValueError, match="implemented twice"):
        check(some_id)(lambda subject: None)


def test_rule_functions_are_in_id_order_within_each_area_file(registry):
    by_module: dict[str, list[int]] = {}
    for check_id, registered in registry.items():  # in registration (file) order
        by_module.setdefault(registered.function.__module__, []).append(int(check_id.split("-")[1]))
    for module, numbers in by_module.items():
        assert numbers == sorted(numbers), module
