"""The registry of check functions, keyed by the checklist id each implements.

What a check is about (its scope) and which calls it needs are in its catalogue entry (checks/*.yaml);
the registry only says which function implements it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ecs_audit.findings import Verdict

CheckFunction = Callable[..., Verdict]

# The modules that define checks, one per checklist area. Imported explicitly, never discovered.
RULE_MODULES = (
    "ecs_audit.rules.cicd",
    "ecs_audit.rules.taskdef",
    "ecs_audit.rules.image",
    "ecs_audit.rules.security",
    "ecs_audit.rules.network",
    "ecs_audit.rules.storage",
    "ecs_audit.rules.observability",
    "ecs_audit.rules.resilience",
    "ecs_audit.rules.cluster",
    "ecs_audit.rules.tagging",
)


@dataclass(frozen=True)
class RegisteredCheck:
    check_id: str
    function: CheckFunction


_REGISTRY: dict[str, RegisteredCheck] = {}


def check(check_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a function as the implementation of a checklist id.

    The function receives one subject (see ecs_audit.evaluation.subjects) of the class the check's
    catalogue scope names (ecs_audit.evaluation.scopes), and returns a Verdict.
    """

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in _REGISTRY:
            existing = _REGISTRY[check_id].function
            raise ValueError(
                f"{check_id} is implemented twice: {existing.__module__}.{existing.__name__} "
                f"and {function.__module__}.{function.__name__}"
            )
        _REGISTRY[check_id] = RegisteredCheck(check_id, function)
        return function

    return register


def load_registry() -> dict[str, RegisteredCheck]:
    """Import every rule module (registering its checks) and return the registry."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)
