"""Checks of the IMAGE area (see checks/image.yaml)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ecs_audit.catalogue import Severity
from ecs_audit.evaluation.subjects import AccountSubject, ContainerSubject, RepositorySubject
from ecs_audit.evaluation.view import RegionView
from ecs_audit.findings import EvidenceMissing, Verdict, fail, na, ok, unknown, warn
from ecs_audit.semantics.image_reference import ImageRef, ImageRefError, parse_image_ref
from ecs_audit.semantics.image_in_use import ecr_image_arn, is_local_ecr, parse_or_none, referenced_id, repository_arn, running_digests
from ecs_audit.inventory.ecr import (
    NO_POLICY,
    SCAN_NOT_FOUND,
    EcrInventory,
    ImageDetail,
    RegistryScanningConfiguration,
    Vulnerability,
    top_vulnerabilities,
)
from ecs_audit.inventory.inspector import EcrRescanDurationState, InspectorInventory, duration_days
from ecs_audit.semantics.repository_policy import PolicyUnreadable, analyse
from ecs_audit.rules.registry import check


def _image_ref(c: ContainerSubject) -> ImageRef:
    try:
        return parse_image_ref(c.container.image)
    except ImageRefError as exc:
        raise EvidenceMissing(f"the image reference cannot be parsed: {exc}") from None


# --- ECR repositories and the images in use (IMAGE-002..005, 007..010) -------------------------

SCAN_MAX_AGE_DAYS = 30  # IMAGE-005
# Scan statuses that mean the image has scan results (SCAN_ELIGIBILITY_EXPIRED: old ones, no rescans).
SCANNED_STATUSES = frozenset({"COMPLETE", "ACTIVE", "SCAN_ELIGIBILITY_EXPIRED"})
# Inspector's ECR scanning states in which nothing is scanned.
INSPECTOR_OFF = frozenset({"DISABLED", "SUSPENDED", "DISABLING", "SUSPENDING"})


def _not_in_registry(c: ContainerSubject, ref: ImageRef) -> Verdict:
    return na(
        f"image is not in this account's ECR registry in {c.estate.region}",
        {"image": c.container.image, "registry": ref.registry},
    )


def _repository_arn(estate: RegionView, repository: str) -> str:
    return repository_arn(estate.partition, estate.region, estate.account_id, repository)


def _now(ecr: EcrInventory) -> datetime:
    if ecr.collected_at is None:
        raise EvidenceMissing("the snapshot does not say when the ECR data was read, so image and scan ages are unknown")
    return ecr.collected_at


def _days(now: datetime, then: datetime) -> int:
    return int((now - then).total_seconds() // 86400)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 19 else digest


@dataclass(frozen=True)
class _InUse:
    """The digests a container runs (or would run on its next start), and how we know."""

    digests: list[str]
    source: str


def _in_use(c: ContainerSubject, ref: ImageRef, ecr: EcrInventory) -> _InUse:
    td = c.task_definition
    running = running_digests(c.estate.tasks_using(td), td.task_definition_arn, c.container.name)
    if running:
        return _InUse(running, "running tasks")
    if ref.digest:
        return _InUse([ref.digest], "the image reference")
    tag = referenced_id(ref).tag or "latest"
    image = ecr.find_image(ref.repository, tag=tag)
    if image is not None:
        return _InUse([image.image_digest], f"tag {tag} in ECR")
    if ecr.is_missing(ref.repository, tag=tag):
        raise EvidenceMissing(f"{ref.repository}:{tag} no longer exists in ECR, so the image in use is unknown (see RESILIENCE-010)")
    c.estate.raise_if_failed("ecr:DescribeImages", _repository_arn(c.estate, ref.repository))
    raise EvidenceMissing(f"{ref.repository}:{tag} was not described in ECR")


def _image_detail(c: ContainerSubject, ref: ImageRef, ecr: EcrInventory, digest: str) -> ImageDetail:
    image = ecr.find_image(ref.repository, digest=digest)
    if image is not None:
        return image
    if ecr.is_missing(ref.repository, digest=digest):
        raise EvidenceMissing(f"the image in use ({ref.repository}@{_short(digest)}) no longer exists in ECR (see RESILIENCE-010)")
    c.estate.raise_if_failed("ecr:DescribeImages", _repository_arn(c.estate, ref.repository))
    raise EvidenceMissing(f"{ref.repository}@{_short(digest)} was not described in ECR")


def _registry_scanning(estate: RegionView, ecr: EcrInventory) -> RegistryScanningConfiguration:
    if ecr.registry_scanning is None:
        estate.raise_if_failed("ecr:GetRegistryScanningConfiguration")
        raise EvidenceMissing("the registry scanning configuration was not read")
    return ecr.registry_scanning


def _dropped_from_rescans(estate: RegionView, ecr: EcrInventory, rescan: EcrRescanDurationState) -> list[tuple[ImageDetail, int]]:
    """In-use images (with their age in days) that Inspector no longer monitors, or will not by the
    configured push-date and pull-date durations."""
    now = _now(ecr)
    push_limit = duration_days(rescan.rescan_duration)
    pull_limit = duration_days(rescan.pull_date_rescan_duration)
    dropped: dict[str, tuple[ImageDetail, int]] = {}
    for image, running in _in_use_images(estate, ecr):
        if image.image_pushed_at is None:
            continue
        age = _days(now, image.image_pushed_at)
        status = image.image_scan_status.status if image.image_scan_status else None
        expired = status == "SCAN_ELIGIBILITY_EXPIRED"
        if not expired and push_limit is not None and age > push_limit:
            kept = False
            if pull_limit is not None:
                if rescan.pull_date_rescan_mode == "LAST_IN_USE_AT" and running:
                    kept = True
                elif image.last_recorded_pull_time is not None and _days(now, image.last_recorded_pull_time) <= pull_limit:
                    kept = True
            expired = not kept
        if expired:
            dropped[f"{image.repository_name}@{image.image_digest}"] = (image, age)
    return [dropped[key] for key in sorted(dropped)]


def _in_use_images(estate: RegionView, ecr: EcrInventory) -> list[tuple[ImageDetail, bool]]:
    """Described images the current task definitions use in this registry, and whether tasks run them."""
    out: list[tuple[ImageDetail, bool]] = []
    for td in estate.task_definitions:
        if not estate.is_in_use(td):
            continue  # an idle family's latest revision runs nowhere: Inspector need not monitor it
        tasks = estate.tasks_using(td)
        for container in td.container_definitions:
            ref = parse_or_none(container.image)
            if ref is None or not is_local_ecr(ref, estate.account_id, estate.region):
                continue
            digests = running_digests(tasks, td.task_definition_arn, container.name)
            running = bool(digests)
            if not digests:
                image_id = referenced_id(ref)
                found = ecr.find_image(ref.repository, tag=image_id.tag, digest=image_id.digest)
                digests = [found.image_digest] if found else []
            for digest in digests:
                image = ecr.find_image(ref.repository, digest=digest)
                if image is not None:
                    out.append((image, running))
    return out


@dataclass(frozen=True)
class _Scan:
    """What is known about one digest's vulnerabilities."""

    digest: str
    counts: dict[str, int]
    top: list[Vulnerability]
    last_scan: datetime | None
    source: str
    never_scanned: str | None = None  # why the image has no scan results
    failed: bool = False  # the scan ran and failed (FAILED), which is not "never scanned"
    expired: bool = False  # Inspector stopped monitoring the image (SCAN_ELIGIBILITY_EXPIRED)


