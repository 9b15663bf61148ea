"""The `ecs-audit` command line: parse options, build a session, run the pipeline, print where the
report is. Exit codes: 0 done; 1 findings at or above --fail-on; 2 usage or input error; 3 the audit
could not run."""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import TyperException

from ecs_audit import __version__, interrupt
from ecs_audit.catalogue import load_catalogue
from ecs_audit.config import load_config
from ecs_audit.errors import EcsAuditError, UsageError
from ecs_audit.pipeline import FAIL_ON_CHOICES, Outcome, ReportOptions, finish, parse_fail_on, parse_formats, parse_view
from ecs_audit.text import plain

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
    typer.Option("--format", "-f", help="Report formats, repeatable or comma-separated: html, md, json, sarif, junit, csv. Default: html,md,json."),
]
OutputOption = Annotated[Path, typer.Option("--output-dir", "-o", help="Directory for the report files.")]
SnapshotOption = Annotated[
    Optional[Path], typer.Option("--save-snapshot", help="Also save the collected inventory (JSON) for `ecs-audit evaluate`.")
]
FailOnOption = Annotated[
    str, typer.Option("--fail-on", help=f"Exit 1 if an unwaived FAIL has this severity or worse: {'|'.join(FAIL_ON_CHOICES)}.")
]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="YAML file with audit settings (see docs/configuration.md).")]
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


