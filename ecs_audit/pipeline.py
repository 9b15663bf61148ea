"""The audit pipeline: collect -> inventory -> evaluate -> findings -> report files -> exit code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from ecs_audit import __version__, interrupt
from ecs_audit.answers import AnswersFile, add_questionnaire
from ecs_audit.report.diff import Baseline, compare
from ecs_audit.catalogue import Catalogue, Severity, load_catalogue
from ecs_audit.collect.runner import collect_targets
from ecs_audit.collect.shards import Checkpoint
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import evaluate
from ecs_audit.errors import FAIL_ON_CHOICES, AuditFailed, UsageError
from ecs_audit.findings import Status
from ecs_audit.history import History, history_section, in_scopes, make_record, unscanned
from ecs_audit.notify import notify
from ecs_audit.inventory.snapshot import Inventory, save_snapshot
from ecs_audit.report.model import Report, build_report
from ecs_audit.report.render import DEFAULT_FORMATS, FILE_NAMES, ReportView, render_json, write_reports
from ecs_audit.rules.registry import load_registry
from ecs_audit.progress import Progress
from ecs_audit.selection import Selection, needed_actions
from ecs_audit.session import AwsSession, partition_of
from ecs_audit.waivers import WaiverFile, apply_waivers
from ecs_audit.collect.accounts_regions import AccessOptions, first_reachable, resolve_targets



@dataclass(frozen=True)
class ReportOptions:
    output_dir: Path = Path("ecs-audit-report")
    formats: tuple[str, ...] = DEFAULT_FORMATS
    fail_on: Severity | None = None
    config: AuditConfig = field(default_factory=AuditConfig)
    save_snapshot: Path | None = None
    # Loaded input files: --waivers (ecs_audit.waivers), --answers (ecs_audit.answers), --baseline (ecs_audit.report.diff).
    waivers: WaiverFile | None = None
    answers: AnswersFile | None = None
    baseline: Baseline | None = None
    # --checks / --skip-checks (ecs_audit.selection); None: every check.
    selection: Selection | None = None
    # --history: a directory or s3://bucket/prefix (ecs_audit.history); the previous run is the baseline.
    history: str | None = None
    # --notify: webhook URL (ecs_audit.notify), posted to when a new FAIL at or above notify_on appears or results are resolved.
    notify: str | None = None
    notify_on: Severity = Severity.HIGH
    # --output-dir s3://bucket/prefix: the reports are written to output_dir (a private staging
    # directory) and then put there by the writer session (ecs_audit.session.s3_store).
    publish: str | None = None
    # --min-severity / --status: what the human formats (html, md, pdf) show.
    view: ReportView = field(default_factory=ReportView)


@dataclass(frozen=True)
class Outcome:
    report: Report
    written: list[Path]
    exit_code: int
    notified: bool = False
    # s3:// URLs of the published reports (--output-dir s3://...).
    published: list[str] = field(default_factory=list)


def parse_formats(values: list[str] | None) -> tuple[str, ...]:
    """--format is repeatable and takes comma lists: `--format html,md --format json`."""
    if not values:
        return DEFAULT_FORMATS
    tokens: list[str] = []
    for value in values:
        for token in value.split(","):
            token = token.strip().lower()
            if not token:
                continue
            if token not in FILE_NAMES:
                raise UsageError(f"--format {token!r}: unknown format; choose from {', '.join(FILE_NAMES)}")
            if token not in tokens:
                tokens.append(token)
    if not tokens:
        raise UsageError("--format: no format given")
    return tuple(tokens)


def parse_view(min_severity: str | None, statuses: list[str] | None) -> ReportView:
    """--min-severity SEV and --status S (repeatable or comma list) for the human formats."""
    minimum = None
    if min_severity:
        try:
            minimum = Severity(min_severity.strip().lower())
        except ValueError:
            raise UsageError(f"--min-severity {min_severity!r}: choose from {', '.join(s.value for s in Severity)}") from None
    chosen: set[Status] | None = None
    for value in statuses or []:
        for token in value.split(","):
            token = token.strip().upper().replace("N/A", "NOT_APPLICABLE")
            if not token:
                continue
            try:
                chosen = (chosen or set()) | {Status(token)}
            except ValueError:
                raise UsageError(f"--status {token!r}: choose from {', '.join(s.value for s in Status)}") from None
    return ReportView(min_severity=minimum, statuses=frozenset(chosen) if chosen is not None else None)


def parse_fail_on(value: str) -> Severity | None:
    value = value.strip().lower()
    if value == "never":
        return None
    try:
        return Severity(value)
    except ValueError:
        raise UsageError(f"--fail-on {value!r}: choose from {', '.join(FAIL_ON_CHOICES)}") from None


def scan(
    session: AwsSession,
    access: AccessOptions,
    options: ReportOptions,
    *,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> Outcome:
    """Audit the accounts and regions `access` selects, with `session`'s credentials."""
    inventory = collect_inventory(session, access, options, progress=progress, checkpoint=checkpoint)
    if options.save_snapshot:
        interrupt.note_activity("saving the snapshot")
        save_snapshot(inventory, options.save_snapshot)
    return finish(inventory, options)


