"""Amazon Inspector: whether it scans this account's ECR images, its rescan duration, and the ACTIVE
findings of the image digests in use.

Which digests: those running tasks report and those references pin, for images in ECR in this
region (any account: a delegated administrator sees its members' findings), plus the digests the ECR
collector resolved tags of this account's images to.

Cost per region (no call at all when no image is in ECR in this region): BatchGetAccountStatus once
(for this account), GetConfiguration once, and ListFindings filtered server-side by up to 10 image
digests a call (the ecrImageHash filter list's limit) and findingStatus ACTIVE, 100 findings a page.
ListFindings is skipped when Inspector's ECR scanning is known to be off (there are no findings).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from ecs_audit.collect.base import ABSENT, CollectContext, batched
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.parts import source_of
from ecs_audit.semantics.image_in_use import ecr_image_arn, is_local_ecr, parse_or_none, referenced_id, running_digests
from ecs_audit.inventory.ecr import EcrInventory, Vulnerability, severity_rank, top_vulnerabilities
from ecs_audit.inventory.ecs import EcsInventory
from ecs_audit.inventory.inspector import (
    AccountState,
    EcrConfigurationState,
    Finding,
    ImageFindings,
    InspectorInventory,
)
from ecs_audit.inventory.snapshot import RegionInventory

SOURCE = source_of("inspector")
SERVICE = SOURCE.client
DIGEST_BATCH = 10  # FilterCriteria.ecrImageHash: StringFilterList, at most 10 filters
FINDINGS_PAGE = 100  # ListFindings maxResults
# Inspector's ECR scanning is off: its findings are closed, ListFindings would return nothing.
SCANNING_OFF = frozenset({"DISABLED", "SUSPENDED"})


def in_use_digests(ecs: EcsInventory, ecr: EcrInventory | None, account_id: str, region: str, partition: str) -> dict[str, list[str]]:
    """Digest -> Inspector resource ids (ECR image ARNs) of the images in use, for ECR images in this region."""
    out: dict[str, set[str]] = defaultdict(set)
    for td in ecs.task_definitions:
        for container in td.container_definitions:
            ref = parse_or_none(container.image)
            if ref is None or not ref.is_ecr or ref.ecr_region != region:
                continue
            digests = running_digests(ecs.tasks, td.task_definition_arn, container.name)
            if ref.digest:
                digests.append(ref.digest)
            if ecr is not None and is_local_ecr(ref, account_id, region) and not ref.digest:
                image = ecr.find_image(ref.repository, tag=referenced_id(ref).tag)
                if image is not None:
                    digests.append(image.image_digest)
            for digest in digests:
                out[digest].add(ecr_image_arn(partition, ref, digest))
    return {digest: sorted(arns) for digest, arns in sorted(out.items())}


def prefetch(ctx: CollectContext) -> None:
    """The account's status and configuration depend on no image: sent before ECS and ECR are done."""
    ctx.prefetch(SERVICE, "BatchGetAccountStatus", accountIds=[ctx.account_id])
    ctx.prefetch(SERVICE, "GetConfiguration")


def collect(ctx: CollectContext, config: AuditConfig, region: RegionInventory) -> InspectorInventory | None:
    if region.ecs is None:
        return None
    collected_at = datetime.now(timezone.utc)
    digests = in_use_digests(region.ecs, region.ecr, ctx.account_id, ctx.region, ctx.partition)
    repositories = region.ecr.in_use_repositories if region.ecr else []
    if not digests and not repositories:
        return InspectorInventory(collected_at=collected_at)

    account, configuration = ctx.parallel(lambda step: step(), [lambda: _account_status(ctx), lambda: _configuration(ctx)])
    inventory = InspectorInventory(collected_at=collected_at, account=account, ecr_configuration=configuration)
    if inventory.ecr_status in SCANNING_OFF:
        return inventory
    findings: dict[str, ImageFindings] = {}
    for result in ctx.parallel(lambda batch: _findings(ctx, batch, digests), list(batched(list(digests), DIGEST_BATCH))):
        findings.update(result)
    return inventory.model_copy(update={"findings": dict(sorted(findings.items()))})


