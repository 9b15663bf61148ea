"""Render a Report to files: one function per format, written atomically into the output directory."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pydantic_core import to_jsonable_python
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ecs_audit import interrupt
from ecs_audit.catalogue import Catalogue
from ecs_audit.collector_pause import collector_paused
from ecs_audit.errors import UsageError
from ecs_audit.catalogue import Severity
from ecs_audit.findings import STATUS_VALUES, Finding, Status
from ecs_audit.report import filters
from ecs_audit.report.asff import render_asff
from ecs_audit.report.csv_format import render_csv, write_csv
from ecs_audit.report.json_text import compact_encoder
from ecs_audit.report.junit import render_junit, write_junit
from ecs_audit.report.model import Report
from ecs_audit.report.ocsf import render_ocsf
from ecs_audit.report.sarif import render_sarif, write_sarif
from ecs_audit.report.text_output import write_joined
from ecs_audit.package_data import data_dir

FILE_NAMES = {
    "html": "report.html",
    "md": "report.md",
    "json": "report.json",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "csv": "report.csv",
    "pdf": "report.pdf",
    "ocsf": "report.ocsf.json",
    "asff": "report.asff.json",
}
DEFAULT_FORMATS = ("html", "md", "json")
# Formats for people: --min-severity and --status choose what they show (the others keep everything).
HUMAN_FORMATS = frozenset({"html", "md", "pdf"})
# GitHub's limit for a pull-request comment; report.md always stays under it.
MARKDOWN_LIMIT = 65_536


@dataclass(frozen=True)
class ReportView:
    """What the human formats show: results at or above a severity, with these statuses."""

    min_severity: Severity | None = None
    statuses: frozenset[Status] | None = None

    @property
    def active(self) -> bool:
        return self.min_severity is not None or self.statuses is not None

    def keeps(self, finding: Finding) -> bool:
        if self.min_severity is not None and finding.severity.rank < self.min_severity.rank:
            return False
        return self.statuses is None or finding.status in self.statuses

    def describe(self) -> str:
        parts = []
        if self.min_severity is not None:
            parts.append(f"severity {self.min_severity.value} and above")
        if self.statuses is not None:
            parts.append("status " + ", ".join(sorted(s.value for s in self.statuses)))
        return "Showing only results with " + " and ".join(parts) + " (--min-severity / --status); report.json has every result."

    def apply(self, report: Report) -> Report:
        if not self.active:
            return report
        return report.model_copy(update={"findings": [f for f in report.findings if self.keeps(f)]})


@functools.lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The templates' environment, made (and the templates compiled) once per process."""
    env = Environment(
        loader=FileSystemLoader(str(data_dir("templates"))),
        # HTML templates escape everything by default; Markdown escapes through the `md` filter.
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters.install(env)
    return env


def render_json(report: Report, catalogue: Catalogue) -> str:
    buffer = io.StringIO()
    write_json(report, catalogue, buffer)
    return buffer.getvalue()


# Stands for a streamed list in the rest of the report while that is encoded (no report contains it).
_MARK = "\x00stream\x00"
_ITEM_INDENT = "\n    "  # a top-level list's items, at indent=2


# Finding fields that come from the check's catalogue entry: in report.json (schema 2 and later) they
# are written once per check under "checks", and a finding carries them only where it differs from its check.
CHECK_FIELDS = ("title", "area", "severity", "remediation", "references")


def _check_values(finding: Finding) -> tuple:
    return (finding.title, finding.area, finding.severity, finding.remediation, finding.references)


def _firsts(report: Report) -> tuple[dict[str, Finding], dict[str, Finding]]:
    """The first finding (findings, then resolved ones) of each check id and of each resource ARN."""
    index = report.index
    by_check = {check_id: group[0] for check_id, group in index.by_check.items()}
    by_arn = dict(index.first_by_arn)
    for resolved in report.resolved:
        by_check.setdefault(resolved.finding.check_id, resolved.finding)
        by_arn.setdefault(resolved.finding.resource.arn, resolved.finding)
    return by_check, by_arn


def check_table(report: Report, firsts: dict[str, Finding] | None = None) -> dict[str, dict]:
    """check id -> the CHECK_FIELDS of its first finding (findings and resolved ones)."""
    firsts = _firsts(report)[0] if firsts is None else firsts
    return {check_id: finding.model_dump(mode="json", include=set(CHECK_FIELDS)) for check_id, finding in firsts.items()}


# Finding fields that belong to the resource: written once in "resources", left out of a finding
# that has the same value.
RESOURCE_FIELDS = ("account_id", "region", "cluster", "owner")


def resource_table(report: Report, firsts: dict[str, Finding] | None = None) -> list[dict]:
    """Each resource once, sorted by ARN: arn, type, name and the RESOURCE_FIELDS of its first
    finding. Findings name their resource by its index in this list."""
    firsts = _firsts(report)[1] if firsts is None else firsts
    table = []
    for arn in sorted(firsts):
        finding = firsts[arn]
        ref = finding.resource
        entry = {"arn": ref.arn, "name": ref.name, "type": ref.type}
        for name in RESOURCE_FIELDS:
            value = getattr(finding, name)
            if value is not None:
                entry[name] = value
        table.append(entry)
    return table


_encode = compact_encoder(default=to_jsonable_python)
# A str as _encode writes it (ensure_ascii=False).
_string = json.encoder.encode_basestring


class _Compactor:
    """Turns findings into report.json's compact form (schema 3), sharing the check, resource and
    evidence tables between them."""

    def __init__(self, report: Report) -> None:
        by_check, by_arn = _firsts(report)
        self.checks = check_table(report, by_check)
        self.resources = resource_table(report, by_arn)
        self._resource_index = {entry["arn"]: (i, entry) for i, entry in enumerate(self.resources)}
        # What a finding must have to share its resource's entry whole: name, type and RESOURCE_FIELDS.
        self._resource_values = {
            entry["arn"]: (i, (entry["name"], entry["type"], *(entry.get(name) for name in RESOURCE_FIELDS)))
            for i, entry in enumerate(self.resources)
        }
        self._check_values = {check_id: _check_values(finding) for check_id, finding in by_check.items()}
        # Each distinct evidence object once (as encoded JSON), in the order findings first use it.
        self.evidence: list[str] = []
        self._evidence_index: dict[str, int] = {}

    def evidence_index(self, evidence: dict) -> int:
        text = _encode(evidence)
        index = self._evidence_index.get(text)
        if index is None:
            index = self._evidence_index[text] = len(self.evidence)
            self.evidence.append(text)
        return index

    def line(self, finding: Finding, evidence: int | None) -> str:
        """_encode(self.finding(finding, evidence)), written directly for the common finding (its
        check's and its resource's values, no waiver or answer): keys in sorted order, strings
        through json's own string encoder."""
        ref = finding.resource
        index, shared = self._resource_values[ref.arn]
        if (
            finding.waiver is None
            and finding.answer is None
            and (ref.name, ref.type, finding.account_id, finding.region, finding.cluster, finding.owner) == shared
            and (finding.title, finding.area, finding.severity, finding.remediation, finding.references) == self._check_values.get(finding.check_id)
        ):
            text = "{"
            if finding.change is not None:
                text += '"change":' + _string(finding.change) + ","
            if finding.container is not None:
                text += '"container":' + _string(finding.container) + ","
            if evidence is not None:
                text += f'"evidence":{evidence},'
            return f'{text}"id":{_string(finding.id)},"message":{_string(finding.message)},"resource":{index},"status":"{STATUS_VALUES[finding.status]}"}}'
        return _encode(self.finding(finding, evidence))

    def finding(self, finding: Finding, evidence: int | None) -> dict:
        """A finding: its stable id, status and message; its resource by index (with the resource's
        fields only where the finding's differ), its evidence by index into "evidence" (none when
        empty), its check's fields only where they differ from "checks"; null fields left out."""
        data: dict = {"id": finding.id, "status": finding.status.value, "message": finding.message}
        if finding.container is not None:
            data["container"] = finding.container
        if evidence is not None:
            data["evidence"] = evidence
        shared = self._check_values.get(finding.check_id)
        if shared is None or _check_values(finding) != shared:
            table = self.checks.get(finding.check_id, {})
            for name, value in finding.model_dump(mode="json", include=set(CHECK_FIELDS)).items():
                if table.get(name) != value:
                    data[name] = value
        index, entry = self._resource_index[finding.resource.arn]
        ref = finding.resource
        data["resource"] = index if entry["name"] == ref.name and entry["type"] == ref.type else {"arn": ref.arn, "name": ref.name, "type": ref.type}
        for name in RESOURCE_FIELDS:
            value = getattr(finding, name)
            if value != entry.get(name):
                data[name] = value  # null where the resource has a value and this finding none
        for name in ("waiver", "answer"):
            value = getattr(finding, name)
            if value is not None:
                data[name] = value.model_dump(mode="json", exclude={"id"} if name == "waiver" and value.id is None else None)
        if finding.change is not None:
            data["change"] = finding.change
        return data


def write_json(report: Report, catalogue: Catalogue, out: TextIO, **_: object) -> None:
    """report.json, schema 3 (docs/reports.md): the report model with each check's title, area,
    severity, remediation and references once under "checks", each resource once under "resources"
    (arn, type, name, account, region, cluster, owner) and each distinct evidence object once under
    "evidence"; findings refer to them by check id and by index, and carry their stable id. Indented
    like json.dumps(indent=2, sort_keys=True) with a finding a line, encoded a finding at a time: a
    large report is never held in memory whole as text."""
    compact = _Compactor(report)
    # The evidence table comes before the findings in the file: index it first.
    indices = [compact.evidence_index(f.evidence) if f.evidence else None for f in report.findings]
    resolved = [
        {"finding": compact.finding(r.finding, compact.evidence_index(r.finding.evidence) if r.finding.evidence else None), "now": r.now.value if r.now is not None else None}
        for r in report.resolved
    ]
    # A run without --history writes no history key (the file stays as it was before history existed).
    head = report.model_dump(mode="json", exclude={"findings", "resolved"} if report.history is not None else {"findings", "resolved", "history"})
    head["checks"] = compact.checks
    head["resolved"] = resolved
    streams = {
        "evidence": lambda: iter(compact.evidence),
        "findings": lambda: (compact.line(f, i) for f, i in zip(report.findings, indices)),
        "resources": lambda: (_encode(entry) for entry in compact.resources),
    }
    for name in streams:
        head[name] = _MARK + name
    rest = json.dumps(head, indent=2, sort_keys=True, ensure_ascii=False)
    for name in sorted(streams):  # the order json.dumps(sort_keys=True) wrote them in
        before, rest = rest.split(json.dumps(_MARK + name), 1)
        out.write(before)
        _write_items(out, streams[name]())
    out.write(rest + "\n")


def _write_items(out: TextIO, items: Iterable[str]) -> None:
    out.write("[")
    out.write("\n  ]" if write_joined(out, (_ITEM_INDENT + item for item in items), ",") else "]")


def render_markdown(report: Report, catalogue: Catalogue, view_note: str = "") -> str:
    text = template_environment().get_template("report.md.j2").render(report=report, catalogue=catalogue, view_note=view_note)
    if len(text) < MARKDOWN_LIMIT:
        return text
    # The template keeps to its budget; a report whose fixed parts alone are too long is cut here.
    pointer = "\n\n**Cut to fit a pull-request comment: the full report is report.html / report.json.**\n"
    cut = text[: MARKDOWN_LIMIT - len(pointer) - 1]
    return cut[: cut.rfind("\n")] + pointer


def render_html(report: Report, catalogue: Catalogue, view_note: str = "") -> str:
    return "".join(_html_parts(report, catalogue, view_note))


def write_html(report: Report, catalogue: Catalogue, out: TextIO, view_note: str = "") -> None:
    """render_html's text, written as the template produces it."""
    out.writelines(_html_parts(report, catalogue, view_note))


def _html_parts(report: Report, catalogue: Catalogue, view_note: str) -> Iterator[str]:
    template = template_environment().get_template("report.html.j2")
    return template.generate(report=report, catalogue=catalogue, view_note=view_note)


RENDERERS: dict[str, Callable[[Report, Catalogue], str]] = {
    "html": render_html,
    "md": render_markdown,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "csv": render_csv,
    "ocsf": render_ocsf,
    "asff": render_asff,
}


# Renderers whose text can be written as it is produced (the large formats): the file gets the same text.
STREAMED: dict[Callable[[Report, Catalogue], str], Callable[[Report, Catalogue, TextIO], None]] = {
    render_json: write_json,
    render_html: write_html,
    render_sarif: write_sarif,
    render_junit: write_junit,
    render_csv: write_csv,
}


def write_reports(
    report: Report, catalogue: Catalogue, formats: list[str], output_dir: Path, view: ReportView | None = None
) -> list[Path]:
    """Render every format into a staging directory inside the output directory, one at a time (the
    large ones straight to their file, so a large report is never held in memory as text), then move
    the files into place: a failure leaves no half-written report, and an interruption (Ctrl-C,
    SIGTERM) either the previous set of files or the new one. Report files of an earlier run in
    other formats (the names in FILE_NAMES only) are removed, so the directory holds one run."""
    from ecs_audit.report.pdf import chromium_binary, print_pdf

    view = view or ReportView()
    human = view.apply(report)
    note = view.describe() if view.active else ""
    browser = chromium_binary() if "pdf" in formats else None
    if "pdf" in formats and browser is None:
        raise UsageError("--format pdf: no Chromium found (looked for $ECS_AUDIT_CHROMIUM, chromium, chromium-browser); install it or print report.html to PDF from a browser")
    created = not output_dir.exists()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ecs-audit-", dir=output_dir))
    except OSError as exc:
        raise UsageError(f"output directory {output_dir}: cannot write there ({exc.strerror or exc})") from None
    names = [FILE_NAMES[fmt] for fmt in formats]
    written: list[Path] = []
    try:
        with collector_paused():
            for fmt, name in zip(formats, names):
                if fmt == "pdf":
                    continue
                renderer = RENDERERS[fmt]
                stream = STREAMED.get(renderer)
                shown = human if fmt in HUMAN_FORMATS else report
                extra = {"view_note": note} if fmt in HUMAN_FORMATS and note else {}
                with (staging / name).open("w", encoding="utf-8") as out:
                    if stream is not None:
                        stream(shown, catalogue, out, **extra)
                    else:
                        out.write(renderer(shown, catalogue, **extra))
        if browser is not None:
            source = staging / FILE_NAMES["html"]
            if "html" not in formats:
                source = staging / ".print.html"
                with source.open("w", encoding="utf-8") as out:
                    write_html(human, catalogue, out, view_note=note)
            print_pdf(browser, source, staging / FILE_NAMES["pdf"])
        with interrupt.deferred():
            for name in names:
                target = output_dir / name
                os.replace(staging / name, target)
                written.append(target)
            for stale in set(FILE_NAMES.values()) - set(names):
                with contextlib.suppress(FileNotFoundError):
                    (output_dir / stale).unlink()
            interrupt.note_written()
    except OSError as exc:
        raise UsageError(f"output directory {output_dir}: cannot write there ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not written:
            with contextlib.suppress(OSError):
                output_dir.rmdir()  # nothing was written: leave no empty directory behind either
    return written
