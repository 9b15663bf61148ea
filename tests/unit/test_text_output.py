"""write_joined writes separator.join(parts), a batch at a time; the streamed formats write what
their render functions return."""

from __future__ import annotations

import io

import pytest

from ecs_audit.report import text_output
from ecs_audit.report.csv_format import render_csv, write_csv
from ecs_audit.report.junit import render_junit, write_junit
from ecs_audit.report.sarif import render_sarif, write_sarif
from ecs_audit.report.text_output import write_joined
from tests.support.sample_report import sample_report


class _Recorder(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5, 7, 9])
@pytest.mark.parametrize("separator", ["\n", ",", ""])
def test_the_text_is_the_joined_parts_at_every_batch_boundary(monkeypatch, count, separator):
    monkeypatch.setattr(text_output, "BATCH", 3)
    parts = [f"part{i}" for i in range(count)] + ([""] if count % 2 else [])
    out = _Recorder()
    write_joined(out, iter(parts), separator)
    assert out.getvalue() == separator.join(parts)
    assert out.writes == -(-len(parts) // 3)  # one write per batch, none for nothing


@pytest.mark.parametrize(("render", "write"), [(render_csv, write_csv), (render_junit, write_junit), (render_sarif, write_sarif)])
def test_a_streamed_format_writes_what_it_renders(monkeypatch, render, write):
    monkeypatch.setattr(text_output, "BATCH", 2)  # several batches even for the sample report
    report, catalogue = sample_report()
    out = io.StringIO()
    write(report, catalogue, out)
    assert out.getvalue() == render(report, catalogue)
    empty = report.model_copy(update={"findings": []})
    out = io.StringIO()
    write(empty, catalogue, out)
    assert out.getvalue() == render(empty, catalogue)
