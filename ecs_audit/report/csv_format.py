"""report.csv: one row per finding, for spreadsheets.

UTF-8, comma-separated, a header row, fields quoted where needed (RFC 4180). Spreadsheet formula
injection is defused: a cell that starts with = + - @ gets a leading single quote, so a tag value
such as `=HYPERLINK(...)` is shown as text. Control characters and bidirectional overrides are
removed and line breaks become spaces, so every finding is one line.
"""

from __future__ import annotations

import csv
import io
import re

from ecs_audit.catalogue import Catalogue
from ecs_audit.findings import Finding
from ecs_audit.report.filters import worst_first
from ecs_audit.report.model import Report

COLUMNS = (
    "status",
    "severity",
    "check_id",
    "title",
    "area",
    "account_id",
    "region",
    "cluster",
    "resource_type",
    "resource_name",
    "resource_arn",
    "container",
    "message",
    "change",
    "waiver_reason",
    "waiver_owner",
    "waiver_expires",
    "answer",
    "answered_by",
    "answered_on",
    "answer_note",
    "remediation",
)
FORMULA_START = ("=", "+", "-", "@")
# Every C0/C1 control (tab and line breaks included) and the Unicode bidi overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def cell(value: object) -> str:
    """A safe spreadsheet cell: one line, no control characters, never a formula."""
    if value is None:
        return ""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def row(f: Finding) -> list[str]:
    waiver = f.waiver
    answer = f.answer
    values = [
        f.status.value,
        f.severity.value,
        f.check_id,
        f.title,
        f.area,
        f.account_id,
        f.region,
        f.cluster,
        f.resource.type,
        f.resource.name,
        f.resource.arn,
        f.container,
        f.message,
        f.change,
        waiver.reason if waiver else None,
        waiver.owner if waiver else None,
        waiver.expires if waiver else None,
        answer.answer if answer else None,
        answer.who if answer else None,
        answer.when if answer else None,
        answer.note if answer else None,
        f.remediation,
    ]
    return [cell(v) for v in values]


def render_csv(report: Report, catalogue: Catalogue) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for finding in worst_first(report.findings):
        writer.writerow(row(finding))
    return buffer.getvalue()
