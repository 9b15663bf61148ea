"""report.csv: one row per finding, for spreadsheets.

UTF-8, comma-separated, a header row, fields quoted where needed (RFC 4180). Spreadsheet formula
injection is defused: a cell that starts with = + - @ gets a leading single quote, so a tag value
such as `=HYPERLINK(...)` is shown as text. Control characters and bidirectional overrides are
removed and line breaks become spaces, so every finding is one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from ecs_audit.catalogue import Catalogue
from ecs_audit.findings import SEVERITY_VALUES, STATUS_VALUES, Finding
from ecs_audit.report.model import Report
from ecs_audit.report.text_output import write_joined

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
    text = str(value)
    # The common case without the regular expression: printable ASCII (no tab or line break), single
    # spaces, nothing to trim.
    if not (text.isascii() and text.isprintable() and "  " not in text and text == text.strip()):
        text = " ".join(_CONTROL.sub(" ", text).split())
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def quoted(text: str) -> str:
    """A cell as csv.writer(quoting=QUOTE_MINIMAL, lineterminator="\\n") writes it: in double quotes
    (doubled inside) when it holds a comma, a quote or a line break. A cell() never holds a line
    break, but one is quoted all the same."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def row(f: Finding) -> list[str]:
    return next(_rows([f]))


def _rows(findings: list[Finding]):  # type: ignore[no-untyped-def]
    """row() of each finding, with the cells of values that repeat from row to row (a check's title
    and remediation, the account, region and cluster) made once."""
    cells: dict[object, str] = {}

    def cached(value: object) -> str:
        text = cells.get(value)
        if text is None:
            text = cells[value] = cell(value)
        return text

    for f in findings:
        waiver = f.waiver
        answer = f.answer
        yield [
            f.status.value,
            f.severity.value,
            cached(f.check_id),
            cached(f.title),
            cached(f.area),
            cached(f.account_id),
            cached(f.region),
            cached(f.cluster),
            cached(f.resource.type),
            cell(f.resource.name),
            cell(f.resource.arn),
            cached(f.container),
            cell(f.message),
            cached(f.change),
            cell(waiver.reason) if waiver else "",
            cell(waiver.owner) if waiver else "",
            cell(waiver.expires) if waiver else "",
            cell(answer.answer) if answer else "",
            cell(answer.who) if answer else "",
            cell(answer.when) if answer else "",
            cell(answer.note) if answer else "",
            cached(f.remediation),
        ]


def render_csv(report: Report, catalogue: Catalogue) -> str:
    """The rows as csv.writer(quoting=QUOTE_MINIMAL, lineterminator="\\n") writes them, joined here:
    the cells of values that repeat (a check's title and remediation, the bulk of the file) are
    made and quoted once rather than on every row."""
    return "\n".join(_lines(report))


def write_csv(report: Report, catalogue: Catalogue, out: TextIO) -> None:
    """render_csv's text, written a batch of rows at a time."""
    write_joined(out, _lines(report))


def _lines(report: Report) -> Iterator[str]:
    """The header, each finding's row, and "" (the text ends with a line break)."""
    cells: dict[object, str] = {}

    def cached(value: object) -> str:
        text = cells.get(value)
        if text is None:
            text = cells[value] = quoted(cell(value))
        return text

    # The cells from check_id to area, and from account_id to resource_arn, joined once per check
    # and per resource (every resource has a few dozen checks' rows).
    joined: dict[tuple, str] = {}

    def run_of(values: tuple) -> str:
        text = joined.get(values)
        if text is None:
            text = joined[values] = ",".join(map(cached, values))
        return text

    yield ",".join(map(quoted, COLUMNS))
    for f in report.index.worst_first(report.findings):
        ref = f.resource
        waiver = f.waiver
        answer = f.answer
        if waiver is None and answer is None:
            people = ",,,,,,"
        else:
            people = ",".join(
                quoted(cell(v)) for v in (
                    waiver.reason if waiver else None, waiver.owner if waiver else None, waiver.expires if waiver else None,
                    answer.answer if answer else None, answer.who if answer else None, answer.when if answer else None,
                    answer.note if answer else None,
                )
            )  # fmt: skip
        yield (
            f"{STATUS_VALUES[f.status]},{SEVERITY_VALUES[f.severity]},{run_of((f.check_id, f.title, f.area))},"
            f"{run_of((f.account_id, f.region, f.cluster, ref.type, ref.name, ref.arn))},"
            f"{cached(f.container)},{quoted(cell(f.message))},{cached(f.change)},{people},{cached(f.remediation)}"
        )
    yield ""