def _foreign_image_scan(c: ContainerSubject, ref: ImageRef) -> Verdict:
    """Images outside this registry: only Inspector findings already reported for a known digest count."""
    if ref.is_ecr and (ref.ecr_account != c.estate.account_id or ref.ecr_region != c.estate.region):
        # Another account's (or region's) registry holds the scans: unknown from here, not "not applicable".
        account_note = f"account {ref.ecr_account}" if ref.ecr_account != c.estate.account_id else "this account"
        unknown_verdict = unknown(
            f"the image is in {account_note}'s ECR registry in {ref.ecr_region}, whose scan results this audit does not read",
            {"image": c.container.image, "registry_account": ref.ecr_account, "registry_region": ref.ecr_region},
        )
    else:
        unknown_verdict = None
    inspector = c.estate.inventory.inspector
    td = c.task_definition
    running = running_digests(c.estate.tasks_using(td), td.task_definition_arn, c.container.name)
    digests = running or ([ref.digest] if ref.digest else [])
    scans = []
    if inspector is not None and ref.is_ecr and ref.ecr_region == c.estate.region:
        for digest in digests:
            found = inspector.findings.get(digest)
            if found is not None and found.total > 0:
                scans.append(_Scan(digest, found.severity_counts, found.top, found.last_observed_at, "Amazon Inspector"))
    if not scans or inspector is None or inspector.collected_at is None:
        return unknown_verdict or _not_in_registry(c, ref)
    return _scan_verdict(c, scans, "running tasks" if running else "the image reference", inspector.collected_at)


