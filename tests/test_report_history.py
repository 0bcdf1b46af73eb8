"""The report's rule history: a sparkline of daily use with its class, in HTML and Markdown.

The sample (tests/report_sample.py) holds rule_history as of 2026-11-28 over 28 analysed days:
sgr-web443 active, sgr-web22 periodic (weekly, with earlier days' flows 5, 6, 7 and 3 on the day),
sgr-webout never_used, sgr-db5432 stopped, and no row for sgr-evil. Expectations written from
that table before the code ran.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import report_sample as sample

from flowlens.datadir import DataDir
from flowlens.model.window import Window
from flowlens.report import ReportPaths, write_report
from flowlens.report.rule_history import RuleHistory, sparkline

DAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    base = tmp_path_factory.mktemp("history")
    return write_report(DataDir(sample.build(base / "data")), [DAY], base / "out")


def _svg(page: str, rule: str) -> str:
    found = re.findall(rf'<svg class="spark hist"[^>]*data-rule="{rule}">.*?</svg>', page)
    assert found, f"no history sparkline for {rule}"
    return found[0]


def test_each_rule_with_a_history_has_a_sparkline_with_its_words(report: ReportPaths) -> None:
    page = report.html.read_text()
    weekly = _svg(page, "sgr-web22")
    label = (
        "sgr-web22: used on 4 of 28 analysed days, first 2026-11-07, last 2026-11-28; "
        "periodic: every 7 days"
    )
    assert f'role="img" aria-label="{label}"' in weekly and f"<title>{label}</title>" in weekly
    # 28 analysed days drawn (the 62 days before them were not analysed: left out), 4 px each
    assert 'viewBox="0 0 112 20"' in weekly
    bars = re.findall(r'<rect class="on"[^>]*><title>([^<]*)</title>', weekly)
    assert bars == [
        "2026-11-07: 5 flows",
        "2026-11-14: 6 flows",
        "2026-11-21: 7 flows",
        "2026-11-28: 3 flows",
    ]
    assert len(re.findall(r'<rect class="off"', weekly)) == 24
    # the window (one day) on its band at the right end
    assert '<rect class="win" x="108" y="0" width="4" height="20"/>' in weekly
    assert "never used on the 28 analysed days up to 2026-11-28" in _svg(page, "sgr-webout")
    assert "stopped: silent for the last 18 analysed days" in _svg(page, "sgr-db5432")
    # in the rules table and in the group's rule table: twice per rule with a history
    assert page.count('<svg class="spark hist"') == 8
    assert 'data-rule="sgr-evil">' not in "".join(
        re.findall(r"<svg class=\"spark hist\".*?>", page)
    )


def test_the_class_sits_beside_the_sparkline_as_text(report: ReportPaths) -> None:
    page = report.html.read_text()
    cell = re.search(
        r'<span class="history">(?:(?!</svg>).)*data-rule="sgr-web22".*?</span></span>', page
    )
    assert cell is not None
    assert '<span class="badge hist-periodic">periodic</span>' in cell.group()
    assert "4/28 days · last 2026-11-28 · every 7 days" in cell.group()
    # the rules table sorts the history column by days used
    assert re.search(r'data-v="4" data-label="history"><span class="history">', page)


def test_summary_markdown_lists_class_and_days_used(report: ReportPaths) -> None:
    text = report.markdown.read_text()
    assert "| rule | group | dir | status | flows | history | days used | last used |" in text
    assert "| sgr-web22 | sg-web | ingress | used | 3 | periodic | 4 of 28 | 2026-11-28 |" in text
    assert "| sgr-webout | sg-web | egress | unused | 0 | never\\_used | 0 of 28 | – |" in text
    assert (
        "| sgr-db5432 | sg-db | ingress | no\\_coverage | 0 | stopped | 10 of 28 | 2026-11-10 |"
        in text
    )
    assert "| sgr-evil | sg-evil | ingress | no\\_members | 0 | – | – | – |" in text


def test_the_sparkline_escapes_what_it_is_given() -> None:
    evil = '"><script>alert(1)</script>'
    h = RuleHistory(evil, "active", DAY, 2, 1, DAY, DAY, 0, None, "_.#", {DAY: 9})
    svg = sparkline(h, Window.of([DAY]))
    assert "<script" not in svg
    words = "used on 1 of 2 analysed days, first 2026-11-28, last 2026-11-28; active"
    escaped = f"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;: {words}"
    assert f'aria-label="{escaped}" data-rule="&quot;&gt;&lt;script&gt;' in svg
    assert f"<title>{escaped}</title>" in svg
    # the day before (analysed, unused: a tick), the day (used), and the window's band over it
    assert svg.count("<rect") == 3 and '<rect class="win" x="4"' in svg


def test_results_without_rule_history_keep_the_window_bars(tmp_path: Path) -> None:
    root = sample.build(tmp_path / "data")
    (root / "results" / "date=2026-11-28" / "rule_history.parquet").unlink()
    paths = write_report(DataDir(root), [DAY], tmp_path / "out")
    page = paths.html.read_text()
    assert '<svg class="spark hist"' not in page
    assert '<svg class="spark"' in page  # the group tables' flows per window day, as before
    assert "| sgr-web22 | sg-web | ingress | used | 3 | – | – | – |" in paths.markdown.read_text()
