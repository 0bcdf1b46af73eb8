"""The HTML report in a real headless browser (Debian's chromium):
renders, images load, no errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import report_sample as sample

from flowlens.datadir import DataDir
from flowlens.report import ReportPaths, write_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)

# The test's own probe (the report itself has no JavaScript): after load, record every image's
# state, every error event and every resource the page fetched into a <pre> that --dump-dom prints.
PROBE = """
<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push(
    String(e.message || (e.target && (e.target.src || e.target.href)) || 'error'));
}, true);
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {complete: i.complete, width: i.naturalWidth, height: i.naturalHeight};
  });
  var fetched = performance.getEntriesByType('resource').map(function (r) { return r.name; });
  var out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = JSON.stringify({images: imgs, errors: window.__errors, fetched: fetched});
  document.body.appendChild(out);
});
</script>
"""


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    if CHROMIUM is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium; .ci/run installs it when missing)"
        )
    base = tmp_path_factory.mktemp("browser")
    return write_report(
        DataDir(sample.build(base / "data")), [date(2026, 11, 28)], base / "out", plan=sample.plan()
    )


def test_screenshot_is_not_blank(report: ReportPaths, tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    proc = _chromium(
        [f"--screenshot={shot}", "--window-size=1280,2000", report.html.as_uri()], tmp_path / "p"
    )
    assert shot.is_file(), proc.stderr[-2000:]
    pixels = mpimg.imread(str(shot))
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1280
    assert float(pixels.std()) > 0.05, "the screenshot is (nearly) one colour"
    assert "CONSOLE" not in proc.stderr or not re.search(
        r"CONSOLE.*(error|Uncaught)", proc.stderr, re.I
    )


def test_every_image_loads_without_errors_or_fetches(report: ReportPaths, tmp_path: Path) -> None:
    page = report.html.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"  # beside nothing: the report must need no other file
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(["--dump-dom", "--virtual-time-budget=10000", probe.as_uri()], tmp_path / "p")
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"probe did not run: {proc.stderr[-2000:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(result["images"]) == 6
    assert all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in result["images"]), (
        result["images"]
    )
    assert result["errors"] == []
    assert [u for u in result["fetched"] if not u.startswith("data:")] == []
    console_errors = [
        ln
        for ln in proc.stderr.splitlines()
        if "CONSOLE" in ln and re.search(r"error|uncaught", ln, re.I)
    ]
    assert console_errors == []
