"""Render a Report to files: one function per format, written atomically into the output directory."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ecs_audit import interrupt
from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.report import filters
from ecs_audit.report.csv_format import render_csv
from ecs_audit.report.junit import render_junit
from ecs_audit.report.model import Report
from ecs_audit.report.sarif import render_sarif
from ecs_audit.package_data import data_dir

FILE_NAMES = {
    "html": "report.html",
    "md": "report.md",
    "json": "report.json",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "csv": "report.csv",
}
DEFAULT_FORMATS = ("html", "md", "json")


def template_environment() -> Environment:
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


# Stands for the findings in the rest of the report while that is encoded (no report contains it).
_FINDINGS_MARK = "\x00findings\x00"
_ITEM_INDENT = "\n    "  # a top-level list's items, at indent=2


def write_json(report: Report, catalogue: Catalogue, out: TextIO) -> None:
    """The same text as json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True,
    ensure_ascii=False) plus a newline, encoded a finding at a time: a large report is never held in
    memory whole, as data or as text."""
    head = report.model_dump(mode="json", exclude={"findings"})
    head["findings"] = _FINDINGS_MARK
    before, after = json.dumps(head, indent=2, sort_keys=True, ensure_ascii=False).split(json.dumps(_FINDINGS_MARK), 1)
    out.write(before)
    if report.findings:
        for index, finding in enumerate(report.findings):
            item = json.dumps(finding.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
            out.write(("[" if index == 0 else ",") + _ITEM_INDENT + item.replace("\n", _ITEM_INDENT))
        out.write("\n  ]")
    else:
        out.write("[]")
    out.write(after + "\n")


def render_markdown(report: Report, catalogue: Catalogue) -> str:
    return template_environment().get_template("report.md.j2").render(report=report, catalogue=catalogue)


def render_html(report: Report, catalogue: Catalogue) -> str:
    return template_environment().get_template("report.html.j2").render(report=report, catalogue=catalogue)


def write_html(report: Report, catalogue: Catalogue, out: TextIO) -> None:
    """render_html's text, written as the template produces it."""
    out.writelines(template_environment().get_template("report.html.j2").generate(report=report, catalogue=catalogue))


RENDERERS: dict[str, Callable[[Report, Catalogue], str]] = {
    "html": render_html,
    "md": render_markdown,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "csv": render_csv,
}


# Renderers whose text can be written as it is produced (the large formats): the file gets the same text.
STREAMED: dict[Callable[[Report, Catalogue], str], Callable[[Report, Catalogue, TextIO], None]] = {
    render_json: write_json,
    render_html: write_html,
}


def write_reports(report: Report, catalogue: Catalogue, formats: list[str], output_dir: Path) -> list[Path]:
    """Render every format into a staging directory inside the output directory, one at a time (the
    large ones straight to their file, so a large report is never held in memory as text), then move
    the files into place: a failure leaves no half-written report, and an interruption (Ctrl-C,
    SIGTERM) either the previous set of files or the new one."""
    created = not output_dir.exists()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ecs-audit-", dir=output_dir))
    except OSError as exc:
        raise UsageError(f"output directory {output_dir}: cannot write there ({exc.strerror or exc})") from None
    names = [FILE_NAMES[fmt] for fmt in formats]
    written: list[Path] = []
    try:
        for fmt, name in zip(formats, names):
            renderer = RENDERERS[fmt]
            stream = STREAMED.get(renderer)
            with (staging / name).open("w", encoding="utf-8") as out:
                if stream is not None:
                    stream(report, catalogue, out)
                else:
                    out.write(renderer(report, catalogue))
        with interrupt.deferred():
            for name in names:
                target = output_dir / name
                os.replace(staging / name, target)
                written.append(target)
            interrupt.note_written()
    except OSError as exc:
        raise UsageError(f"output directory {output_dir}: cannot write there ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not written:
            with contextlib.suppress(OSError):
                output_dir.rmdir()  # nothing was written: leave no empty directory behind either
    return written