def _scan_of(c: ContainerSubject, ref: ImageRef, ecr: EcrInventory, scanning: RegistryScanningConfiguration, digest: str) -> _Scan:
    estate = c.estate
    image = _image_detail(c, ref, ecr, digest)
    status = image.image_scan_status.status if image.image_scan_status else None
    summary = image.image_scan_findings_summary
    if scanning.is_enhanced:
        inspector: InspectorInventory = estate.require("inspector")
        estate.raise_if_failed("inspector2:ListFindings", ecr_image_arn(estate.partition, ref, digest))
        found = inspector.findings.get(digest)
        if found is None:
            if inspector.ecr_status in INSPECTOR_OFF:
                return _Scan(digest, {}, [], None, "Amazon Inspector", f"Amazon Inspector's ECR scanning is {inspector.ecr_status}")
            raise EvidenceMissing(f"Amazon Inspector findings for {_short(digest)} were not collected")
        if status not in SCANNED_STATUSES and found.total == 0:
            return _Scan(digest, {}, [], None, "Amazon Inspector", f"scan status {status or 'none'}", failed=status == "FAILED")
        last = (summary.image_scan_completed_at if summary else None) or found.last_observed_at
        return _Scan(digest, found.severity_counts, found.top, last, "Amazon Inspector", expired=status == "SCAN_ELIGIBILITY_EXPIRED")
    scan = ecr.scan(digest)
    if scan is not None:
        if scan.status == SCAN_NOT_FOUND or scan.status not in SCANNED_STATUSES:
            return _Scan(digest, {}, [], None, "ECR basic scan", f"scan status {scan.status}", failed=scan.status == "FAILED")
        last = scan.completed_at or (summary.image_scan_completed_at if summary else None)
        return _Scan(digest, scan.severity_counts, scan.top, last, "ECR basic scan")
    if status is not None and status not in SCANNED_STATUSES:
        return _Scan(digest, {}, [], None, "ECR basic scan", f"scan status {status}", failed=status == "FAILED")
    if summary is None or status is None:
        estate.raise_if_failed("ecr:DescribeImageScanFindings", _repository_arn(estate, ref.repository))
        raise EvidenceMissing(f"the scan findings of {_short(digest)} were not collected")
    return _Scan(digest, summary.finding_severity_counts, [], summary.image_scan_completed_at, "ECR basic scan")


_FAIL_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


