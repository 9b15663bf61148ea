"""Golden files: report.md and report.json of a fixed snapshot at a fixed clock, byte for byte.

The snapshot (tests/support/golden_estate.py) goes through the real pipeline with waivers, answers
and a baseline. When a change to checks, templates or the report model is intended, refresh with

    .venv/bin/python -m pytest tests/unit/test_golden.py --update-golden

and review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecs_audit.catalogue import load_catalogue
from ecs_audit.pipeline import ReportOptions, finish
from ecs_audit.report.render import render_html, render_json, render_markdown
from tests.support import golden_estate

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FILES = ("report.md", "report.json")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    return golden_estate.run(tmp_path_factory.mktemp("golden"), formats=("md", "json"))


def _diff(expected: str, actual: str, name: str, limit: int = 60) -> str:
    lines = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"golden/{name}", f"current/{name}", lineterm="", n=1))
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("name", FILES)
def test_report_matches_golden(outcome, name: str, request) -> None:
    produced = next(p for p in outcome.written if p.name == name).read_text(encoding="utf-8")
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
        return
    assert golden.exists(), f"{golden} is missing: run pytest {Path(__file__).name} --update-golden"
    expected = golden.read_text(encoding="utf-8")
    assert produced == expected, (
        f"{name} differs from tests/golden/{name}. If the change is intended, run "
        f"`pytest tests/unit/{Path(__file__).name} --update-golden` and review the diff.\n" + _diff(expected, produced, name)
    )


def test_golden_run_covers_every_feature(outcome) -> None:
    """The fixed snapshot exercises what the golden files are meant to pin."""
    report = outcome.report
    statuses = {f.status.value for f in report.findings}
    assert {"FAIL", "WARN", "PASS", "UNKNOWN", "NOT_APPLICABLE", "WAIVED", "MANUAL"} <= statuses
    assert report.summary.changes is not None and report.summary.changes.new and report.summary.changes.unchanged
    assert report.resolved and report.expired_waivers and report.stale_waivers
    assert any(f.answer for f in report.findings)


@pytest.mark.parametrize("render", [render_markdown, render_json, render_html], ids=["md", "json", "html"])
def test_output_depends_only_on_the_clock(tmp_path, render) -> None:
    """Same inventory, two clocks: the outputs differ only where the generation time is printed."""
    catalogue = load_catalogue()
    inventory = golden_estate.inventory("current")
    texts = []
    for hour in (9, 17):
        at = datetime(2026, 11, 1, hour, 0, tzinfo=timezone.utc)
        report = finish(inventory, ReportOptions(output_dir=tmp_path / str(hour), formats=("json",)), catalogue=catalogue, generated_at=at).report
        texts.append(render(report, catalogue))
    first, second = (t.splitlines() for t in texts)
    assert len(first) == len(second)
    changed = [(a, b) for a, b in zip(first, second) if a != b]
    assert changed, "the generation time is shown"
    for a, b in changed:
        assert a.replace("09:00", "17:00") == b, (a, b)


def test_html_with_every_section_is_well_formed(tmp_path) -> None:
    """Changes, questionnaire and waivers sections: balanced tags, hostile text escaped."""
    from tests.unit.test_render import _Balance

    golden_estate.run(tmp_path, formats=("html",))
    html = (tmp_path / "current" / "report.html").read_text(encoding="utf-8")
    for section in ('id="changes"', 'id="questionnaire"', 'id="waivers"', '<select name="change">'):
        assert section in html
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.problems == [] and parser.stack == []
    assert html.count("<script") == 1
    assert "<img" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