def _options(
    formats: list[str] | None,
    output_dir: Path,
    fail_on: str,
    config: Path | None,
    snapshot: Path | None,
    *,
    waivers: Path | None = None,
    answers: Path | None = None,
    baseline: Path | None = None,
    checks: list[str] | None = None,
    skip_checks: list[str] | None = None,
    min_severity: str | None = None,
    status: list[str] | None = None,
) -> ReportOptions:
    """Every option checked and every input file read before any work starts (bad input: exit 2)."""
    from ecs_audit.answers import load_answers
    from ecs_audit.report.diff import load_baseline
    from ecs_audit.inputs import check_writable_dir
    from ecs_audit.report.render import FILE_NAMES
    from ecs_audit.selection import parse_selection
    from ecs_audit.waivers import load_waivers

    catalogue = load_catalogue() if waivers or answers or config or checks or skip_checks else None
    options = ReportOptions(
        output_dir=output_dir,
        formats=parse_formats(formats),
        fail_on=parse_fail_on(fail_on),
        config=load_config(config, catalogue),
        save_snapshot=snapshot,
        waivers=load_waivers(waivers, catalogue) if waivers and catalogue else None,
        answers=load_answers(answers, catalogue) if answers and catalogue else None,
        baseline=load_baseline(baseline) if baseline else None,
        selection=parse_selection(checks, skip_checks, catalogue) if catalogue else None,
        view=parse_view(min_severity, status),
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


def _print_outcome(outcome: Outcome, quiet: bool) -> None:
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
    for path in outcome.written:
        typer.echo(f"  {path}")


@app.command()
def scan(
    profile: Annotated[Optional[str], typer.Option("--profile", help="AWS profile (default: the standard credential chain).")] = None,
    region: Annotated[Optional[list[str]], typer.Option("--region", "-r", help="Region to audit; repeatable. Default: the profile's region.")] = None,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Audit every region enabled in each account.")] = False,
    role_arn: Annotated[Optional[str], typer.Option("--role-arn", help="Assume this role first (on top of the profile or SSO credentials).")] = None,
    external_id: Annotated[Optional[str], typer.Option("--external-id", help="ExternalId for the assumed roles.")] = None,
    role_session_name: Annotated[str, typer.Option("--role-session-name", help="Session name for the assumed roles.")] = "ecs-audit",
    duration: Annotated[int, typer.Option("--duration", help="Assumed-role session length in seconds (refreshed as needed).")] = 3600,
    org_role_name: Annotated[Optional[str], typer.Option("--org-role-name", help="Audit every ACTIVE account of the organisation by assuming this role in each.")] = None,
    accounts: Annotated[Optional[str], typer.Option("--accounts", help="With --org-role-name: only these account ids (comma-separated).")] = None,
    exclude_accounts: Annotated[Optional[str], typer.Option("--exclude-accounts", help="With --org-role-name: skip these account ids (comma-separated).")] = None,
    formats: FormatOption = None,
    output_dir: OutputOption = Path("ecs-audit-report"),
    save_snapshot: SnapshotOption = None,
    fail_on: FailOnOption = "never",
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    answers: AnswersOption = None,
    baseline: BaselineOption = None,
    checks: ChecksOption = None,
    skip_checks: SkipChecksOption = None,
    min_severity: MinSeverityOption = None,
    status: StatusOption = None,
    max_workers: Annotated[int, typer.Option("--max-workers", min=1, max=64, help="(account, region) pairs collected at once.")] = 8,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Audit the account behind the current AWS credentials, or a whole organisation."""
    from ecs_audit.pipeline import scan as run_scan
    from ecs_audit.progress import progress_for
    from ecs_audit.session import client_config, make_session, resolve_regions
    from ecs_audit.targets import AccessOptions, parse_account_list

    _setup_logging(verbose)
    options = _options(formats, output_dir, fail_on, config, save_snapshot, waivers=waivers, answers=answers, baseline=baseline,
                       checks=checks, skip_checks=skip_checks, min_severity=min_severity, status=status)
    access = AccessOptions(
        regions=tuple(region or ()),
        all_regions=all_regions,
        role_arn=role_arn,
        external_id=external_id,
        role_session_name=role_session_name,
        duration=duration,
        org_role_name=org_role_name,
        accounts=parse_account_list(accounts),
        exclude_accounts=parse_account_list(exclude_accounts) or frozenset(),
        max_workers=max_workers,
    ).validate()
    client_config()  # ECS_AUDIT_READ_TIMEOUT and AWS_MAX_ATTEMPTS checked before anything is sent
    session = make_session(profile)
    if not all_regions:
        access = replace(access, regions=tuple(resolve_regions(session, list(access.regions))))
    outcome = run_scan(session, access, options, progress=interrupt.Tracking(progress_for(quiet)))
    _print_outcome(outcome, quiet)
    raise typer.Exit(outcome.exit_code)


@app.command()
def evaluate(
    snapshot: Annotated[Path, typer.Argument(help="A snapshot written by --save-snapshot.")],
    formats: FormatOption = None,
    output_dir: OutputOption = Path("ecs-audit-report"),
    fail_on: FailOnOption = "never",
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    answers: AnswersOption = None,
    baseline: BaselineOption = None,
    checks: ChecksOption = None,
    skip_checks: SkipChecksOption = None,
    min_severity: MinSeverityOption = None,
    status: StatusOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Re-run the checks and reports on a saved snapshot, offline."""
    from ecs_audit.inventory.snapshot import load_snapshot

    _setup_logging(verbose)
    options = _options(formats, output_dir, fail_on, config, None, waivers=waivers, answers=answers, baseline=baseline,
                       checks=checks, skip_checks=skip_checks, min_severity=min_severity, status=status)
    outcome = finish(load_snapshot(snapshot), options)
    _print_outcome(outcome, quiet)
    raise typer.Exit(outcome.exit_code)


@app.command()
def demo(
    formats: FormatOption = None,
    output_dir: OutputOption = Path("ecs-audit-report"),
    save_snapshot: SnapshotOption = None,
    fail_on: FailOnOption = "never",
    config: ConfigOption = None,
    waivers: WaiversOption = None,
    answers: AnswersOption = None,
    baseline: BaselineOption = None,
    checks: ChecksOption = None,
    skip_checks: SkipChecksOption = None,
    min_severity: MinSeverityOption = None,
    status: StatusOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Audit a built-in simulated account (no AWS account or network needed; needs the `demo` extra)."""
    from ecs_audit.demo.run import run_demo

    _setup_logging(verbose)
    options = _options(formats, output_dir, fail_on, config, save_snapshot, waivers=waivers, answers=answers, baseline=baseline,
                       checks=checks, skip_checks=skip_checks, min_severity=min_severity, status=status)
    outcome = run_demo(options)
    _print_outcome(outcome, quiet)
    if not quiet:
        typer.echo("This was the built-in demo account (simulated with moto); no AWS account was contacted.")
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
) -> None:
    """Print the least-privilege IAM policy (JSON) for the audit role."""
    from ecs_audit.policy import audit_role_policy
    from ecs_audit.targets import check_role_name

    check_role_name(role_name, "--role-name")
    typer.echo(json.dumps(audit_role_policy(org=org, role_name=role_name), indent=2))


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
