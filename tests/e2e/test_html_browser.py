"""report.html in a real browser: headless Chromium driven by Playwright.

A demo-like report (the golden estate with every check, waivers, answers and a baseline) must open
with no console error and no request but the file itself, keep hostile names as text, and its
filters must change what is visible. A screenshot is written to the test's temporary directory.

Needs a Chromium binary (Debian's `chromium`, /usr/bin/chromium; `.ci/run` installs it with apt):
Playwright's own browser download is not used. Without a binary the test is skipped.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from ecs_audit.catalogue import load_catalogue
from ecs_audit.findings import Status
from tests.support import golden_estate

pytestmark = pytest.mark.e2e


def chromium_binary() -> str | None:
    for candidate in (os.environ.get("ECS_AUDIT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("browser")
    outcome = golden_estate.run(directory, formats=("html",), catalogue=load_catalogue())
    return outcome.report, directory / "current" / "report.html"


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary (looked for /usr/bin/chromium and chromium on PATH): apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Page:
    """A page with everything it logged, requested and raised recorded."""

    def __init__(self, browser, path: Path):
        self.url = path.as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.context.on("request", lambda r: self.requests.append(r.url))
        # Anything but the report itself is refused (and recorded above).
        self.context.route("**/*", lambda route: route.continue_() if route.request.url == self.url else route.abort())
        self.page.goto(self.url, wait_until="load")

    def visible(self) -> int:
        """Listed result rows shown."""
        return self.page.locator("#rollups tr[data-s]:visible").count()

    def rows(self) -> int:
        return self.page.locator("#rollups tr[data-s]").count()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser, report_file):
    opened = Page(browser, report_file[1])
    yield opened
    opened.close()


LISTED = {Status.FAIL, Status.WARN, Status.UNKNOWN, Status.WAIVED, Status.MANUAL}


def _open_rollup(page, check_id: str):
    rollup = page.page.locator(f"#check-{check_id}")
    rollup.locator("summary").click()
    return rollup


def test_report_loads_cleanly(page, report_file) -> None:
    report, _ = report_file
    listed = [f for f in report.findings if f.status in LISTED]
    assert page.errors == []
    assert [c for c in page.console if c.startswith(("error", "warning"))] == []
    assert page.requests == [page.url], "the report must not load anything but itself"
    assert page.dialogs == [], "hostile names must never run as script"
    assert "ECS audit report" in page.page.title()
    # The script ran: the filter form is shown and reports what it shows.
    assert page.page.locator("#filters").is_visible()
    checks = {f.check_id for f in report.findings}
    shown = len({f.check_id for f in listed})
    assert page.page.locator("#filters .status-line").inner_text() == f"Showing {shown} checks, {len(listed)} of {len(listed)} listed results."
    assert page.rows() == len(listed)
    assert page.page.locator("details.rollup").count() == len(checks)
    # Hostile names are text: no element was injected, the text is on the page.
    assert page.page.locator("img").count() == 0
    assert page.page.locator("script").count() == 1
    assert page.page.get_by_text(golden_estate.PAYMENTS, exact=False).count() > 0
    for section in ("#summary", "#changes", "#findings", "#questionnaire", "#waivers", "#errors", "#owners"):
        assert page.page.locator(section).count() == 1, section
    # The first screen: grade (capped when a critical FAIL is open), what to fix first, the change.
    assert page.page.locator(".card.risks ol.risks li").count() >= 1
    if any(f.status is Status.FAIL and f.severity.value == "critical" for f in report.findings):
        assert report.summary.grade in ("D", "F") and "critical FAIL" in page.page.locator(".card.score").inner_text()
    assert page.page.locator(".card.change").is_visible()


def test_rollups_show_each_check_once_with_its_resources(page, report_file) -> None:
    report, _ = report_file
    by_check: dict[str, list] = {}
    for f in report.findings:
        by_check.setdefault(f.check_id, []).append(f)
    # Worst first: the first roll-up is a check with a FAIL; details open only on demand.
    first = page.page.locator("details.rollup").first
    assert first.get_attribute("data-worst") == "FAIL"
    assert page.page.locator("details.rollup[open]").count() == 0
    check_id, mine = max(by_check.items(), key=lambda kv: sum(1 for f in kv[1] if f.status in LISTED))
    rollup = _open_rollup(page, check_id)
    assert rollup.locator(".guidance").is_visible()
    assert rollup.locator("h5", has_text="How to fix").count() == 1, "guidance once per check"
    rows = rollup.locator("tr[data-s]")
    assert rows.count() == sum(1 for f in mine if f.status in LISTED)
    statuses = rows.evaluate_all("els => els.map(e => e.dataset.s)")
    ranks = [Status(s).rank for s in statuses]
    assert ranks == sorted(ranks, reverse=True), "FAIL/WARN first, then UNKNOWN..."
    passed = sum(1 for f in mine if f.status is Status.PASS)
    if passed:
        assert rollup.locator("details.passes summary").inner_text() == f"{passed} PASS"
    # A check whose results all pass is listed only on request.
    all_pass = [c for c, fs in by_check.items() if not any(f.status in LISTED for f in fs)]
    if all_pass:
        assert not page.page.locator(f"#check-{all_pass[0]}").is_visible()
        page.page.locator("#filters input[name=passing]").check()
        assert page.page.locator(f"#check-{all_pass[0]}").is_visible()


def test_filters_change_what_is_visible(page, report_file, tmp_path) -> None:
    from playwright.sync_api import expect

    report, _ = report_file
    listed = [f for f in report.findings if f.status in LISTED]
    total = len(listed)
    assert page.visible() == 0, "roll-ups start closed"
    page.page.locator("#filters button[data-action=expand]").click()
    assert page.visible() == total

    page.page.locator("#filters input[name=status][value=WARN]").uncheck()
    assert page.visible() == total - sum(1 for f in listed if f.status is Status.WARN)

    page.page.locator("#filters select[name=area]").select_option("SECURITY")
    security = [f for f in listed if f.area == "SECURITY" and f.status is not Status.WARN]
    assert page.visible() == len(security)
    shown_areas = page.page.locator("details.rollup:visible").evaluate_all("els => els.map(e => e.dataset.area)")
    assert set(shown_areas) == {"SECURITY"}

    page.page.locator("#filters button[type=reset]").click()
    # The page re-applies the filters just after the reset; no page-side waiting (the CSP forbids eval).
    expect(page.page.locator("#rollups tr[data-s]:visible")).to_have_count(total)

    page.page.locator("#filters select[name=change]").select_option("new")
    new = [f for f in listed if f.change == "new"]
    assert new and page.visible() == len(new)
    page.page.locator("#filters select[name=change]").select_option("")

    clusters = sorted({f.cluster for f in listed if f.cluster})
    page.page.locator("#filters select[name=cluster]").select_option(clusters[0])
    assert page.visible() == sum(1 for f in listed if f.cluster == clusters[0])
    page.page.locator("#filters select[name=cluster]").select_option("")

    services = sorted({f.resource.name for f in listed if f.resource.type == "AWS::ECS::Service"})
    page.page.locator("#filters select[name=service]").select_option(services[0])
    assert page.visible() == sum(1 for f in listed if f.resource.type == "AWS::ECS::Service" and f.resource.name == services[0])
    page.page.locator("#filters select[name=service]").select_option("")

    page.page.locator("#filters input[name=q]").fill("hyperlink")
    expect(page.page.locator("#rollups tr[data-s]:visible")).not_to_have_count(total)
    matching = page.visible()
    assert 0 < matching < total
    page.page.locator("#filters input[name=q]").fill("no such text anywhere")
    expect(page.page.locator("#no-match")).to_be_visible()
    assert page.visible() == 0
    page.page.locator("#filters input[name=q]").fill("")
    expect(page.page.locator("#rollups tr[data-s]:visible")).to_have_count(total)

    shot = tmp_path / "report.png"
    page.page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    assert page.errors == [] and page.dialogs == []
    assert page.requests == [page.url]


def test_owner_view_groups_and_filters_by_owner(page, report_file) -> None:
    report, _ = report_file
    listed = [f for f in report.findings if f.status in LISTED]
    owners = sorted({f.owner for f in report.findings if f.owner and f.status in {Status.FAIL, Status.WARN, Status.UNKNOWN}})
    assert owners, "the golden estate tags resources with an owner (Team)"
    table = page.page.locator("#owners table.owners tbody tr")
    assert table.count() == len(owners) + (1 if any(f.owner is None and f.status in {Status.FAIL, Status.WARN, Status.UNKNOWN} for f in report.findings) else 0)
    owner = owners[0]
    row = page.page.locator("#owners tbody tr").first
    fails = sum(1 for f in report.findings if f.owner == owner and f.status is Status.FAIL)
    assert row.locator("td").first.inner_text() == str(fails)
    assert owner in row.locator("th").inner_text(), "the hostile owner value is shown as text"
    page.page.locator("#filters button[data-action=expand]").click()
    page.page.locator("#filters select[name=owner]").select_option(owner)
    assert page.visible() == sum(1 for f in listed if f.owner == owner)
    assert page.page.locator("img").count() == 0 and page.dialogs == []


def test_area_chart_counts_fit_at_1366_pixels(browser, report_file) -> None:
    opened = Page(browser, report_file[1])
    try:
        opened.page.set_viewport_size({"width": 1366, "height": 900})
        overflow = opened.page.locator("svg.chart").evaluate(
            "svg => Array.from(svg.querySelectorAll('text.cnt')).map(t => t.getBBox().x + t.getBBox().width - svg.viewBox.baseVal.width)"
        )
        assert overflow and max(overflow) <= 0, "area counts cut off by the chart's edge"
        assert "AWS::::Account" not in opened.page.locator("body").inner_text()
    finally:
        opened.close()


def test_demo_prints_in_at_most_20_pages(browser, tmp_path) -> None:
    """The demo's report printed by Chromium: the summary and the FAIL/WARN roll-ups, at most 20 A4 pages."""
    import re
    import subprocess
    import sys

    out = tmp_path / "demo"
    done = subprocess.run([str(Path(sys.executable).with_name("ecs-audit")), "demo", "-o", str(out), "--format", "html", "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    opened = Page(browser, out / "report.html")
    try:
        pdf = opened.page.pdf(format="A4")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        text = opened.page.locator("body").inner_text()
    finally:
        opened.close()
    assert 1 < pages <= 20, f"the demo prints as {pages} pages"
    assert "fix first" in text.lower()