def _account_status(ctx: CollectContext) -> AccountState | None:
    # accountIds is required in practice: some endpoints fail without it.
    response = ctx.call(SERVICE, "BatchGetAccountStatus", accountIds=[ctx.account_id])
    if not isinstance(response, dict):
        return None
    for failed in response.get("failedAccounts", []):
        if failed.get("accountId") == ctx.account_id:
            ctx.record(SERVICE, "BatchGetAccountStatus", str(failed.get("errorCode") or "FailedAccount"), str(failed.get("errorMessage") or ""))
            return None
    for item in response.get("accounts", []):
        if isinstance(item, dict) and item.get("accountId") == ctx.account_id:
            try:
                return AccountState.model_validate(item)
            except ValidationError as exc:
                ctx.record(SERVICE, "BatchGetAccountStatus", "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}")
                return None
    ctx.record(SERVICE, "BatchGetAccountStatus", "AccountNotReturned", f"no status was returned for account {ctx.account_id}")
    return None


def _configuration(ctx: CollectContext) -> EcrConfigurationState | None:
    # Not found: Inspector was never set up here, so there is no rescan configuration to read.
    response = ctx.call(SERVICE, "GetConfiguration", absent_codes=("ResourceNotFoundException",))
    if response is ABSENT:
        return EcrConfigurationState()
    if not isinstance(response, dict):
        return None
    try:
        return EcrConfigurationState.model_validate(response.get("ecrConfiguration") or {})
    except ValidationError as exc:
        ctx.record(SERVICE, "GetConfiguration", "MalformedResponse", f"unexpected response shape: {exc.errors()[0]['msg']}")
        return None


def _findings(ctx: CollectContext, batch: list[str], digests: dict[str, list[str]]) -> dict[str, ImageFindings]:
    """Findings of up to 10 digests; every digest of the batch gets an entry, unless the call failed
    (recorded against the images' ARNs, so only their checks become UNKNOWN)."""
    items = ctx.paginate(
        SERVICE,
        "ListFindings",
        "findings",
        resources=[arn for digest in batch for arn in digests[digest]],
        filterCriteria={
            "ecrImageHash": [{"comparison": "EQUALS", "value": digest} for digest in batch],
            "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
        },
        PaginationConfig={"PageSize": FINDINGS_PAGE},
    )
    if items is None:
        return {}
    resources = [arn for digest in batch for arn in digests[digest]]
    # Per digest: one entry per vulnerability (the same image in two repositories is one image).
    worst: dict[str, dict[str, Vulnerability]] = {digest: {} for digest in batch}
    observed: dict[str, datetime | None] = {digest: None for digest in batch}
    for item in items:
        finding = _finding(ctx, item, resources)
        if finding is None or (finding.status or "ACTIVE") != "ACTIVE":
            continue
        vulnerability = Vulnerability(id=finding.vulnerability_id, severity=finding.severity or "UNTRIAGED", package=finding.package)
        for digest in finding.image_digests:
            if digest not in worst:
                continue  # an endpoint that ignores the filter: keep only what was asked for
            kept = worst[digest].get(vulnerability.id)
            if kept is None or severity_rank(vulnerability.severity) > severity_rank(kept.severity):
                worst[digest][vulnerability.id] = vulnerability
            seen = observed[digest]
            if finding.last_observed_at and (seen is None or finding.last_observed_at > seen):
                observed[digest] = finding.last_observed_at
    out = {}
    for digest, vulnerabilities in worst.items():
        counts: dict[str, int] = defaultdict(int)
        for vulnerability in vulnerabilities.values():
            counts[vulnerability.severity] += 1
        out[digest] = ImageFindings(
            severity_counts=dict(sorted(counts.items())),
            top=top_vulnerabilities(list(vulnerabilities.values())),
            last_observed_at=observed[digest],
        )
    return out


def _finding(ctx: CollectContext, item: Any, resources: list[str]) -> Finding | None:
    try:
        return Finding.model_validate(item)
    except ValidationError as exc:
        ctx.record(SERVICE, "ListFindings", "MalformedResponse", f"unexpected finding shape: {exc.errors()[0]['msg']}", resources)
        return None

