"""The scope table and the catalogue's `needs` name only calls the collectors can make: a misspelt
action would otherwise silently mean "never UNKNOWN"."""

from __future__ import annotations

import typing

import pytest
from pydantic import ValidationError

from ecs_audit.catalogue import CheckEntry, Scope, Severity, load_catalogue
from ecs_audit.evaluation.scopes import SCOPES
from ecs_audit.rules.registry import load_registry


def collector_actions() -> frozenset[str]:
    """The IAM actions the collectors declare they may call (the one place to re-point when those
    declarations move)."""
    from ecs_audit.inventory.parts import COLLECTOR_ACTIONS

    return COLLECTOR_ACTIONS


def unknown_needs(entries: list[CheckEntry]) -> list[tuple[str, str]]:
    callable_actions = collector_actions()
    return [(entry.id, action) for entry in entries for action in entry.needs if action not in callable_actions]


def _entry(**fields: typing.Any) -> CheckEntry:
    return CheckEntry(id="TEST-001", title="A test check", severity=Severity.LOW, scope=[Scope.SERVICE],
                      rationale="because tests need one", remediation="fix the test estate", **fields)  # fmt: skip


def test_every_needs_action_is_one_a_collector_calls():
    entries = load_catalogue().checks
    assert any(entry.needs for entry in entries)
    assert unknown_needs(entries) == []


def test_a_misspelt_needs_action_is_caught():
    assert unknown_needs([_entry(needs=["ecs:ListTask"])]) == [("TEST-001", "ecs:ListTask")]
    assert unknown_needs([_entry(needs=["ecs:ListTasks"])]) == []


@pytest.mark.parametrize("action", ["ListTasks", "ecs:listTasks", "ecs: ListTasks", "ECS:ListTasks"])
def test_needs_must_be_iam_actions(action: str):
    with pytest.raises(ValidationError, match="not an IAM action"):
        _entry(needs=[action])


def test_every_scope_has_one_row_whose_listing_calls_a_collector_makes():
    assert set(SCOPES) == set(Scope)
    for scope, spec in SCOPES.items():
        assert set(spec.listed_by) <= collector_actions(), scope
        assert (spec.part is None) == (spec.part_listing is None), scope


def test_every_single_scope_check_takes_the_subject_its_scope_names():
    catalogue = {entry.id: entry for entry in load_catalogue().checks}
    checked = 0
    for check_id, registered in load_registry().items():
        scopes = catalogue[check_id].scope
        if len(scopes) != 1:
            continue
        hints = typing.get_type_hints(registered.function)
        first = next(iter(registered.function.__code__.co_varnames[:1]))
        assert hints.get(first) is SCOPES[scopes[0]].subject, (check_id, hints.get(first), scopes[0])
        checked += 1
    assert checked > 80