def collect_inventory(
    session: AwsSession,
    access: AccessOptions,
    options: ReportOptions,
    *,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> Inventory:
    """The collection half of `scan`: the inventory of what `access` selects, refused when empty."""
    interrupt.note_activity("identifying the caller and the accounts to audit")
    caller, targets = resolve_targets(session, access.validate())
    partition = partition_of(caller.arn)
    if access.shard is None or targets:  # an empty shard audits nothing, and that is no failure
        first_reachable(targets, "the audit could not run: no account could be reached")
    interrupt.note_activity("collecting")
    accounts = collect_targets(
        targets,
        options.config,
        partition=partition,
        max_workers=access.max_workers,
        max_in_flight=access.max_in_flight,
        progress=progress,
        checkpoint=checkpoint,
        needed=needed_actions(options.selection, load_catalogue()),
    )
    inventory = Inventory(
        tool_version=__version__,
        collected_at=datetime.now(timezone.utc),
        caller=caller,
        partition=partition,
        shard=str(access.shard) if access.shard else None,
        accounts=accounts,
    )
    _refuse_empty_audit(inventory)
    return inventory


def _refuse_empty_audit(inventory: Inventory) -> None:
    """Exit 3 when not one region could even list its clusters: the report would say nothing."""
    regions = [r for a in inventory.accounts for r in a.regions]
    failed = [r for r in regions if any(e.operation == "ListClusters" and not e.resources for e in r.errors)]
    if regions and len(failed) == len(regions):
        first = next(e for e in failed[0].errors if e.operation == "ListClusters")
        raise AuditFailed(f"the audit could not run: every region failed to list clusters ({first.describe()})")


def finish(
    inventory: Inventory,
    options: ReportOptions,
    *,
    catalogue: Catalogue | None = None,
    generated_at: datetime | None = None,
) -> Outcome:
    """Evaluate an inventory, apply answers, waivers and the baseline, write the reports and decide
    the exit code."""
    interrupt.note_activity("evaluating the checks")
    catalogue = catalogue or load_catalogue()
    generated_at = generated_at or report_time()
    selection = options.selection
    findings = evaluate(inventory, catalogue, load_registry(), options.config, set(selection.checks) if selection else None)
    # The MANUAL questionnaire, answered or open; then waivers (a "no" answer can be waived too).
    findings = add_questionnaire(findings, catalogue, inventory, options.answers)
    if selection is not None:
        findings = [f for f in findings if f.check_id in selection]
    waived = apply_waivers(findings, options.waivers, report_date(generated_at))
    findings = waived.findings
    # A waiver of a check this run skipped matched nothing because nothing was asked: not stale.
    stale = [note for note in waived.stale if selection is None or note.check in selection]
    errors = inventory.all_errors
    account_ids = [a.account_id for a in inventory.accounts]
    history = History.open(options.history) if options.history else None
    prior = history.prior() if history is not None else None
    baseline = options.baseline or (prior.baseline if prior is not None else None)
    # Accounts and regions this run could not scan: carried forward from the history, never "resolved".
    scopes = unscanned(errors, account_ids) if history is not None else []
    resolved = None
    if baseline is not None:
        # Results of skipped checks were not looked at: they are not "resolved".
        earlier = [f for f in baseline.findings if (selection is None or f.check_id in selection) and not in_scopes(f, scopes)]
        comparison = compare(findings, earlier)
        findings, resolved = comparison.findings, comparison.resolved
    report = build_report(
        findings,
        catalogue,
        errors,
        version=__version__,
        generated_at=generated_at,
        accounts=account_ids,
        regions=sorted({r.region for a in inventory.accounts for r in a.regions}),
        caller_arn=inventory.caller.arn if inventory.caller else None,
        baseline=baseline.info if baseline is not None else None,
        resolved=resolved,
        expired_waivers=waived.expired,
        stale_waivers=stale,
        skipped_checks=list(selection.skipped) if selection else None,
        account_names=account_names(inventory),
    )
    record = None
    if history is not None:
        carried = [f for f in prior.baseline.findings if in_scopes(f, scopes)] if prior is not None else []
        record = make_record(history.new_run_id(generated_at), report, carried, scopes, prior, catalogue)
        report = report.model_copy(update={"history": history_section(prior.records if prior else [], record)})
    interrupt.note_activity("writing the reports")
    written = write_reports(report, catalogue, list(options.formats), options.output_dir, options.view)
    if history is not None and record is not None:
        interrupt.note_activity("keeping the run in the history")
        with interrupt.deferred():
            history.save(record, render_json(report, catalogue), inventory.model_dump_json(indent=1))
    published = _publish(written, options.publish) if options.publish else []
    notified = False
    if options.notify:
        interrupt.note_activity("notifying")
        notified = notify(options.notify, report, options.notify_on)
    return Outcome(report=report, written=[] if published else written, exit_code=exit_code_for(report, options.fail_on),
                   notified=notified, published=published)


def _publish(written: list[Path], location: str) -> list[str]:
    """Put the report files in s3://bucket/prefix, then drop the local staging copies."""
    import shutil

    from ecs_audit.store import open_store

    interrupt.note_activity("publishing the reports")
    store = open_store(location)
    urls = []
    try:
        for path in written:
            store.write(path.name, path.read_bytes())
            urls.append(f"{store.location}/{path.name}")
    finally:
        if written:
            shutil.rmtree(written[0].parent, ignore_errors=True)
    return urls


def account_names(inventory: Inventory) -> dict[str, str]:
    """Organisation account names by id, where the snapshot records them."""
    names: dict[str, str] = {}
    for account in inventory.accounts:
        name = getattr(account, "account_name", None) or getattr(account, "name", None)
        if isinstance(name, str) and name:
            names[account.account_id] = name
    return names


def exit_code_for(report: Report, fail_on: Severity | None) -> int:
    """1 when an unwaived FAIL is at or above --fail-on, else 0."""
    if fail_on is None:
        return 0
    for finding in report.findings:
        if finding.status is Status.FAIL and finding.severity.rank >= fail_on.rank:
            return 1
    return 0


def report_date(generated_at: datetime) -> date:
    """The report's calendar date in UTC: waivers apply up to and including their expiry date."""
    if generated_at.tzinfo is not None:
        generated_at = generated_at.astimezone(timezone.utc)
    return generated_at.date()


def report_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible reports)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)
