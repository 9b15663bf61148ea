"""Run the registered checks over an inventory and produce findings.

The engine owns the rules that make results trustworthy:
- a recorded API failure of something a check needs makes that check UNKNOWN for the resources the
  failed call covered, naming the call, the error and the missing permission;
- a failure that prevented resources from being listed becomes an UNKNOWN result on the parent
  (the cluster, or the account and region), so a gap never reads as "nothing to check";
- a check that raises becomes UNKNOWN with the error, and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from enum import Enum
from typing import Any, NamedTuple

from pydantic import BaseModel

from ecs_audit.catalogue import Catalogue, CheckEntry, Scope
from ecs_audit.collector_pause import collector_paused
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.scopes import CLUSTER_LISTING, SCOPES, subjects_for
from ecs_audit.evaluation.subjects import ContainerSubject, Subject
from ecs_audit.evaluation.view import RegionView
from ecs_audit.findings import SORT_KEY, EvidenceMissing, Finding, ResourceRef, Status, Verdict, finding_from_fields
from ecs_audit.inventory.arns import account_resource, resource_from_arn
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.parts import clients_of_part
from ecs_audit.inventory.snapshot import Inventory
from ecs_audit.rules.registry import RegisteredCheck

log = logging.getLogger(__name__)

def evaluate(
    inventory: Inventory,
    catalogue: Catalogue,
    registry: dict[str, RegisteredCheck],
    config: AuditConfig,
    selected: set[str] | None = None,
) -> list[Finding]:
    """Every registered, selected check over every account and region of the inventory."""
    with collector_paused(promote=True):
        return _evaluate(inventory, catalogue, registry, config, selected)


def _evaluate(
    inventory: Inventory,
    catalogue: Catalogue,
    registry: dict[str, RegisteredCheck],
    config: AuditConfig,
    selected: set[str] | None,
) -> list[Finding]:
    findings: list[Finding] = []
    for account in inventory.accounts:
        for region in account.regions:
            if region.is_empty:
                continue  # no ECS here: nothing to judge, and no account-level noise
            view = RegionView(region, config, inventory.partition, account, inventory.collected_at)
            subjects: dict[Scope, list[_Placed]] = {}
            for entry in catalogue.checks:
                if not entry.automated or entry.deprecated or entry.id not in registry:
                    continue
                if selected is not None and entry.id not in selected:
                    continue
                findings.extend(run_check(entry, registry[entry.id], view, subjects))
    findings.sort(key=SORT_KEY)
    return findings


class _Placed(NamedTuple):
    """A subject with what each of its findings records about where it is (the same for every check)."""

    subject: Subject
    resource: ResourceRef
    container: str | None
    cluster: str | None
    owner: str | None


def _placed(subject: Subject, config: AuditConfig) -> _Placed:
    return _Placed(subject, subject.resource, subject.container_name, subject.cluster_name, owner_of(subject, config))


def run_check(
    entry: CheckEntry,
    registered: RegisteredCheck,
    view: RegionView,
    subjects: dict[Scope, list[_Placed]] | None = None,
) -> list[Finding]:
    """The check's findings in one region. `subjects` keeps each scope's subjects, with their
    resource, container, cluster and owner, for the region's other checks (made once, not once per
    check)."""
    subjects = {} if subjects is None else subjects
    results: dict[tuple[str, str | None], Finding] = {}
    for scope in entry.scope:
        # Per scope: a failure that hides task definitions says nothing about a cluster's own tags.
        relevant = _relevant_errors(scope, entry, view)
        unlisted = _clusters_unlisted(view) if scope is Scope.ACCOUNT else []
        if scope not in subjects:
            subjects[scope] = [_placed(subject, view.config) for subject in subjects_for(scope, view)]
        for subject, resource, container, cluster, owner in subjects[scope]:
            verdict = _verdict_for(entry, registered, subject, relevant, view)
            if unlisted and verdict.status in (Status.PASS, Status.NOT_APPLICABLE):
                verdict = _unknown_from(unlisted)
            results[(resource.arn, container)] = make_finding(entry, view, resource, container, cluster, verdict, owner)
        for finding in _gap_findings(entry, scope, view, relevant, results):
            key = (finding.resource.arn, finding.container)
            if key in results:
                results[key] = _merge_unknown(results[key], finding)
            else:
                results[key] = finding
    return list(results.values())


def _clusters_unlisted(view: RegionView) -> list[ApiError]:
    """Region-wide failures to list or describe the clusters. An account-level PASS or NOT_APPLICABLE
    in such a region could rest on an empty list ("no task definition is in use here"): it becomes
    UNKNOWN. A FAIL or WARN rests on something found, and stands."""
    return [e for e in view.errors if e.action in CLUSTER_LISTING and not e.resources and e.context is None]


def _relevant_errors(scope: Scope, entry: CheckEntry, view: RegionView) -> list[ApiError]:
    spec = SCOPES[scope]
    needs = set(entry.needs)
    enumeration = set(spec.listed_by)
    errors = [e for e in view.errors if e.action in needs or (e.action in enumeration and e.context is None)]
    # Calls left out of the scan because no check selected then needed them.
    errors += [e for e in view.inventory.not_collected if e.action in needs]
    if not view.has_ecs and any(a.startswith("ecs:") for a in needs | enumeration):
        errors.append(_not_collected(view, "ecs", "ListClusters"))
    if spec.part and spec.part_listing and view.has_ecs and getattr(view.inventory, spec.part) is None:
        errors.append(_not_collected(view, clients_of_part(spec.part)[0], spec.part_listing))
    return errors


def _not_collected(view: RegionView, service: str, operation: str) -> ApiError:
    return ApiError(
        account_id=view.account_id,
        region=view.region,
        service=service,
        operation=operation,
        error_code="NotCollected",
        message=f"{service} data is not in the inventory for {view.region}",
    )


def _verdict_for(
    entry: CheckEntry,
    registered: RegisteredCheck,
    subject: Subject,
    relevant: list[ApiError],
    view: RegionView,
) -> Verdict:
    pass_only: list[ApiError] = []
    if relevant:
        covering = [e for e in relevant if _covers(e, subject)]
        pass_only = [e for e in covering if e.action in entry.pass_needs and e.context is None]
        if len(pass_only) < len(covering):
            return _unknown_from(covering)
    if isinstance(subject, ContainerSubject):
        excuse = view.config.sidecar_excuse(subject.container.image, entry.id)
        if excuse is not None:
            return Verdict(
                Status.NOT_APPLICABLE,
                f"sidecar image excused by configuration ({excuse.image}): {excuse.reason}",
                {"image": subject.container.image},
            )
    try:
        verdict = registered.function(subject)
    except EvidenceMissing as missing:
        if pass_only:
            return _unknown_from(pass_only)
        evidence = {"operation": missing.operation, "error_code": missing.error_code} if missing.operation else {}
        return Verdict(Status.UNKNOWN, missing.reason, evidence)
    except Exception as exc:  # a crashing check must not stop the audit
        log.warning("check %s crashed on %s: %s: %s", entry.id, subject.resource.arn, type(exc).__name__, exc)
        log.debug("traceback", exc_info=True)
        return Verdict(Status.UNKNOWN, f"the check crashed: {type(exc).__name__}: {exc}", {"check_error": type(exc).__name__})
    if not isinstance(verdict, Verdict):
        return Verdict(Status.UNKNOWN, f"the check returned {type(verdict).__name__}, not a verdict")
    if pass_only:
        return _decided_despite(verdict, pass_only)
    return verdict


def _decided_despite(verdict: Verdict, failed: list[ApiError]) -> Verdict:
    """A verdict reached while some evidence only a PASS needs could not be read: a FAIL or WARN
    stands and names the failed calls; anything else is UNKNOWN."""
    if verdict.status not in (Status.FAIL, Status.WARN):
        return _unknown_from(failed)
    unread = sorted({e.describe() for e in failed})
    evidence = {
        **(verdict.evidence or {}),
        "failed_calls": sorted({e.action for e in failed}),
        "error_codes": sorted({e.error_code for e in failed}),
    }
    message = f"{verdict.message} (decided without: {'; '.join(unread)})"
    return Verdict(verdict.status, message, evidence, verdict.severity)


def _covers(error: ApiError, subject: Subject) -> bool:
    if not error.resources:
        return True
    keys = {subject.resource.arn, *subject.ancestors}
    return bool(keys.intersection(error.resources))


def _unknown_from(errors: Iterable[ApiError]) -> Verdict:
    errors = list(errors)
    reasons = sorted({e.describe() for e in errors})
    evidence = {
        "failed_calls": sorted({e.action for e in errors}),
        "error_codes": sorted({e.error_code for e in errors}),
    }
    return Verdict(Status.UNKNOWN, "evidence could not be read: " + "; ".join(reasons), evidence)


def _gap_findings(
    entry: CheckEntry,
    scope: Scope,
    view: RegionView,
    relevant: list[ApiError],
    results: dict[tuple[str, str | None], Finding],
) -> Iterator[Finding]:
    """UNKNOWN results for resources a failed call kept us from seeing at all."""
    enumeration = set(SCOPES[scope].listed_by)
    known = {arn for arn, _ in results}
    by_target: dict[str, list[ApiError]] = {}
    for error in relevant:
        if error.action not in enumeration or error.context is not None:
            continue
        targets = error.resources or [account_resource(view.partition, view.account_id).arn]
        for target in targets:
            if target not in known:
                by_target.setdefault(target, []).append(error)
    for target, errors in by_target.items():
        if target.endswith(":root"):
            resource = view.account_resource
        else:
            resource = resource_from_arn(target)
        verdict = _unknown_from(errors)
        what = scope.label.lower().replace("taskdef", "task definition")
        message = f"some {what} resources could not be listed or read, so this check is incomplete here: " + verdict.message.removeprefix(
            "evidence could not be read: "
        )
        cluster = resource.name if resource.type == "AWS::ECS::Cluster" else None
        yield make_finding(entry, view, resource, None, cluster, Verdict(Status.UNKNOWN, message, verdict.evidence))


def _merge_unknown(existing: Finding, gap: Finding) -> Finding:
    if existing.status is Status.UNKNOWN:
        message = existing.message if gap.message in existing.message else f"{existing.message}; {gap.message}"
        return existing.model_copy(update={"message": message})
    return gap.model_copy(update={"cluster": existing.cluster})


def make_finding(
    entry: CheckEntry,
    view: RegionView,
    resource: ResourceRef,
    container: str | None,
    cluster: str | None,
    verdict: Verdict,
    owner: str | None = None,
) -> Finding:
    # Every value is already of its field's type (a large audit makes tens of thousands of findings:
    # validating them would copy each one's evidence and references for nothing). The same as
    # trusted_finding(check_id=..., owner=owner), every field written out (test_engine checks).
    return finding_from_fields(
        {
            "check_id": entry.id,
            "title": entry.title,
            "area": entry.area,
            "severity": verdict.severity or entry.severity,
            "status": verdict.status,
            "account_id": view.account_id,
            "region": view.region,
            "resource": resource,
            "container": container,
            "cluster": cluster,
            "message": verdict.message,
            "evidence": to_jsonable(verdict.evidence) if verdict.evidence else {},
            "remediation": entry.remediation,
            "references": list(entry.references),
            "waiver": None,
            "answer": None,
            "owner": owner,
            "change": None,
        },
        set(_MADE_FIELDS),
    )


# The fields make_finding gives (the rest are at their defaults).
_MADE_FIELDS = frozenset(
    ("check_id", "title", "area", "severity", "status", "account_id", "region", "resource", "container", "cluster",
     "message", "evidence", "remediation", "references", "owner")
)  # fmt: skip


def owner_of(subject: Subject, config: AuditConfig) -> str | None:
    """The value of the first of config.owner_tags the subject's resource carries."""
    if not config.owner_tags:
        return None
    try:
        tags = subject.tags
    except (AttributeError, EvidenceMissing):
        return None
    for key in config.owner_tags:
        value = tags.get(key) if isinstance(tags, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# Values to_jsonable returns as they are (exact types: str and int subclasses such as enums are not).
_PLAIN = frozenset({str, int, float, bool, type(None)})
_STR_ONLY = frozenset({str})


def to_jsonable(value: Any) -> Any:
    """Evidence as plain JSON values with a stable order."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict and set(map(type, value)) <= _STR_ONLY:
        # The common case (every key a str), sorted by key as below without a key function (keys are distinct, so
        # the values are never compared).
        return {k: v if type(v) in _PLAIN else to_jsonable(v) for k, v in sorted(value.items())}
    if kind is list:
        return [v if type(v) in _PLAIN else to_jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json", by_alias=True, exclude_none=True))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
