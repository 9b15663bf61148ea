"""Render a Report to files: one function per format, written atomically into the output directory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ecs_audit import interrupt
from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.report import filters
from ecs_audit.report.csv_format import render_csv
from ecs_audit.report.junit import render_junit
from ecs_audit.report.model import Report
from ecs_audit.report.sarif import render_sarif
from ecs_audit.resources import data_dir

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
    data = report.model_dump(mode="json")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_markdown(report: Report, catalogue: Catalogue) -> str:
    return template_environment().get_template("report.md.j2").render(report=report, catalogue=catalogue)


def render_html(report: Report, catalogue: Catalogue) -> str:
    return template_environment().get_template("report.html.j2").render(report=report, catalogue=catalogue)


RENDERERS: dict[str, Callable[[Report, Catalogue], str]] = {
    "html": render_html,
    "md": render_markdown,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "csv": render_csv,
}


def write_reports(report: Report, catalogue: Catalogue, formats: list[str], output_dir: Path) -> list[Path]:
    """Render every format first, then move the files into place: a failure leaves no half-written
    report, and an interruption (Ctrl-C, SIGTERM) either the previous set of files or the new one."""
    rendered = {FILE_NAMES[fmt]: RENDERERS[fmt](report, catalogue) for fmt in formats}
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ecs-audit-", dir=output_dir))
    except OSError as exc:
        raise UsageError(f"output directory {output_dir}: cannot write there ({exc.strerror or exc})") from None
    written: list[Path] = []
    try:
        for name, text in rendered.items():
            (staging / name).write_text(text, encoding="utf-8")
        with interrupt.deferred():
            for name in rendered:
                target = output_dir / name
                os.replace(staging / name, target)
                written.append(target)
            interrupt.note_written()
    except OSError as exc:
        raise UsageError(f"output directory {output_dir}: cannot write there ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
