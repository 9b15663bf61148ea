"""The `ecs-audit` command line: parse options, build a session, run the pipeline, print where the
report is. Exit codes: 0 done; 1 findings at or above --fail-on; 2 usage or input error; 3 the audit
could not run."""

import functools
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from typer.exceptions import TyperException

from ecs_audit import __version__, interrupt
from ecs_audit.errors import FAIL_ON_CHOICES, EcsAuditError, UsageError
from ecs_audit.text import plain

if TYPE_CHECKING:
    from ecs_audit.catalogue import Severity
    from ecs_audit.config import RunSettings
    from ecs_audit.pipeline import Outcome, ReportOptions

# Everything else is imported by the command that needs it: `ecs-audit --help` stays fast (boto3,
# pydantic models, Jinja and the catalogue are not loaded for it). No `from __future__ import
# annotations` here: typer would have to evaluate every option's annotation from its text.

app = typer.Typer(
    name="ecs-audit",
    help="Read-only auditor that scores an Amazon ECS estate against the ECS best-practice checklist.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FormatOption = Annotated[
    Optional[list[str]],
    typer.Option("--format", "-f", help="Report formats, repeatable or comma-separated: html, md, json, sarif, junit, csv, pdf, ocsf, asff. Default: html,md,json."),
]
OutputOption = Annotated[
    Optional[Path],
    typer.Option("--output-dir", "-o", help="Directory for the report files; {date} and {time} are filled in (e.g. reports/{date}). Default: ecs-audit-report."),
]
SnapshotOption = Annotated[
    Optional[Path], typer.Option("--save-snapshot", help="Also save the collected inventory (JSON) for `ecs-audit evaluate`.")
]
FailOnOption = Annotated[
    Optional[str],
    typer.Option("--fail-on", help=f"Exit 1 if an unwaived FAIL has this severity or worse: {'|'.join(FAIL_ON_CHOICES)}. Default: never."),
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="YAML settings file: check settings and a run: section of option defaults (see docs/configuration.md; env ECS_AUDIT_CONFIG)."),
]
HistoryOption = Annotated[
    Optional[str],
    typer.Option("--history", help="Keep every run in this directory or s3://bucket/prefix; the previous run is the baseline (env ECS_AUDIT_HISTORY)."),
]
NotifyOption = Annotated[
    Optional[str],
    typer.Option("--notify", help="Slack-compatible webhook URL, posted to when something changed (better: env ECS_AUDIT_NOTIFY; never printed).", show_default=False),
]
NotifyOnOption = Annotated[
    Optional[str], typer.Option("--notify-on", help="Least severity of a new FAIL worth a message: critical|high|medium|low. Default: high.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress and API errors to stderr.")]
WaiversOption = Annotated[
    Optional[Path], typer.Option("--waivers", help="YAML list of waivers {check, resource (ARN glob), reason, owner, expires} (see docs/reports.md).")
]
AnswersOption = Annotated[
    Optional[Path], typer.Option("--answers", help="YAML list of MANUAL answers {id, answer: yes|no|n.a., who, when, note} (see docs/reports.md).")
]
BaselineOption = Annotated[
    Optional[Path], typer.Option("--baseline", help="An earlier report.json: mark findings new, unchanged or resolved.")
]
ChecksOption = Annotated[
    Optional[list[str]],
    typer.Option("--checks", help="Only these checks: ids or areas, repeatable or comma-separated (e.g. SECURITY,TASKDEF-001)."),
]
MinSeverityOption = Annotated[
    Optional[str], typer.Option("--min-severity", help="HTML/Markdown/PDF show only results of this severity or worse (JSON keeps all).")
]
StatusOption = Annotated[
    Optional[list[str]],
    typer.Option("--status", help="HTML/Markdown/PDF show only these statuses, repeatable or comma-separated (e.g. FAIL,WARN); JSON keeps all."),
]
SkipChecksOption = Annotated[
    Optional[list[str]], typer.Option("--skip-checks", help="Leave out these checks: ids or areas, repeatable or comma-separated.")
]


