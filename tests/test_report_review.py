"""The report as a review tool, driven in real headless Chromium (Debian's) through Playwright.

At 1400 and 400 px: sorting and filtering change the rows shown, the search box finds a peer
address, a recommendation's evidence link lands on that rule's peers, hostile SG strings stay
text, nothing is fetched and nothing is logged as an error. Screenshots of both widths (the sample
and the demo day) go to ``reports/ci-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import report_sample as sample

from flowlens.datadir import DataDir
from flowlens.report import ReportPaths, write_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "reports" / "ci-artifacts"
WIDTHS = (1400, 400)

if CHROMIUM is None:
    pytest.skip(
        "chromium is not installed (apt-get install chromium; .ci/run installs it when missing)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the 'playwright' package (test extra) is not installed"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    base = tmp_path_factory.mktemp("review")
    return write_report(
        DataDir(sample.build(base / "data")), [date(2026, 11, 28)], base / "out", plan=sample.plan()
    )


class Page:
    """A loaded report page with what it logged and every request it tried to make."""

    def __init__(self, browser: Any, url: str, width: int) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)
        self.page.wait_for_load_state("load")

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def visible_rows(self, table_id: str) -> list[str]:
        return list(
            self.js(
                """id => Array.from(document.getElementById(id).tBodies[0].rows)
            .filter(r => !r.hidden)
            .map(r => r.getAttribute('data-rule') || r.cells[0].textContent.trim())""",
                table_id,
            )
        )

    def column(self, table_id: str, header: str) -> list[float]:
        return list(
            self.js(
                """([id, name]) => { const t = document.getElementById(id);
            const i = Array.from(t.tHead.rows[0].cells)
                .findIndex(c => c.textContent.trim().startsWith(name));
            return Array.from(t.tBodies[0].rows).filter(r => !r.hidden)
                .map(r => parseFloat(r.cells[i].getAttribute('data-v'))); }""",
                [table_id, header],
            )
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def page(request: pytest.FixtureRequest, browser: Any, report: ReportPaths) -> Iterator[Page]:
    p = Page(browser, report.html.as_uri(), request.param)
    yield p
    p.close()


def test_loads_without_errors_or_requests_and_is_screenshotted(
    page: Page, report: ReportPaths
) -> None:
    width = page.js("window.innerWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / f"sample-{width}px.png"), full_page=True)
    assert page.errors == []
    assert [
        u for u in page.requests if u != report.html.as_uri() and not u.startswith("data:")
    ] == []
    assert page.js("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    first = page.js("document.querySelector('main section').id")
    assert first == "recommendations", "the plan comes first"


def test_sorting_by_a_column_orders_the_rows(page: Page) -> None:
    header = page.page.locator("#rules-table th", has_text="flows").first
    header.click()
    ascending = page.column("rules-table", "flows")
    assert ascending == sorted(ascending) and len(ascending) == 5
    header.click()
    assert page.column("rules-table", "flows") == sorted(ascending, reverse=True)
    assert page.visible_rows("rules-table")[0].startswith("sgr-web443")


def test_a_table_filter_and_the_search_box_narrow_the_rows(page: Page) -> None:
    box = (
        page.page.locator("#rules-table")
        .locator("xpath=ancestor::div[@class='tbl']")
        .locator("input.tfilter")
    )
    box.fill("ssh")
    assert [r.split()[0] for r in page.visible_rows("rules-table")] == ["sgr-web22"]
    box.fill("")
    assert len(page.visible_rows("rules-table")) == 5
    page.page.fill("#search", "198.51.100.7")
    assert page.visible_rows("recs-table") == ["sgr-web22"]  # the narrowing proposes that address
    assert page.js("document.getElementById('sg-sg-web').open") is True  # its group's section opens
    assert page.js("document.getElementById('sg-sg-db').hidden") is True
    assert "matching rows" in page.page.inner_text("#search-status")
    page.page.fill("#search", "")
    assert (
        len(page.visible_rows("recs-table")) == 2
        and page.js("document.getElementById('sg-sg-db').hidden") is False
    )


def test_a_recommendations_evidence_link_lands_on_its_peers(page: Page) -> None:
    page.page.locator('#recs-table tr[data-rule="sgr-web22"] a.evlink').last.click()
    assert page.js("location.hash") == "#ev-sgr-web22"
    target = "document.getElementById('ev-sgr-web22')"
    assert page.js(f"{target}.open") is True
    peers = page.js(
        f"Array.from({target}.querySelectorAll('tbody tr')).map(r => r.cells[1].textContent)"
    )
    assert peers == ["198.51.100.7"]
    top = page.js(f"{target}.getBoundingClientRect().top")
    assert 0 <= top < page.js("window.innerHeight"), "the evidence is scrolled into view"


def test_hostile_security_group_strings_render_as_text(page: Page) -> None:
    assert page.js("window.__pwned") is None
    assert page.js("document.images.length") == 6  # the charts only: no injected <img>
    assert page.js("document.querySelectorAll('script').length") == 1  # the page's own
    section = page.page.locator("#sg-sg-evil")
    section.locator("summary").click()
    text = section.inner_text()
    assert sample.EVIL in text and sample.EVIL_ATTR in text and "Team=" + sample.EVIL_ATTR in text
    assert "[U+202E]txt.exe" in text and sample.RLO not in page.js("document.body.innerText")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flowlens.cli import main

    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    return out / "report.html"


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_day_screenshots(browser: Any, demo_report: Path, width: int) -> None:
    p = Page(browser, demo_report.as_uri(), width)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        p.page.screenshot(path=str(ARTIFACTS / f"demo-{width}px.png"))
        p.page.screenshot(path=str(ARTIFACTS / f"demo-{width}px-full.png"), full_page=True)
        assert p.errors == [] and p.js("document.documentElement.scrollWidth") <= width
        links = p.js(
            "Array.from(document.querySelectorAll('#recs-table a.evlink')).map(a "
            "=> a.getAttribute('href'))"
        )
        assert links and all(p.js("id => !!document.getElementById(id)", h[1:]) for h in links)
    finally:
        p.close()
