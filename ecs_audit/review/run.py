"""`ecs-audit review`: read the files, evaluate, compare with the base, render."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_audit.catalogue import Catalogue, Severity, load_catalogue
from ecs_audit.config import AuditConfig
from ecs_audit.errors import UsageError
from ecs_audit.findings import Finding, Status
from ecs_audit.review.build import Built, build
from ecs_audit.review.evaluation import RUNTIME_CHECKS, evaluate_definitions
from ecs_audit.review.formats import SUFFIXES, FileResult, ServiceDoc, TaskDefDoc, read_file, recognise
from ecs_audit.review.locate import ParseError, Position, parse_json, parse_yaml, template_actions

OFFLINE_ACCOUNT = "000000000000"


@dataclass
class Located:
    finding: Finding
    path: str
    position: Position | None
    change: str | None = None  # "new" / "unchanged" with a base


@dataclass
class Review:
    files: list[FileResult]
    results: list[Located]
    placeholders: list[dict[str, str]]
    notes: list[str]
    fixed: list[Located] = field(default_factory=list)
    base: str | None = None
    not_selected: dict[str, str] = field(default_factory=lambda: dict(RUNTIME_CHECKS))


def expand(paths: list[Path]) -> list[tuple[Path, str, bool]]:
    """Files to read: (path, shown name, named explicitly)."""
    out: list[tuple[Path, str, bool]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUFFIXES and not any(p.startswith(".") for p in child.relative_to(path).parts):
                    out.append((child, _shown(child), False))
        elif path.is_file():
            out.append((path, _shown(path), True))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return out


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_all(paths: list[Path], *, ignore_unknown: bool = False) -> list[FileResult]:
    results = []
    for path, shown, explicit in expand(paths):
        result = read_file(path, shown)
        if explicit and result.format is None and not ignore_unknown:
            raise UsageError(f"{shown}: {result.note}")
        if result.format is None and result.note and result.note.startswith("not an ECS"):
            continue  # other JSON/YAML files in a directory are not ours
        results.append(result)
    if not any(r.docs for r in results) and not any(r.note for r in results) and not ignore_unknown:
        raise UsageError("no task or service definition found in " + ", ".join(str(p) for p in paths))
    return results


def read_revision(path: Path, rev: str) -> FileResult:
    """The same file at a git revision (`git show REV:path`)."""
    shown = _shown(path)
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path.parent, capture_output=True, text=True, check=True).stdout.strip()
        relative = path.resolve().relative_to(Path(top).resolve()).as_posix()
        text = subprocess.run(["git", "show", f"{rev}:{relative}"], cwd=top, capture_output=True, text=True, check=True).stdout
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        if "exists on disk, but not in" in detail or "does not exist in" in detail:
            return FileResult(shown, None, note=f"not in {rev}: the whole file is new")
        raise UsageError(f"--base-rev {rev}: cannot read {shown} ({' '.join(detail.split())[:200]})") from None
    try:
        parsed = parse_yaml(text) if path.suffix.lower() in (".yaml", ".yml") else parse_json(text)
    except ParseError as exc:
        return FileResult(shown, None, note=f"at {rev}: not readable ({exc})")
    return recognise(parsed, shown, templated=bool(template_actions(text)))


def _pair(built: list[Built]) -> None:
    """Services run the task definition of the same review they name (family or logical id), or the
    only one in their directory (ecspresso keeps ecs-service-def.json beside ecs-task-def.json)."""
    tds = [b for b in built if isinstance(b.doc, TaskDefDoc)]
    for b in built:
        if not isinstance(b.doc, ServiceDoc):
            continue
        ref = b.doc.task_definition_ref
        match = [t for t in tds if ref and (t.doc.logical_id == ref or t.model.family == ref)]
        if not match and not ref:
            same_dir = [t for t in tds if Path(t.doc.path).parent == Path(b.doc.path).parent]
            match = same_dir if len(same_dir) == 1 else []
        if match:
            object.__setattr__(b.model, "task_definition", match[0].model.task_definition_arn)


def evaluate_files(
    files: list[FileResult],
    catalogue: Catalogue,
    config: AuditConfig,
    *,
    account_id: str = OFFLINE_ACCOUNT,
    region: str = "us-east-1",
    partition: str = "aws",
    cluster: str = "default",
    live: Any = None,
    wanted: set[str] | None = None,
) -> tuple[list[Located], list[dict[str, str]], list[str]]:
    built: list[Built] = []
    notes = [f"{f.path}: {f.note}" for f in files if f.note]
    if live is None and account_id == OFFLINE_ACCOUNT:
        account_id = infer_account([doc for f in files for doc in f.docs]) or OFFLINE_ACCOUNT
    seen: set[str] = set()
    for result in files:
        for doc in result.docs:
            try:
                item = build(doc, account_id=account_id, region=region, partition=partition, cluster=cluster)
                # Two files defining the same family (or service) are two resources under review:
                # the later one is given the next revision (or a distinct name), never merged.
                for attempt in range(2, 1000):
                    if _arn(item) not in seen:
                        break
                    if isinstance(doc, TaskDefDoc):
                        item = build(doc, account_id=account_id, region=region, partition=partition, cluster=cluster, revision=attempt, force_revision=True)
                    else:
                        item = build(doc, account_id=account_id, region=region, partition=partition, cluster=cluster, suffix=f"#{attempt}")
                seen.add(_arn(item))
                built.append(item)
            except ValueError as exc:
                notes.append(f"{result.path}: {exc}")
    _pair(built)
    for b in built:
        notes.extend(f"{b.doc.path}: {n}" for n in b.notes)
    tds = [b.model for b in built if isinstance(b.doc, TaskDefDoc)]
    services = [b.model for b in built if isinstance(b.doc, ServiceDoc)]
    live_parts = None
    if live is not None:
        plain_tds = [b.plain for b in built if isinstance(b.doc, TaskDefDoc)]
        plain_services = [b.plain for b in built if isinstance(b.doc, ServiceDoc)]
        live_parts = live.collect(plain_tds, plain_services)
    findings = evaluate_definitions(tds, services, catalogue, config, account_id=account_id, region=region, partition=partition, live=live_parts, wanted=wanted)  # type: ignore[arg-type]
    by_arn = {_arn(b): b for b in built}
    located = [Located(f, by_arn[f.resource.arn].doc.path, locate(f, by_arn[f.resource.arn])) for f in findings if f.resource.arn in by_arn]
    placeholders = [{"file": b.doc.path, "resource": b.doc.name, "field": p.field, "value": p.label} for b in built for p in b.placeholders]
    return located, placeholders, notes


_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:ecs|iam)::?(?:[a-z0-9-]+:)?(\d{12}):")
_ACCOUNT_IN_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.")


def infer_account(docs: list[Any]) -> str | None:
    """The account the definitions deploy to, as they name it: their ARN, roles, or ECR registry.
    Checks that compare an image's registry with the account (IMAGE-005/006/007) need it."""
    for doc in docs:
        data = doc.data
        for key in ("taskDefinitionArn", "serviceArn", "executionRoleArn", "taskRoleArn"):
            value = data.get(key)
            match = _ACCOUNT_IN_ARN.match(value) if isinstance(value, str) else None
            if match:
                return match.group(1)
        for container in data.get("containerDefinitions") or [] if isinstance(data.get("containerDefinitions"), list) else []:
            image = container.get("image") if isinstance(container, dict) else None
            match = _ACCOUNT_IN_IMAGE.match(image) if isinstance(image, str) else None
            if match:
                return match.group(1)
    return None


