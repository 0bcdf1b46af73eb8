"""The report directory rendered from a tiny data dir written straight from the table contracts."""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import report_sample as sample

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.errors import InputError
from flowlens.model.results import RESULT_SCHEMAS
from flowlens.report import ReportPaths, write_report

DAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    base = tmp_path_factory.mktemp("report")
    return write_report(
        DataDir(sample.build(base / "data")), [DAY], base / "out", plan=sample.plan()
    )


def test_every_file_is_written(report: ReportPaths) -> None:
    names = {p.name for p in report.directory.iterdir()}
    assert {"report.html", "summary.md", "report.json"} <= names
    assert {p.name for p in report.charts} == {
        "traffic.png",
        "rejected.png",
        "rule_status.png",
        "rule_flows.png",
        "exposure.png",
        "coverage.png",
    }
    for png in report.charts:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [n for n in names if n.startswith(".")], "no temp files left behind"


def test_json_holds_the_expected_numbers(report: ReportPaths) -> None:
    doc = json.loads(report.json.read_text())
    assert doc["schema"] == "flowlens.report/1"
    assert doc["window"] == {
        "start": "2026-11-28T00:00:00Z",
        "end": "2026-11-29T00:00:00Z",
        "days": 1,
        "analysed_days": ["2026-11-28"],
        "missing_days": [],
    }
    head = doc["headline"]
    assert (
        head["flow_records"],
        head["accepted_records"],
        head["rejected_records"],
        head["nodata_records"],
    ) == (61, 48, 12, 1)
    assert (
        head["rules_used"],
        head["rules_unused"],
        head["rules_no_coverage"],
        head["rules_no_members"],
    ) == (2, 1, 1, 1)
    assert (
        head["findings"],
        head["recommendations"],
        head["flows_checked"],
        head["flows_cut"],
    ) == (2, 2, 48, 0)
    causes = {c["cause"]: c["records"] for c in doc["rejected"]["by_cause"]}
    assert causes == {"sg": 6, "nacl": 3, "late_packet": 3}
    assert doc["rejected"]["top_sources"][0]["label"] == "203.0.113.9"
    assert sum(b["accept_flows"] for b in doc["traffic"]["bins"]) == 48
    assert doc["traffic"]["bin_seconds"] == 900
    ingest = doc["ingest"]
    assert (ingest["objects"], ingest["rows"], ingest["quarantined"], ingest["failed"]) == (
        3,
        61,
        2,
        1,
    )
    assert doc["coverage"]["by_class"] == {"ALL": 1, "ACCEPT-only": 1, "REJECT-only": 0, "none": 1}


def test_exposure_before_and_after_the_plan(report: ReportPaths) -> None:
    exp = json.loads(report.json.read_text())["exposure"]
    # ingress: 0.0.0.0/0 on 443 and 22, plus sg-web (1 address) on 5432; the
    # plan narrows 22 to a /32
    assert exp["before"]["ingress_ipv4"] == 2 * 2**32 + 1
    assert exp["after"]["ingress_ipv4"] == 2**32 + 1 + 1
    assert exp["before"]["egress_ipv4"] > 0 and exp["after"]["egress_ipv4"] == 0
    assert exp["before"]["ingress_ipv6"] == exp["after"]["ingress_ipv6"] == 2**128


def test_summary_markdown(report: ReportPaths) -> None:
    text = report.markdown.read_text()
    assert "**Flow records analysed:** 61 (48 accepted, 12 rejected)" in text
    assert "48 flows checked, 0 cut" in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_aws_values_are_escaped_everywhere(report: ReportPaths) -> None:
    page = report.html.read_text()
    assert (
        page.lower().count("<script") == 1 and "<script>\n// flowlens report" in page
    )  # the page's own only
    assert (
        "<img src=x" not in page and "\u202e" not in page
    )  # attribute break-out; the override is shown as [U+202E]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Owner=&lt;script&gt;" in page  # the tag value, as text


def _references(page: str) -> list[str]:
    """Every src/href/action attribute of the page's elements (text that looks like one is not)."""
    found: list[str] = []

    class Refs(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(
                v or "" for k, v in attrs if k in ("src", "href", "action", "srcset", "poster")
            )

    Refs().feed(page)
    return found


def test_html_fetches_nothing_from_the_network(report: ReportPaths) -> None:
    page = report.html.read_text()
    refs = _references(page)
    assert refs, "the page has images and TOC links"
    assert all(r.startswith(("#", "data:image/png;base64,")) for r in refs), refs
    assert "@import" not in page and "url(" not in page
    assert page.count('<img src="data:image/png;base64,') == 6


def test_headline_and_contents_are_in_the_page(report: ReportPaths) -> None:
    page = report.html.read_text()
    for section in (
        "traffic",
        "rejected",
        "rules",
        "exposure",
        "coverage",
        "findings",
        "recommendations",
        "groups",
        "ingest",
    ):
        assert f'href="#{section}"' in page and f'id="{section}"' in page
    assert "48 / 0" in page and "How to read this." in page


def test_analysis_results_without_data_give_no_data_panels(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "nothing")
    sample._write([], RESULT_SCHEMAS["rule_usage"], dd.results_dir(DAY) / "rule_usage.parquet")
    paths = write_report(dd, [DAY], tmp_path / "out")
    page = paths.html.read_text()
    assert paths.charts == ()
    assert page.count('class="nodata"') >= 6
    doc = json.loads(paths.json.read_text())
    assert doc["headline"]["flow_records"] == 0 and doc["verification"] is None


def test_cli_writes_the_default_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample.build(tmp_path / "data")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(sample.plan()))
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "report",
                "--data-dir",
                str(data),
                "--date",
                "2026-11-28",
                "--plan",
                str(plan),
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["html"] == "reports/2026-11-28/report.html"
    assert (tmp_path / "reports" / "2026-11-28" / "report.json").is_file()


def test_a_bad_plan_file_is_an_input_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample.build(tmp_path / "data")
    plan = tmp_path / "plan.json"
    plan.write_text("{not json")
    with pytest.raises(InputError, match=r"plan.json:1: not valid JSON"):
        write_report(DataDir(data), [DAY], tmp_path / "out", plan=plan)
    assert (
        main(
            [
                "report",
                "--data-dir",
                str(data),
                "--date",
                "2026-11-28",
                "--plan",
                str(plan),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "plan.json" in capsys.readouterr().err


def test_without_a_plan_the_recommendations_table_feeds_exposure(tmp_path: Path) -> None:
    paths = write_report(DataDir(sample.build(tmp_path / "data")), [DAY], tmp_path / "out")
    doc = json.loads(paths.json.read_text())
    assert doc["verification"] is None and doc["headline"]["flows_checked"] is None
    assert [r["rule_id"] for r in doc["recommendations"]] == ["sgr-web22", "sgr-webout"]
    assert doc["exposure"]["after"]["ingress_ipv4"] == 2**32 + 2
    assert "no plan given" in paths.html.read_text()
