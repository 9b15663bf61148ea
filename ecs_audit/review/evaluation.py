"""The one module that couples the review to the evaluation engine (issue 10 may move the engine:
keep every import of it here).

The review builds a RegionInventory from the files (and, with --live, from the account), then runs
the catalogue's task-definition, container and service checks through the engine's own `run_check`
with the same registry, so a verdict on a file is the verdict `scan` would reach on the registered
definition."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ecs_audit import __version__
from ecs_audit.catalogue import Catalogue, Scope
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import run_check, to_jsonable
from ecs_audit.evaluation.view import RegionView
from ecs_audit.findings import EvidenceMissing, Finding, Status, Verdict
from ecs_audit.inventory.ecs import EcsInventory, Service, TaskDefinition
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.snapshot import AccountInventory, Inventory, RegionInventory
from ecs_audit.review.placeholders import scrub
from ecs_audit.rules.registry import RegisteredCheck, load_registry

REVIEW_SCOPES = frozenset({Scope.TASKDEF, Scope.CONTAINER, Scope.SERVICE})

# Checks about what runs or ran, not about a definition: the running tasks, the steady state, the
# family's older revisions, who registered it, measured utilisation, whether what it names exists
# (RESILIENCE-010 judges in-use definitions only). A review does not select them.
RUNTIME_CHECKS = {
    "CICD-006": "needs the family's registered revisions",
    "CICD-007": "needs the family's registered revisions",
    "CICD-008": "needs who registered the revision",
    "TASKDEF-007": "needs measured utilisation",
    "SECURITY-014": "needs the running tasks",
    "SECURITY-017": "needs the family's older revisions",
    "RESILIENCE-003": "needs the running tasks",
    "RESILIENCE-009": "needs the service's deployments",
    "RESILIENCE-010": "judges definitions in use in the account",
}
NOT_DECIDABLE = "NotDecidable"
# Account state a definition file cannot give; --live reads it.
_ACCOUNT_ACTIONS = (("ecs", "ListAccountSettings", "the account's ECS settings"),)


class _ReviewView(RegionView):
    knows_usage = False  # a definition file does not say which services or schedules run it

    def __init__(self, *args: Any, offline: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.offline = offline

    def require(self, part: str) -> Any:
        value = self.iam if part == "iam" else getattr(self.inventory, part)
        if value is None and self.offline:
            raise EvidenceMissing(f"not decidable from a definition file: needs {part} data from the account (--live reads it)")
        return super().require(part)


class _SafeConfig:
    """The audit configuration, with sidecar matching that treats an unfixed image as no match."""

    def __init__(self, config: AuditConfig):
        self._config = config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)

    def sidecar_excuse(self, image: Any, check_id: str) -> Any:
        try:
            return self._config.sidecar_excuse(image, check_id)
        except EvidenceMissing:
            return None


def _guarded(registered: RegisteredCheck) -> RegisteredCheck:
    def run(subject: Any) -> Verdict:
        verdict = registered.function(subject)
        if isinstance(verdict, Verdict) and verdict.evidence:
            try:
                to_jsonable(verdict.evidence)
            except Exception:  # evidence that holds a placeholder
                return Verdict(verdict.status, verdict.message, scrub(verdict.evidence), verdict.severity)
        return verdict

    return RegisteredCheck(registered.check_id, run)


def selected_checks(catalogue: Catalogue, registry: dict[str, RegisteredCheck], wanted: set[str] | None) -> list[str]:
    out = []
    for entry in catalogue.checks:
        if not entry.automated or entry.deprecated or entry.id not in registry or entry.id in RUNTIME_CHECKS:
            continue
        if not REVIEW_SCOPES.intersection(entry.scope):
            continue
        if wanted is not None and entry.id not in wanted:
            continue
        out.append(entry.id)
    return out


def evaluate_definitions(
    task_definitions: list[TaskDefinition],
    services: list[Service],
    catalogue: Catalogue,
    config: AuditConfig,
    *,
    account_id: str,
    region: str,
    partition: str = "aws",
    live: tuple[RegionInventory, AccountInventory] | None = None,
    wanted: set[str] | None = None,
) -> list[Finding]:
    """Findings of the review's checks on the given definitions only."""
    registry = load_registry()
    if live is None:
        ecs = EcsInventory(task_definitions=[], services=[])
        region_inventory = RegionInventory(
            account_id=account_id,
            region=region,
            ecs=ecs,
            errors=[
                ApiError(account_id=account_id, region=region, service=s, operation=op, error_code=NOT_DECIDABLE,
                         message=f"not decidable from a definition file: needs {what} (--live reads it)", context="review")
                for s, op, what in _ACCOUNT_ACTIONS
            ],
        )
        account = AccountInventory(account_id=account_id, regions=[region_inventory])
    else:
        region_inventory, account = live
        ecs = region_inventory.ecs or EcsInventory()
    ours_td = {td.task_definition_arn for td in task_definitions}
    ours_svc = {s.service_arn for s in services}
    # The models hold placeholders: they are put in place without validating again.
    merged = ecs.model_construct(**{
        **{name: getattr(ecs, name) for name in type(ecs).model_fields},
        "task_definitions": [td for td in ecs.task_definitions if td.task_definition_arn not in ours_td] + list(task_definitions),
        "services": [s for s in ecs.services if s.service_arn not in ours_svc] + list(services),
    })
    region_inventory = region_inventory.model_construct(**{
        **{name: getattr(region_inventory, name) for name in type(region_inventory).model_fields}, "ecs": merged})
    inventory = Inventory(tool_version=__version__, collected_at=datetime.now(timezone.utc), partition=partition, accounts=[])
    view = _ReviewView(region_inventory, _SafeConfig(config), partition, account, inventory.collected_at, offline=live is None)  # type: ignore[arg-type]
    ours = ours_td | ours_svc
    findings: list[Finding] = []
    entries = {e.id: e for e in catalogue.checks}
    for check_id in selected_checks(catalogue, registry, wanted):
        entry = entries[check_id]
        for finding in run_check(entry, _guarded(registry[check_id]), view):
            if finding.resource.arn in ours:
                findings.append(_explain(finding))
    findings.sort(key=lambda f: f.sort_key)
    return findings


def _explain(finding: Finding) -> Finding:
    if finding.status is Status.UNKNOWN and NOT_DECIDABLE in (finding.evidence or {}).get("error_codes", []):
        message = finding.message.split(f"({NOT_DECIDABLE}): ", 1)[-1]
        return finding.model_copy(update={"message": message})
    return finding

