"""report.csv: one row per finding, formula injection defused, no control characters."""

from __future__ import annotations

import csv
import io

import pytest

from ecs_audit.findings import Status
from ecs_audit.report.csv_format import COLUMNS, cell, render_csv
from tests.support import golden_estate
from tests.support.sample_report import HOSTILE_HTML, sample_report

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def sample():
    return sample_report()


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    outcome = golden_estate.run(tmp_path_factory.mktemp("csv"), formats=("csv",))
    path = next(p for p in outcome.written if p.name == "report.csv")
    return outcome.report, path.read_text(encoding="utf-8")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("which", ["sample", "golden"])
def test_one_row_per_finding(which, sample, golden) -> None:
    report, text = (sample[0], render_csv(*sample)) if which == "sample" else golden
    rows = _rows(text)
    assert list(rows[0].keys()) == list(COLUMNS)
    assert len(rows) == len(report.findings)
    assert len(text.splitlines()) == len(report.findings) + 1, "every row is one line"
    for row in rows:
        for value in row.values():
            assert not value.startswith(DANGEROUS_START), value
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value), value
    keys = {(r["check_id"], r["resource_arn"], r["container"]) for r in rows}
    assert keys == {(f.check_id, cell(f.resource.arn), cell(f.container)) for f in report.findings}


def test_formulas_are_prefixed_and_html_stays_text(golden) -> None:
    report, text = golden
    rows = _rows(text)
    formula = golden_estate.HOSTILE_FORMULA
    containers = {r["container"] for r in rows}
    assert "'" + formula in containers
    assert formula not in containers
    assert any(HOSTILE_HTML in r["resource_name"] for r in rows)


def test_waivers_answers_and_changes_have_columns(golden) -> None:
    report, text = golden
    rows = _rows(text)
    waived = [r for r in rows if r["status"] == "WAIVED"]
    assert waived and all(r["waiver_owner"] and r["waiver_expires"] and r["waiver_reason"] for r in waived)
    answered = [r for r in rows if r["answer"]]
    assert {r["answer"] for r in answered} == {"yes", "no", "n.a."}
    assert all(r["answered_by"] and r["answered_on"] for r in answered)
    assert {r["change"] for r in rows if r["status"] in ("FAIL", "WARN")} == {"new", "unchanged"}
    assert all(r["change"] == "" for r in rows if r["status"] not in ("FAIL", "WARN"))
    assert sum(1 for r in rows if r["status"] == Status.MANUAL.value) == report.summary.by_status["MANUAL"]


def test_cell() -> None:
    assert cell("=1+2") == "'=1+2"
    assert cell("+1") == "'+1"
    assert cell("-1") == "'-1"
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("\t=1") == "'=1"  # leading whitespace does not hide a formula
    assert cell("a\x1b[31mb\r\nc\u202ed") == "a [31mb c d"
    assert cell(None) == ""
    assert cell("plain, \"quoted\"") == 'plain, "quoted"'


def test_rendering_is_deterministic(sample) -> None:
    assert render_csv(*sample) == render_csv(*sample_report())


_AWKWARD = ['a,b', 'say "hi"', '"quoted", and, commas', "line\nbreak\r\n", "tab\there", "=1+2", "-x", " lead", "é, 中", "", "plain"]


@pytest.mark.parametrize("which", ["sample", "golden"])
def test_rows_are_what_the_csv_module_writes(which, sample, golden) -> None:
    """render_csv joins the rows itself: the text is what csv.writer (QUOTE_MINIMAL, \\n) writes for
    the same cells, for the reports' hostile values and for values that need quoting."""
    from ecs_audit.report.csv_format import quoted, row
    from ecs_audit.report.filters import worst_first

    report = sample[0] if which == "sample" else golden[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(row(f) for f in worst_first(report.findings))
    assert render_csv(report, None) == buffer.getvalue()  # type: ignore[arg-type]
    for value in _AWKWARD:
        expected = io.StringIO()
        csv.writer(expected, lineterminator="\n").writerow([cell(value), "x"])
        assert quoted(cell(value)) + ",x\n" == expected.getvalue()
