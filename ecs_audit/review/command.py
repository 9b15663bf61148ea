"""The `ecs-audit review` command behind its typer signature: options checked, review run, outputs."""

from __future__ import annotations

import sys
from pathlib import Path

from ecs_audit.catalogue import Severity, load_catalogue
from ecs_audit.config import load_config
from ecs_audit.errors import UsageError
from ecs_audit.review.render import FORMATS, render, write_outputs
from ecs_audit.review.run import ReviewOptions, exit_code, review


def _formats(values: list[str] | None) -> list[str]:
    tokens: list[str] = []
    for value in values or ["md"]:
        for token in value.split(","):
            token = token.strip().lower()
            if not token:
                continue
            if token not in FORMATS:
                raise UsageError(f"--format {token!r}: a review writes {', '.join(FORMATS)}")
            if token not in tokens:
                tokens.append(token)
    if not tokens:
        raise UsageError("--format: no format given")
    return tokens


def run_review_command(
    paths: list[Path],
    *,
    base: list[Path] | None,
    base_rev: str | None,
    head_rev: str | None,
    formats: list[str] | None,
    output_dir: Path | None,
    fail_on: Severity | None,
    live: bool,
    profile: str | None,
    region: str | None,
    role_arn: str | None,
    external_id: str | None,
    cluster: str,
    config: Path | None,
    checks: list[str] | None,
    skip_checks: list[str] | None,
    quiet: bool,
    ignore_unknown: bool = False,
) -> int:
    from ecs_audit.selection import parse_selection

    chosen = _formats(formats)
    if output_dir is None and len(chosen) > 1:
        raise UsageError("--format: several formats need --output-dir")
    if base and base_rev:
        raise UsageError("--base and --base-rev: give one")
    if (profile or role_arn or external_id) and not live:
        raise UsageError("--profile, --role-arn and --external-id are for --live")
    if output_dir is not None:
        from ecs_audit.inputs import check_writable_dir

        check_writable_dir(output_dir, "output directory", "choose another with --output-dir")
    catalogue = load_catalogue()
    selection = parse_selection(checks, skip_checks, catalogue) if checks or skip_checks else None
    audit_config = load_config(config, catalogue)
    resolver = None
    if live:
        from ecs_audit.review.live import LiveResolver
        from ecs_audit.session import client_config, make_session, resolve_regions
        from ecs_audit.collect.accounts_regions import AccessOptions

        client_config()
        session = make_session(profile)
        region = resolve_regions(session, [region] if region else [])[0]
        access = AccessOptions(regions=(region,), role_arn=role_arn, external_id=external_id)
        resolver = LiveResolver(session, access, region, audit_config)
    options = ReviewOptions(
        config=audit_config,
        wanted=set(selection.checks) if selection else None,
        region=region or "us-east-1",
        cluster=cluster,
        base=base or None,
        base_rev=base_rev,
        head_rev=head_rev,
        ignore_unknown=ignore_unknown,
    )
    outcome = review(paths, options, catalogue=catalogue, live=resolver)
    if output_dir is None:
        sys.stdout.write(render(outcome, chosen[0], catalogue))
    else:
        written = write_outputs(outcome, chosen, output_dir, catalogue)
        if not quiet:
            sys.stderr.write("ecs-audit: wrote " + ", ".join(str(p) for p in written) + "\n")
    return exit_code(outcome.results, fail_on, only_new=outcome.base is not None)