def _arn(item: Built) -> str:
    return item.model.task_definition_arn if isinstance(item.doc, TaskDefDoc) else item.model.service_arn  # type: ignore[union-attr]


def locate(finding: Finding, built: Built) -> Position | None:
    from ecs_audit.review.fields import field_paths

    doc = built.doc
    prefix: tuple[str | int, ...] = ()
    if finding.container and isinstance(doc, TaskDefDoc):
        containers = doc.data.get("containerDefinitions")
        if isinstance(containers, list):
            for i, c in enumerate(containers):
                if isinstance(c, dict) and c.get("name") == finding.container:
                    prefix = ("containerDefinitions", i)
    for relative in field_paths(finding.check_id, bool(finding.container)):
        path = (*prefix, *relative)
        if path in doc.locations:
            return doc.locations[path]
    return doc.position(prefix)


def identity(located: Located) -> tuple[str, str, str]:
    f = located.finding
    return (f.check_id, f.resource.name.rsplit(":", 1)[0], f.container or "")


def compare(head: list[Located], base: list[Located]) -> list[Located]:
    """Mark head's FAIL/WARN results new or unchanged; return base's FAIL/WARN results that are gone."""
    bad = (Status.FAIL, Status.WARN)
    before = {identity(l) for l in base if l.finding.status in bad}
    after = {identity(l) for l in head if l.finding.status in bad}
    for item in head:
        if item.finding.status in bad:
            item.change = "unchanged" if identity(item) in before else "new"
    return [l for l in base if l.finding.status in bad and identity(l) not in after]


def exit_code(results: list[Located], fail_on: Severity | None, *, only_new: bool) -> int:
    if fail_on is None:
        return 0
    for item in results:
        f = item.finding
        if f.status is Status.FAIL and f.severity.rank >= fail_on.rank and (not only_new or item.change == "new"):
            return 1
    return 0


@dataclass(frozen=True)
class ReviewOptions:
    config: AuditConfig = field(default_factory=AuditConfig)
    wanted: set[str] | None = None
    region: str = "us-east-1"
    cluster: str = "default"
    base: list[Path] | None = None
    base_rev: str | None = None
    head_rev: str | None = None
    # Files named explicitly that are not ECS definitions are passed over (pre-commit passes every match).
    ignore_unknown: bool = False


def review(paths: list[Path], options: ReviewOptions, *, catalogue: Catalogue | None = None, live: Any = None) -> Review:
    """`live`: a callable (task definitions, services) -> (account, region, partition, RegionInventory,
    AccountInventory), given with --live."""
    catalogue = catalogue or load_catalogue()
    if options.head_rev:
        files = [read_revision(p, options.head_rev) for p, _, _ in expand(paths)]
    else:
        files = read_all(paths, ignore_unknown=options.ignore_unknown)
    context: dict[str, Any] = {"region": options.region, "cluster": options.cluster}
    if live is not None:
        context.update(live.context())
    results, placeholders, notes = evaluate_files(files, catalogue, options.config, wanted=options.wanted, live=live, **context)
    outcome = Review(files, results, placeholders, notes)
    if options.base is not None or options.base_rev is not None:
        if options.base is not None:
            base_files = read_all(options.base)
            outcome.base = ", ".join(str(p) for p in options.base)
        else:
            base_files = [read_revision(p, options.base_rev) for p, _, _ in expand(paths)]  # type: ignore[arg-type]
            outcome.base = f"{options.base_rev}"
        base_results, _, _ = evaluate_files(base_files, catalogue, options.config, wanted=options.wanted, live=live, **context)
        outcome.fixed = compare(results, base_results)
    return outcome