_GRADE = {"CRITICAL": Severity.CRITICAL, "HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW}


def _scan_verdict(c: ContainerSubject, scans: list[_Scan], source: str, now: datetime) -> Verdict:
    evidence: dict[str, object] = {
        "image": c.container.image,
        "digests_from": source,
        "scans": [
            {
                "digest": s.digest,
                "source": s.source,
                "severity_counts": s.counts,
                "top_vulnerabilities": [v.describe() for v in s.top],
                "last_scan": s.last_scan,
                **({"not_scanned": s.never_scanned} if s.never_scanned else {}),
            }
            for s in scans
        ],
    }
    # The lowest severity that fails is a setting (default HIGH); the finding is graded by the worst one.
    threshold = c.estate.config.vulnerability_fail_severity
    failing = _FAIL_LEVELS[: _FAIL_LEVELS.index(threshold) + 1]
    evidence["fail_severity"] = threshold
    totals = {level: sum(s.counts.get(level, 0) for s in scans) for level in failing}
    top = top_vulnerabilities([v for s in scans for v in s.top], limit=3)
    cves = f"; top: {', '.join(v.describe() for v in top)}" if top else ""
    where = ", ".join(_short(s.digest) for s in scans if any(s.counts.get(level, 0) for level in failing))
    counted = " and ".join(f"{n} {level.lower()}" for level, n in totals.items() if n)
    noun = "vulnerability" if sum(totals.values()) == 1 else "vulnerabilities"
    worst = next((level for level in failing if totals[level]), None)
    if worst is not None:
        return fail(f"the image in use ({where}) has {counted} open {noun}{cves}", evidence, severity=_GRADE[worst])
    unscanned = [s for s in scans if s.never_scanned]
    if unscanned:
        first = unscanned[0]
        if first.failed:
            return unknown(f"the scan of the image in use ({_short(first.digest)}) failed ({first.never_scanned}), so its vulnerabilities are unknown", evidence)
        return unknown(f"the image in use ({_short(first.digest)}) has never been scanned ({first.never_scanned}), so its vulnerabilities are unknown", evidence)
    expired = [s for s in scans if s.expired]
    if expired:
        return warn(
            f"no open {' or '.join(level.lower() for level in failing)} vulnerabilities were reported, but Amazon Inspector no longer monitors "
            f"{_short(expired[0].digest)} (SCAN_ELIGIBILITY_EXPIRED): new CVEs are not reported for it",
            evidence,
        )
    stale = [(s, _days(now, s.last_scan)) for s in scans if s.last_scan is not None and _days(now, s.last_scan) > SCAN_MAX_AGE_DAYS]
    if stale:
        scan, age = max(stale, key=lambda item: item[1])
        return warn(f"no open {' or '.join(level.lower() for level in failing)} vulnerabilities, but the last scan of {_short(scan.digest)} is {age} days old (over {SCAN_MAX_AGE_DAYS})", evidence)
    return ok(f"no open {' or '.join(level.lower() for level in failing)} vulnerabilities in the image in use ({', '.join(_short(s.digest) for s in scans)})", evidence)


def _policy_text(r: RepositorySubject, policies: dict[str, str], action: str, what: str) -> str:
    text = policies.get(r.repository.repository_name)
    if text is None:
        r.estate.raise_if_failed(action, r.repository.repository_arn)
        raise EvidenceMissing(f"the repository's {what} was not read")
    return text


# --- the checks, in id order ----------------------------------------------------------------------


@check("IMAGE-001")
def image_pinned(c: ContainerSubject) -> Verdict:
    ref = _image_ref(c)
    evidence = {"image": c.container.image, "tag": ref.tag, "digest": ref.digest}
    if ref.digest:
        # A digest pins the image whatever tag sits beside it.
        return ok(f"the image is pinned by digest {ref.digest[:19]}…", evidence)
    if ref.tag is None:
        return fail("the image has no tag or digest, so it resolves to latest", evidence)
    if ref.tag.lower() == "latest":
        return fail(f"the image uses the tag {ref.tag!r}, which moves with every push", evidence)
    return ok(f"the image is pinned to tag {ref.tag!r}", evidence)


@check("IMAGE-002")
def immutable_tags(r: RepositorySubject) -> Verdict:
    repository = r.repository
    mutability = repository.image_tag_mutability
    filters = [f.filter for f in repository.image_tag_mutability_exclusion_filters]
    evidence = {"image_tag_mutability": mutability, "exclusion_filters": filters}
    if mutability is None:
        raise EvidenceMissing("DescribeRepositories returned no imageTagMutability")
    if mutability == "IMMUTABLE":
        return ok("tags are immutable", evidence)
    if mutability == "MUTABLE":
        return fail("tags are MUTABLE: a push can silently change what a deployed tag means", evidence)
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        return warn(f"tags are immutable except those matching {', '.join(filters) or 'the exclusion filters'}, which stay mutable", evidence)
    if mutability == "MUTABLE_WITH_EXCLUSION":
        return warn(f"tags are mutable except those matching {', '.join(filters) or 'the exclusion filters'}", evidence)
    raise EvidenceMissing(f"unknown imageTagMutability {mutability}")


@check("IMAGE-003")
def scanned_on_push(r: RepositorySubject) -> Verdict:
    ecr: EcrInventory = r.estate.require("ecr")
    scanning = _registry_scanning(r.estate, ecr)
    name = r.repository.repository_name
    rules = scanning.rules_for(name)
    own = bool(r.repository.image_scanning_configuration and r.repository.image_scanning_configuration.scan_on_push)
    effective = (ecr.repository_scanning or {}).get(name)
    evidence: dict[str, object] = {
        "scan_type": scanning.scan_type,
        "registry_rules": len(scanning.rules),
        "matching_rules": [rule.label() for rule in rules],
        "repository_scan_on_push": own,
    }
    if effective is not None:
        evidence["effective_scan_frequency"] = effective.scan_frequency
        evidence["applied_scan_filters"] = [f.filter for f in effective.applied_scan_filters]
    if scanning.rules:
        # The registry's rules govern; a repository none of them matches is scanned only manually.
        frequency = effective.scan_frequency if effective is not None else None
        if frequency is None and rules:
            frequency = rules[0].scan_frequency
        if frequency in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN") and (effective is None or effective.applied_scan_filters or rules):
            if effective is None:
                raise EvidenceMissing(f"the effective scanning configuration of repository {name} was not read")
            return ok(f"{'enhanced' if scanning.is_enhanced else 'basic'} scanning covers the repository ({frequency})", evidence)
        if effective is None and not rules:
            return fail("no rule of the registry's scanning configuration matches the repository: it is scanned only manually (MANUAL)", evidence)
        if effective is None:
            return fail("the matching registry rule scans only on demand (MANUAL), not on push", evidence)
        return fail(f"the repository's effective scan frequency is {frequency or 'MANUAL'}: no registry rule scans it on push", evidence)
    if effective is None:
        if own:
            raise EvidenceMissing(f"the effective scanning configuration of repository {name} was not read")
        return fail("the registry has no scanning rules and the repository's own scanOnPush is off", evidence)
    if own or effective.scan_on_push:
        return warn("the registry has no scanning rules; only the repository's deprecated scanOnPush setting scans it on push", evidence)
    return fail("the registry has no scanning rules and the repository's own scanOnPush is off", evidence)


@check("IMAGE-004")
def continuous_rescans(a: AccountSubject) -> Verdict:
    estate = a.estate
    ecr: EcrInventory = estate.require("ecr")
    repositories = [name for name in ecr.in_use_repositories if name not in ecr.missing_repositories]
    if not repositories:
        return na(f"no in-use image comes from this account's ECR registry in {estate.region}")
    scanning = _registry_scanning(estate, ecr)
    inspector: InspectorInventory = estate.require("inspector")
    status = inspector.ecr_status
    if status is None:
        estate.raise_if_failed("inspector2:BatchGetAccountStatus")
        raise EvidenceMissing("Amazon Inspector's account status was not read")
    evidence: dict[str, object] = {"inspector_ecr_status": status, "scan_type": scanning.scan_type, "in_use_repositories": repositories}
    if status != "ENABLED":
        return fail(f"Amazon Inspector does not scan ECR images in this account (ECR scanning {status}): in-use images are never rescanned", evidence)
    if not scanning.is_enhanced:
        return fail("the registry uses BASIC scanning: in-use images are never rescanned for new CVEs", evidence)
    uncovered = [name for name in repositories if not any(rule.scan_frequency == "CONTINUOUS_SCAN" for rule in scanning.rules_for(name))]
    evidence["repositories_without_continuous_rule"] = uncovered
    if uncovered:
        shown = ", ".join(uncovered[:5]) + (f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else "")
        return fail(f"no CONTINUOUS_SCAN rule covers {_plural(len(uncovered), 'in-use repository', 'in-use repositories')}: {shown}", evidence)
    rescan = inspector.rescan
    if rescan is None or rescan.rescan_duration is None:
        estate.raise_if_failed("inspector2:GetConfiguration")
        raise EvidenceMissing("Amazon Inspector's ECR rescan duration was not read")
    evidence["rescan_duration"] = rescan.rescan_duration
    evidence["pull_date_rescan_duration"] = rescan.pull_date_rescan_duration
    dropped = _dropped_from_rescans(estate, ecr, rescan)
    if dropped:
        oldest = max(dropped, key=lambda d: d[1])
        evidence["images_past_rescan_duration"] = [f"{image.repository_name}@{image.image_digest}" for image, _ in dropped]
        return warn(
            f"{_plural(len(dropped), 'in-use image is', 'in-use images are')} past the ECR rescan duration "
            f"({rescan.rescan_duration}), so Inspector no longer rescans them (oldest: "
            f"{oldest[0].repository_name}@{_short(oldest[0].image_digest)}, pushed {oldest[1]} days ago)",
            evidence,
        )
    return ok(f"Inspector rescans every in-use repository continuously (rescan duration {rescan.rescan_duration})", evidence)


@check("IMAGE-005")
def no_critical_vulnerabilities(c: ContainerSubject) -> Verdict:
    ref = _image_ref(c)
    estate = c.estate
    if not is_local_ecr(ref, estate.account_id, estate.region):
        return _foreign_image_scan(c, ref)
    ecr: EcrInventory = estate.require("ecr")
    in_use = _in_use(c, ref, ecr)
    scanning = _registry_scanning(estate, ecr)
    scans = [_scan_of(c, ref, ecr, scanning, digest) for digest in in_use.digests]
    return _scan_verdict(c, scans, in_use.source, _now(ecr))


@check("IMAGE-006")
def image_from_regional_ecr(c: ContainerSubject) -> Verdict:
    ref = _image_ref(c)
    region = c.estate.region
    evidence = {"image": c.container.image, "registry": ref.registry, "ecr_region": ref.ecr_region, "cluster_region": region}
    if not ref.is_ecr:
        what = "the public ECR Gallery (public.ecr.aws)" if ref.is_public_ecr else f"{ref.registry}, not a private ECR registry"
        return warn(f"the image comes from {what}: pulls depend on an outside registry", evidence)
    if ref.ecr_region != region:
        return fail(f"the image comes from ECR in {ref.ecr_region}, not {region}: cross-region pulls add latency, cost and a regional dependency", evidence)
    return ok(f"the image comes from ECR in {region}", evidence)


@check("IMAGE-007")
def image_size_within_budget(c: ContainerSubject) -> Verdict:
    ref = _image_ref(c)
    estate = c.estate
    if not is_local_ecr(ref, estate.account_id, estate.region):
        return _not_in_registry(c, ref)
    ecr: EcrInventory = estate.require("ecr")
    in_use = _in_use(c, ref, ecr)
    images = [_image_detail(c, ref, ecr, digest) for digest in in_use.digests]
    if any(image.image_size_in_bytes is None for image in images):
        raise EvidenceMissing("DescribeImages returned no imageSizeInBytes")
    largest = max(images, key=lambda image: image.image_size_in_bytes or 0)
    mib = (largest.image_size_in_bytes or 0) / 2**20
    config = estate.config
    evidence = {
        "image": c.container.image,
        "digest": largest.image_digest,
        "size_mib": round(mib, 1),
        "warn_mib": config.image_size_warn_mib,
        "fail_mib": config.image_size_fail_mib,
    }
    size = f"{mib:.1f}" if mib < 10 else f"{mib:.0f}"
    if mib > config.image_size_fail_mib:
        return fail(f"the image is {size} MiB, over the {config.image_size_fail_mib} MiB limit: every task start pulls it", evidence)
    if mib > config.image_size_warn_mib:
        return warn(f"the image is {size} MiB, over the {config.image_size_warn_mib} MiB budget", evidence)
    return ok(f"the image is {size} MiB, within the {config.image_size_warn_mib} MiB budget", evidence)


@check("IMAGE-008")
def lifecycle_policy(r: RepositorySubject) -> Verdict:
    ecr: EcrInventory = r.estate.require("ecr")
    text = _policy_text(r, ecr.lifecycle_policies, "ecr:GetLifecyclePolicy", "lifecycle policy")
    if text == NO_POLICY:
        return fail("the repository has no lifecycle policy: images accumulate forever", {"lifecycle_policy": None})
    try:
        rules = json.loads(text).get("rules", [])
    except (ValueError, AttributeError):
        rules = []
    return ok(f"the repository has a lifecycle policy ({len(rules)} rule{'s' if len(rules) != 1 else ''})", {"lifecycle_rules": len(rules)})


@check("IMAGE-009")
def repository_not_public(r: RepositorySubject) -> Verdict:
    ecr: EcrInventory = r.estate.require("ecr")
    text = _policy_text(r, ecr.repository_policies, "ecr:GetRepositoryPolicy", "repository policy")
    if text == NO_POLICY:
        return ok("the repository has no policy: only this account's IAM principals can use it", {"repository_policy": None})
    try:
        access = analyse(text, r.estate.account_id)
    except PolicyUnreadable as exc:
        raise EvidenceMissing(str(exc)) from None
    evidence = {
        "public_statements": [s.describe() for s in access.public],
        "cross_account_statements": [s.describe() for s in access.cross_account],
        "organisation_statements": [s.describe() for s in access.organisation_limited],
        "restricted_statements": [s.describe() for s in access.restricted],
        "restricting_condition_keys": access.restricting_keys,
    }
    if access.public:
        return fail(f"the policy lets anyone in: {access.public[0].describe()} without a restricting condition", evidence)
    if access.cross_account:
        return warn(f"the policy grants other accounts access without an organisation condition: {access.cross_account[0].describe()}", evidence)
    if access.restricted:
        return ok(f"wildcard principals are narrowed by conditions on {', '.join(access.restricting_keys)}", evidence)
    if access.organisation_limited:
        return ok("cross-account access is limited to the organisation", evidence)
    return ok("the policy grants no public or cross-account access", evidence)


@check("IMAGE-010")
def customer_managed_key(r: RepositorySubject) -> Verdict:
    encryption = r.repository.encryption_configuration
    if encryption is None or encryption.encryption_type is None:
        raise EvidenceMissing("DescribeRepositories returned no encryptionConfiguration")
    kind, key = encryption.encryption_type, encryption.kms_key
    evidence = {"encryption_type": kind, "kms_key": key}
    if kind == "AES256":
        return warn("images are encrypted with AES256 (Amazon S3-managed keys), not a customer-managed KMS key", evidence)
    if not key or key.endswith("alias/aws/ecr"):
        return warn(f"images are encrypted ({kind}) with the AWS-managed key aws/ecr, not a customer-managed key", evidence)
    ecr: EcrInventory = r.estate.require("ecr")
    manager = ecr.kms_key_managers.get(key)
    if manager is None:
        r.estate.raise_if_failed("kms:DescribeKey", r.repository.repository_arn)
        raise EvidenceMissing(f"the KMS key {key} was not described")
    evidence["key_manager"] = manager
    if manager == "AWS":
        return warn(f"images are encrypted ({kind}) with the AWS-managed key aws/ecr, not a customer-managed key", evidence)
    return ok(f"images are encrypted ({kind}) with a customer-managed KMS key", evidence)