@dataclass(frozen=True)
class ReportArgs:
    """The report options scan, evaluate, demo and merge share, as given (None: not given)."""

    formats: FormatOption = None
    output_dir: OutputOption = None
    save_snapshot: SnapshotOption = None
    fail_on: FailOnOption = None
    config: ConfigOption = None
    waivers: WaiversOption = None
    answers: AnswersOption = None
    baseline: BaselineOption = None
    checks: ChecksOption = None
    skip_checks: SkipChecksOption = None
    history: HistoryOption = None
    notify: NotifyOption = None
    notify_on: NotifyOnOption = None
    min_severity: MinSeverityOption = None
    status: StatusOption = None


def report_options(*, snapshot: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command's `report: ReportArgs` parameter becomes, in its place, the shared report options
    (--save-snapshot only with `snapshot`): typer reads them from the signature, the command gets them
    back as one ReportArgs."""
    shared = [f for f in fields(ReportArgs) if snapshot or f.name != "save_snapshot"]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name != "report":
                parameters.append(parameter)
                continue
            kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
            parameters += [inspect.Parameter(f.name, kind, default=None, annotation=f.type) for f in shared]

        @functools.wraps(command)
        def run(**given: object) -> None:
            report = ReportArgs(**{f.name: given.pop(f.name) for f in shared})  # type: ignore[arg-type]
            command(report=report, **given)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        return run

    return decorate


def _run_settings(config: Path | None) -> "tuple[Path | None, RunSettings]":
    """The settings file (--config, else ECS_AUDIT_CONFIG) and its run: section."""
    from ecs_audit.config import config_path, load_run_settings

    path = config_path(config)
    return path, load_run_settings(path)


def _options(given: ReportArgs, settings: "tuple[Path | None, RunSettings] | None" = None) -> "ReportOptions":
    """Every option checked and every input file read before any work starts (bad input: exit 2).
    Command-line values win over ECS_AUDIT_* variables, which win over the settings file's run: section."""
    from ecs_audit.answers import load_answers
    from ecs_audit.catalogue import load_catalogue
    from ecs_audit.config import load_config
    from ecs_audit.pipeline import ReportOptions, parse_fail_on, parse_formats, parse_view
    from ecs_audit.report.diff import load_baseline
    from ecs_audit.inputs import check_writable_dir
    from ecs_audit.notify import check_url
    from ecs_audit.pipeline import report_time
    from ecs_audit.report.render import FILE_NAMES
    from ecs_audit.selection import parse_selection
    from ecs_audit.settings import choose, file_location, file_path, fill_template
    from ecs_audit.waivers import load_waivers

    config, run = settings or _run_settings(given.config)
    snapshot = given.save_snapshot
    output = choose(str(given.output_dir) if given.output_dir is not None else None, "ECS_AUDIT_OUTPUT_DIR", file_location(config, run.output_dir), "ecs-audit-report")
    output = fill_template(output, report_time())
    publish = None
    if output.startswith("s3:/"):
        import tempfile

        from ecs_audit.session import parse_s3_location

        # Path() would fold s3:// to s3:/: the location is kept as text.
        publish = output if output.startswith("s3://") else "s3://" + output[len("s3:/"):]
        parse_s3_location(publish, "--output-dir")
        output_dir = Path(tempfile.mkdtemp(prefix="ecs-audit-publish-"))
    else:
        output_dir = Path(output)
    formats = choose(given.formats, None, run.formats, None)
    fail_on = choose(given.fail_on, "ECS_AUDIT_FAIL_ON", run.fail_on, "never")
    waivers = given.waivers or file_path(config, run.waivers)
    answers = given.answers or file_path(config, run.answers)
    checks = choose(given.checks, None, run.checks, None)
    skip_checks = choose(given.skip_checks, None, run.skip_checks, None)
    history = choose(given.history, "ECS_AUDIT_HISTORY", file_location(config, run.history), None)
    notify = choose(given.notify, "ECS_AUDIT_NOTIFY", run.notify, None)
    notify_on = choose(given.notify_on, None, run.notify_on, "high")
    catalogue = load_catalogue() if waivers or answers or config or checks or skip_checks else None
    options = ReportOptions(
        output_dir=output_dir,
        formats=parse_formats(formats),
        fail_on=parse_fail_on(fail_on),
        config=load_config(config, catalogue),
        save_snapshot=snapshot,
        waivers=load_waivers(waivers, catalogue) if waivers and catalogue else None,
        answers=load_answers(answers, catalogue) if answers and catalogue else None,
        baseline=load_baseline(given.baseline) if given.baseline else None,
        selection=parse_selection(checks, skip_checks, catalogue) if catalogue else None,
        history=_history_location(history),
        notify=check_url(notify) if notify else None,
        notify_on=_notify_on(notify_on),
        publish=publish,
        view=parse_view(given.min_severity, given.status),
    )
    if "pdf" in options.formats:
        from ecs_audit.report.pdf import chromium_binary

        if chromium_binary() is None:
            raise UsageError("--format pdf: no Chromium found (set ECS_AUDIT_CHROMIUM or install chromium); or print report.html to PDF from a browser")
    check_writable_dir(output_dir, "output directory", "choose another with --output-dir")
    if snapshot is not None:
        if snapshot.is_dir():
            raise UsageError(f"--save-snapshot {snapshot}: is a directory; give a file name such as snapshot.json")
        check_writable_dir(snapshot.parent, f"--save-snapshot {snapshot}: directory", "choose another path")
    interrupt.note_output(output_dir, [name for name in FILE_NAMES.values() if (output_dir / name).is_file()])
    return options


def _history_location(location: str | None) -> str | None:
    from ecs_audit.inputs import check_writable_dir

    if not location:
        return None
    if location.startswith("s3://"):
        from ecs_audit.session import parse_s3_location

        parse_s3_location(location, "--history")
        return location
    path = Path(location)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--history {location}: not a directory; give the history directory")
    check_writable_dir(path, "--history directory", "choose another with --history")
    return str(path)


def _notify_on(value: str) -> "Severity":
    from ecs_audit.catalogue import Severity

    try:
        severity = Severity(value.strip().lower())
    except ValueError:
        severity = None
    if severity is None or severity is Severity.INFO:
        raise UsageError(f"--notify-on {value!r}: choose critical, high, medium or low")
    return severity


class _PlainFormatter(logging.Formatter):
    """Log lines carry values from the account and the endpoint: nothing in them may drive the terminal
    or break the line. (Tracebacks, with -v, keep their lines.)"""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return " ".join(plain(super().formatMessage(record)).split())

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        return plain(super().formatException(ei))


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter("ecs-audit: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    # botocore's and urllib3's own output is never wanted: debug logs print request details, and
    # warnings come with tracebacks. Every failed call is recorded and reported by ecs-audit itself.
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _print_outcome(outcome: "Outcome", quiet: bool, fail_on: "Severity | None" = None) -> None:
    """The summary on stdout (not with --quiet); why the exit code is 1 on stderr, always."""
    from ecs_audit.alert import fail_on_line

    if outcome.exit_code == 1:
        line = fail_on_line(outcome.report, fail_on)
        if line:
            _say(line)
    if quiet:
        return
    summary = outcome.report.summary
    counts = summary.by_status
    score = "n/a" if summary.score is None else f"{summary.score}/100"
    typer.echo(
        f"Score {score} (grade {summary.grade}): {counts['FAIL']} FAIL, {counts['WARN']} WARN, "
        f"{counts['UNKNOWN']} UNKNOWN, {counts['PASS']} PASS"
        + (f"; {summary.errors} collection errors" if summary.errors else "")
    )
    if summary.checks_unknown:
        typer.echo(
            f"{summary.checks_unknown} of {summary.checks_evaluated} checks could not be evaluated on every resource "
            "(UNKNOWN: the reports name the failed calls and missing permissions)"
        )
    skipped = outcome.report.scope.skipped_checks
    if skipped:
        typer.echo(f"{len(skipped)} checks skipped (--checks / --skip-checks)")
    if summary.changes is not None:
        c = summary.changes
        typer.echo(f"Since the baseline: {c.new} new ({c.new_fail} FAIL), {c.resolved} resolved, {c.unchanged} unchanged")
    if summary.expired_waivers or summary.stale_waivers:
        typer.echo(f"Waivers: {summary.expired_waivers} expired (no longer applied), {summary.stale_waivers} stale (match nothing)")
    if counts.get("MANUAL"):
        typer.echo(f"{counts['MANUAL']} MANUAL questions are open: answer them with --answers (see docs/reports.md)")
    history = outcome.report.history
    if history is not None:
        carried = ", ".join(c.account_id + (f" {c.region}" if c.region else "") for c in history.carried)
        typer.echo(
            f"Kept as run {history.run_id} ({len(history.trend)} runs in the history)"
            + (f"; not scanned, carried forward from the previous run: {carried}" if carried else "")
        )
    if outcome.notified:
        typer.echo("Notified the webhook of the changes")
    for path in outcome.written:
        typer.echo(f"  {path}")
    for url in outcome.published:
        typer.echo(f"  {url}")


@app.command()
@report_options()
def scan(
    profile: Annotated[Optional[str], typer.Option("--profile", help="AWS profile (default: the standard credential chain).")] = None,
    region: Annotated[Optional[list[str]], typer.Option("--region", "-r", help="Region to audit; repeatable. Default: the profile's region.")] = None,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Audit every region enabled in each account.")] = False,
    role_arn: Annotated[Optional[str], typer.Option("--role-arn", help="Assume this role first (on top of the profile or SSO credentials).")] = None,
    external_id: Annotated[Optional[str], typer.Option("--external-id", help="ExternalId for the assumed roles.")] = None,
    role_session_name: Annotated[Optional[str], typer.Option("--role-session-name", help="Session name for the assumed roles. Default: ecs-audit.")] = None,
    duration: Annotated[Optional[int], typer.Option("--duration", help="Assumed-role session length in seconds (refreshed as needed). Default: 3600.")] = None,
    org_role_name: Annotated[Optional[str], typer.Option("--org-role-name", help="Audit every ACTIVE account of the organisation by assuming this role in each.")] = None,
    accounts: Annotated[Optional[str], typer.Option("--accounts", help="With --org-role-name: only these account ids (comma-separated).")] = None,
    exclude_accounts: Annotated[Optional[str], typer.Option("--exclude-accounts", help="With --org-role-name: skip these account ids (comma-separated).")] = None,
    report: ReportArgs = ReportArgs(),
    max_workers: Annotated[Optional[int], typer.Option("--max-workers", min=1, max=64, help="(account, region) pairs collected at once. Default: 8.")] = None,
    api_share: Annotated[
        float,
        typer.Option(
            "--api-share",
            min=0.05,
            max=1.0,
            help="Share of each of the account's API rate buckets the audit may use (the rest is left to the "
            "account's own automation; see docs/performance.md).",
        ),
    ] = 0.5,
    no_pacing: Annotated[
        bool,
        typer.Option(
            "--no-pacing",
            help="Send calls as fast as the endpoint answers, without keeping to a share of AWS's rate buckets: for "
            "endpoints without AWS's rate limits (moto, LocalStack) and benchmarks. Adaptive retries stay on.",
        ),
    ] = False,
    shard: Annotated[Optional[str], typer.Option("--shard", help="With --org-role-name: audit only shard I of N of the accounts (I/N, e.g. 1/3; by account id; see docs/deployment.md).")] = None,
    checkpoint_dir: Annotated[Optional[Path], typer.Option("--checkpoint-dir", help="Save every finished (account, region) here, for --resume.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="With --checkpoint-dir: continue an interrupted run, collecting only what it had not finished.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Audit the account behind the current AWS credentials, or a whole organisation."""
    from ecs_audit.pipeline import scan as run_scan
    from ecs_audit.progress import progress_for
    from ecs_audit.session import client_config, make_session, resolve_regions
    from ecs_audit.collect.shards import Checkpoint, parse_shard
    from ecs_audit.collect.accounts_regions import AccessOptions, parse_account_list

    from ecs_audit.settings import choose

    _setup_logging(verbose)
    settings = _run_settings(report.config)  # its run: section also fills scan's own options
    run = settings[1]
    options = _options(report, settings)
    all_regions = all_regions or run.all_regions
    access = AccessOptions(
        regions=tuple(choose(region, None, run.regions, [])),
        all_regions=all_regions,
        role_arn=choose(role_arn, None, run.role_arn, None),
        external_id=choose(external_id, None, run.external_id, None),
        role_session_name=choose(role_session_name, None, run.role_session_name, "ecs-audit"),
        duration=choose(duration, None, run.duration, 3600),
        org_role_name=choose(org_role_name, None, run.org_role_name, None),
        accounts=parse_account_list(choose(accounts, None, ",".join(run.accounts) or None, None)),
        exclude_accounts=parse_account_list(choose(exclude_accounts, None, ",".join(run.exclude_accounts) or None, None)) or frozenset(),
        max_workers=choose(max_workers, None, run.max_workers, 8),
        api_share=api_share,
        pacing=not no_pacing and run.pacing,
        shard=parse_shard(shard),
    ).validate()
    if resume and checkpoint_dir is None:
        raise UsageError("--resume continues the run saved in --checkpoint-dir: give --checkpoint-dir")
    client_config()  # ECS_AUDIT_READ_TIMEOUT and AWS_MAX_ATTEMPTS checked before anything is sent
    session = make_session(choose(profile, None, run.profile, None))
    if not all_regions:
        access = replace(access, regions=tuple(resolve_regions(session, list(access.regions))))
    checkpoint = None
    if checkpoint_dir is not None:
        checkpoint = Checkpoint.open(checkpoint_dir, _run_manifest(access, choose(profile, None, run.profile, None)), resume=resume)
    outcome = run_scan(session, access, options, progress=interrupt.Tracking(progress_for(quiet)), checkpoint=checkpoint)
    _print_outcome(outcome, quiet, options.fail_on)
    raise typer.Exit(outcome.exit_code)


@app.command()
@report_options(snapshot=False)
def evaluate(
    snapshot: Annotated[Path, typer.Argument(help="A snapshot written by --save-snapshot.")],
    report: ReportArgs = ReportArgs(),
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Re-run the checks and reports on a saved snapshot, offline."""
    from ecs_audit.inventory.snapshot import load_snapshot
    from ecs_audit.pipeline import finish

    _setup_logging(verbose)
    options = _options(report)
    outcome = finish(load_snapshot(snapshot), options)
    _print_outcome(outcome, quiet, options.fail_on)
    raise typer.Exit(outcome.exit_code)


def _run_manifest(access, profile: str | None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What decides which parts a run collects: a checkpoint is resumed only by the same run."""
    return {
        "tool_version": __version__,
        "profile": profile,
        "role_arn": access.role_arn,
        "org_role_name": access.org_role_name,
        "regions": sorted(access.regions),
        "all_regions": access.all_regions,
        "accounts": sorted(access.accounts) if access.accounts is not None else None,
        "exclude_accounts": sorted(access.exclude_accounts),
        "shard": str(access.shard) if access.shard else None,
    }


@app.command()
@report_options()
def merge(
    snapshots: Annotated[list[Path], typer.Argument(help="Snapshots of the shards (--save-snapshot of each `scan --shard`), or directories of them (*.json).")],
    report: ReportArgs = ReportArgs(),
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Combine shard snapshots into one snapshot and report, as one run over all their accounts."""
    from ecs_audit.collect.shards import merge_inventories, snapshot_files
    from ecs_audit.inventory.snapshot import load_snapshot, save_snapshot as write_snapshot
    from ecs_audit.pipeline import finish

    _setup_logging(verbose)
    options = _options(report)
    inventory = merge_inventories([(str(path), load_snapshot(path)) for path in snapshot_files(snapshots)])
    if options.save_snapshot is not None:
        write_snapshot(inventory, options.save_snapshot)
    outcome = finish(inventory, options)
    _print_outcome(outcome, quiet, options.fail_on)
    raise typer.Exit(outcome.exit_code)


@app.command()
def review(
    paths: Annotated[list[Path], typer.Argument(help="Definition files or directories: ecspresso, register-task-definition input, describe-task-definition output, CloudFormation/CDK templates, Terraform plans (JSON).")],
    base: Annotated[Optional[list[Path]], typer.Option("--base", help="The definitions before the change (files or directories): report what the change introduces and fixes.")] = None,
    base_rev: Annotated[Optional[str], typer.Option("--base-rev", help="Compare with the same files at this git revision (git show REV:path).")] = None,
    head_rev: Annotated[Optional[str], typer.Option("--head-rev", help="Review the files at this git revision instead of the working tree.")] = None,
    formats: Annotated[Optional[list[str]], typer.Option("--format", "-f", help="md, json, sarif (repeatable or comma-separated). Default: md.")] = None,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Write review.md / review.json / review.sarif here; without it the one format is printed.")] = None,
    fail_on: FailOnOption = "never",
    live: Annotated[bool, typer.Option("--live", help="Read what the definitions refer to from the account (read-only): images and their findings, roles, subnets, security groups, log groups, cluster settings.")] = False,
    profile: Annotated[Optional[str], typer.Option("--profile", help="With --live: AWS profile.")] = None,
    region: Annotated[Optional[str], typer.Option("--region", "-r", help="Region the definitions deploy to (default: the profile's, else us-east-1).")] = None,
    role_arn: Annotated[Optional[str], typer.Option("--role-arn", help="With --live: assume this role first.")] = None,
    external_id: Annotated[Optional[str], typer.Option("--external-id", help="ExternalId for --role-arn.")] = None,
    cluster: Annotated[str, typer.Option("--cluster", help="Cluster of services whose definition names none.")] = "default",
    ignore_unknown: Annotated[bool, typer.Option("--ignore-unknown", help="Pass over named files that are not ECS definitions (for pre-commit).")] = False,
    config: ConfigOption = None,
    checks: ChecksOption = None,
    skip_checks: SkipChecksOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check task and service definition files before they are deployed (same checks as scan)."""
    from ecs_audit.pipeline import parse_fail_on
    from ecs_audit.review.command import run_review_command

    _setup_logging(verbose)
    code = run_review_command(
        paths, base=base, base_rev=base_rev, head_rev=head_rev, formats=formats, output_dir=output_dir, fail_on=parse_fail_on(fail_on),
        live=live, profile=profile, region=region, role_arn=role_arn, external_id=external_id, cluster=cluster,
        config=config, checks=checks, skip_checks=skip_checks, quiet=quiet, ignore_unknown=ignore_unknown,
    )
    raise typer.Exit(code)


@app.command()
@report_options()
def demo(
    report: ReportArgs = ReportArgs(),
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Audit a built-in simulated account (no AWS account or network needed)."""
    from ecs_audit.demo.run import run_demo

    _setup_logging(verbose)
    options = _options(report)
    outcome = run_demo(options)
    _print_outcome(outcome, quiet, options.fail_on)
    if not quiet:
        typer.echo("This was the built-in demo account (recorded from a moto simulation); no AWS account was contacted.")
    raise typer.Exit(outcome.exit_code)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier report.json.")],
    new: Annotated[Path, typer.Argument(help="The later report.json.")],
    output_format: Annotated[str, typer.Option("--format", "-f", help="text, md or json.")] = "text",
) -> None:
    """Compare two report.json files: new, resolved and unchanged FAIL/WARN results (exit 1 on new FAILs)."""
    from ecs_audit.report.diff import DIFF_FORMATS, compare, diff_exit_code, load_report

    output_format = output_format.strip().lower()
    if output_format not in DIFF_FORMATS:
        raise UsageError(f"--format {output_format!r}: choose text, md or json")
    old_report = load_report(old, "old report")
    new_report = load_report(new, "new report")
    comparison = compare(list(new_report.findings), list(old_report.findings))
    typer.echo(DIFF_FORMATS[output_format](old_report, new_report, comparison, str(old), str(new)), nl=False)
    raise typer.Exit(diff_exit_code(comparison))


@app.command("checks")
def list_checks(
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, json or md.")] = "table",
) -> None:
    """List the check catalogue."""
    from ecs_audit.catalogue import load_catalogue
    from ecs_audit.rules.registry import load_registry

    catalogue = load_catalogue()
    registry = load_registry()
    rows = [
        {
            "id": entry.id,
            "title": entry.title,
            "area": entry.area,
            "severity": entry.severity.value,
            "scope": [s.label for s in entry.scope],
            "automated": entry.automated,
            "implemented": entry.id in registry or not entry.automated,
            "deprecated": entry.deprecated,
        }
        for entry in catalogue.checks
    ]
    output_format = output_format.lower()
    if output_format == "json":
        typer.echo(json.dumps(rows, indent=2))
    elif output_format == "md":
        typer.echo("| id | title | area | severity | scope | automated |\n|---|---|---|---|---|---|")
        for row in rows:
            typer.echo(
                f"| {row['id']} | {row['title']} | {row['area']} | {row['severity']} | {', '.join(row['scope'])} | "
                f"{'yes' if row['automated'] else 'manual'} |"
            )
    elif output_format == "table":
        for row in rows:
            typer.echo(f"{row['id']:<18} {row['severity']:<9} {', '.join(row['scope']):<26} {row['title']}")
    else:
        raise UsageError(f"--format {output_format!r}: choose table, json or md")


@app.command("iam-policy")
def iam_policy(
    org: Annotated[bool, typer.Option("--org", help="Add what the security-account role needs for --org-role-name runs.")] = False,
    role_name: Annotated[str, typer.Option("--role-name", help="The member-account role name (with --org).")] = "ECSAuditReadOnly",
    writer: Annotated[
        Optional[str],
        typer.Option("--writer", help="s3://bucket/prefix: print the report writer's policy instead (a separate principal: put, get and list in that place only)."),
    ] = None,
) -> None:
    """Print the least-privilege IAM policy (JSON) for the audit role, or with --writer for the report writer."""
    from ecs_audit.policy import audit_role_policy, writer_policy
    from ecs_audit.session import parse_s3_location
    from ecs_audit.collect.accounts_regions import check_role_name

    if writer is not None:
        bucket, prefix = parse_s3_location(writer, "--writer")
        typer.echo(json.dumps(writer_policy(bucket, prefix), indent=2))
        return
    check_role_name(role_name, "--role-name")
    typer.echo(json.dumps(audit_role_policy(org=org, role_name=role_name), indent=2))


history_app = typer.Typer(help="Runs kept with --history: list them, print the trend, prune old ones.", no_args_is_help=True)
app.add_typer(history_app, name="history")

HistoryArgument = Annotated[
    Optional[str], typer.Argument(help="The history directory or s3://bucket/prefix (default: --config's run.history, or ECS_AUDIT_HISTORY).")
]


def _open_history(location: str | None, config: Path | None):  # type: ignore[no-untyped-def]
    from ecs_audit.history import History
    from ecs_audit.settings import choose, file_location

    config, run = _run_settings(config)
    chosen = choose(location, "ECS_AUDIT_HISTORY", file_location(config, run.history), None)
    if not chosen:
        raise UsageError("history: no history location; give it, or set run.history in --config, or ECS_AUDIT_HISTORY")
    if not chosen.startswith("s3://") and not Path(chosen).is_dir():
        raise UsageError(f"history {chosen}: no such directory")
    _history_location(chosen)
    return History.open(chosen)


@history_app.command("list")
def history_list(location: HistoryArgument = None, config: ConfigOption = None) -> None:
    """One line per kept run: id, time, score, open FAIL and WARN, what was carried forward."""
    from ecs_audit.history import trend_text

    typer.echo(trend_text(_open_history(location, config).records()), nl=False)


@history_app.command("trend")
def history_trend(
    location: HistoryArgument = None,
    config: ConfigOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """The score trend: overall, per area and per account (json), or the run lines with changes (text)."""
    from ecs_audit.history import trend_json, trend_text

    records = _open_history(location, config).records()
    output_format = output_format.strip().lower()
    if output_format == "json":
        typer.echo(trend_json(records), nl=False)
    elif output_format == "text":
        typer.echo(trend_text(records), nl=False)
        if len(records) > 1 and records[0].score is not None and records[-1].score is not None:
            typer.echo(f"Score {records[0].score} -> {records[-1].score} ({records[-1].score - records[0].score:+d}) over {len(records)} runs")
    else:
        raise UsageError(f"--format {output_format!r}: choose text or json")


@history_app.command("prune")
def history_prune(
    location: HistoryArgument = None,
    config: ConfigOption = None,
    keep: Annotated[Optional[int], typer.Option("--keep", min=1, help="Keep the newest N runs.")] = None,
    keep_days: Annotated[Optional[int], typer.Option("--keep-days", min=0, help="Keep runs of the last N days.")] = None,
) -> None:
    """Remove old runs (the newest run always stays)."""
    from datetime import datetime, timezone

    if keep is None and keep_days is None:
        raise UsageError("history prune: give --keep N and/or --keep-days N")
    removed = _open_history(location, config).prune(keep, keep_days, datetime.now(timezone.utc))
    typer.echo(f"removed {len(removed)} run(s)" + (f": {', '.join(removed)}" if removed else ""))


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"ecs-audit {__version__}")
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> int:
    """Entry point: every failure becomes one line on stderr and a documented exit code."""
    if argv is None:
        argv = sys.argv[1:]
    if not argv:
        argv = ["--help"]
    restore_signals = interrupt.install()
    try:
        # Without standalone mode click returns the exit code of typer.Exit instead of exiting.
        result = app(args=argv, prog_name="ecs-audit", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except typer.Exit as done:
        return done.exit_code
    except interrupt.Interrupted as stop:
        _say(interrupt.summary(stop.signal_name))
        return stop.exit_code
    except (typer.Abort, KeyboardInterrupt, interrupt.Cancelled):
        _say(interrupt.summary("SIGINT"))
        return 130
    except EcsAuditError as exc:
        _error(str(exc))
        return exc.exit_code
    except TyperException as exc:  # typer's (vendored click's) usage errors
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _error(f"{message} (see ecs-audit --help)")
        return 2
    except Exception as exc:  # never a traceback for users; -v shows it in the log
        logging.getLogger(__name__).info("internal error", exc_info=True)
        _error(f"internal error: {type(exc).__name__}: {exc}")
        return 3
    finally:
        restore_signals()


def _error(message: str) -> None:
    _say(f"error: {message}")


def _say(message: str) -> None:
    """One line on stderr, whatever the message carries (line breaks, terminal escapes)."""
    sys.stderr.write(f"ecs-audit: {' '.join(plain(message).split())}\n")
    sys.stderr.flush()


def run() -> None:
    code = main()
    if interrupt.interrupted():
        # Collection threads may still be waiting for an answer (up to the read timeout). Nothing of
        # theirs is needed and every file was written in full or left alone: do not wait for them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
