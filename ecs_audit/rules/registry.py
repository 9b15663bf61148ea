"""The registry of check functions, keyed by the checklist id each implements."""

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
    # IAM actions whose data the check reads beyond what enumerating its scope needs. A recorded
    # failure of one of them makes the check UNKNOWN for the resources that call covered.
    needs: tuple[str, ...] = ()
    # For the LB scope: which subject the function takes, "load_balancer" or "target_group".
    subject: str | None = None
    # Of `needs`, those only a PASS requires: when one of them failed, the check still runs, and a
    # FAIL or WARN it reaches from the evidence that was read stands (naming the failed call); any
    # other result becomes UNKNOWN. Partial evidence may decide a failure, never a pass.
    pass_needs: tuple[str, ...] = ()


_REGISTRY: dict[str, RegisteredCheck] = {}


def check(
    check_id: str,
    *,
    needs: tuple[str, ...] | list[str] = (),
    subject: str | None = None,
    pass_needs: tuple[str, ...] | list[str] = (),
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a function as the implementation of a checklist id.

    The function receives one subject (see ecs_audit.estate) matching the check's scope in the
    catalogue, and returns a Verdict. LB-scoped checks say `subject="load_balancer"` (the default) or
    `subject="target_group"`.
    """
    if subject not in (None, "load_balancer", "target_group"):
        raise ValueError(f"{check_id}: unknown subject {subject!r}")
    if not set(pass_needs) <= set(needs):
        raise ValueError(f"{check_id}: pass_needs {sorted(set(pass_needs) - set(needs))} are not among its needs")

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in _REGISTRY:
            existing = _REGISTRY[check_id].function
            raise ValueError(
                f"{check_id} is implemented twice: {existing.__module__}.{existing.__name__} "
                f"and {function.__module__}.{function.__name__}"
            )
        _REGISTRY[check_id] = RegisteredCheck(check_id, function, tuple(needs), subject, tuple(pass_needs))
        return function

    return register


def load_registry() -> dict[str, RegisteredCheck]:
    """Import every rule module (registering its checks) and return the registry."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)
