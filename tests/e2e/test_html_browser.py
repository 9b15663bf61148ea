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
        return self.page.locator("details.finding:visible").count()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser, report_file):
    opened = Page(browser, report_file[1])
    yield opened
    opened.close()


def test_report_loads_cleanly(page, report_file) -> None:
    report, _ = report_file
    assert page.errors == []
    assert [c for c in page.console if c.startswith(("error", "warning"))] == []
    assert page.requests == [page.url], "the report must not load anything but itself"
    assert page.dialogs == [], "hostile names must never run as script"
    assert "ECS audit report" in page.page.title()
    # The script ran: the filter form is shown and reports what it shows.
    assert page.page.locator("#filters").is_visible()
    assert page.page.locator("#filters .status-line").inner_text() == f"Showing all {len(report.findings)} results."
    assert page.page.locator("details.finding").count() == len(report.findings)
    # Hostile names are text: no element was injected, the text is on the page.
    assert page.page.locator("img").count() == 0
    assert page.page.locator("script").count() == 1
    assert page.page.get_by_text(golden_estate.PAYMENTS, exact=False).count() > 0
    for section in ("#summary", "#changes", "#findings", "#questionnaire", "#waivers", "#errors"):
        assert page.page.locator(section).count() == 1, section


def test_filters_change_what_is_visible(page, report_file, tmp_path) -> None:
    from playwright.sync_api import expect

    report, _ = report_file
    total = len(report.findings)
    by_status = Counter(f.status for f in report.findings)
    status_line = page.page.locator("#filters .status-line")
    assert page.visible() == total

    page.page.locator("#filters input[name=status][value=PASS]").uncheck()
    assert page.visible() == total - by_status[Status.PASS]
    assert status_line.inner_text() == f"Showing {total - by_status[Status.PASS]} of {total} results."

    page.page.locator("#filters select[name=area]").select_option("SECURITY")
    security = [f for f in report.findings if f.area == "SECURITY" and f.status is not Status.PASS]
    assert page.visible() == len(security)
    areas = page.page.locator("details.finding:visible").evaluate_all("els => els.map(e => e.dataset.area)")
    assert set(areas) == {"SECURITY"}

    page.page.locator("#filters button[type=reset]").click()
    # The page re-applies the filters just after the reset; no page-side waiting (the CSP forbids eval).
    expect(page.page.locator("details.finding:visible")).to_have_count(total)

    page.page.locator("#filters select[name=change]").select_option("new")
    new = [f for f in report.findings if f.change == "new"]
    assert new and page.visible() == len(new)
    page.page.locator("#filters select[name=change]").select_option("")

    page.page.locator("#filters input[name=q]").fill("hyperlink")
    matching = page.visible()
    assert 0 < matching < total
    page.page.locator("#filters input[name=q]").fill("no such text anywhere")
    assert page.visible() == 0
    assert page.page.locator("#no-match").is_visible()
    page.page.locator("#filters input[name=q]").fill("")
    assert page.visible() == total

    page.page.locator("#filters input[name=status][value=MANUAL]").uncheck()
    page.page.locator("#filters button[data-action=expand]").click()
    shot = tmp_path / "report.png"
    page.page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    assert page.errors == [] and page.dialogs == []
    assert page.requests == [page.url]
