"""Risk and the stated window rest on the days that were analysed, not on the
window asked for (issue 13)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from recommend_scenario import write_scenario

from flowlens.cli import main
from flowlens.datadir import DataDir
from flowlens.report import write_report

MISSING = [f"2026-11-{d:02d}" for d in range(14, 28)]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only 2026-11-28 is analysed."""
    return write_scenario(tmp_path_factory.mktemp("window") / "data").root


def _plan(scenario: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "plan.json"
    assert main(["recommend", "--data-dir", str(scenario), *args, "--out", str(out), "-q"]) == 0
    return json.loads(out.read_text())


def test_a_15_day_request_with_one_analysed_day_is_rated_as_one_day(
    scenario: Path, tmp_path: Path
) -> None:
    doc = _plan(scenario, tmp_path, "--start", "2026-11-14", "--end", "2026-11-28")
    w = doc["window"]
    assert (w["start"], w["end"], w["days"]) == ("2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", 1)
    assert w["requested"] == {"start": "2026-11-14", "end": "2026-11-28", "days": 15}
    assert w["missing_days"] == MISSING and w["analysed_days"] == ["2026-11-28"]
    ssh = next(r for r in doc["recommendations"] if r["rule_id"] == "sgr-ssh")
    assert ssh["risk"] == "medium"  # a narrowing is low on a long window: raised here
    assert ssh["evidence"]["window_days"] == 1
    assert "1 day analysed, fewer than 14" in ssh["risk_reason"]
    assert "14 of 15 days have no analysis: 2026-11-14..2026-11-27" in ssh["risk_reason"]


def test_missing_days_raise_the_risk_even_when_the_minimum_is_met(
    scenario: Path, tmp_path: Path
) -> None:
    whole = _plan(scenario, tmp_path, "--date", "2026-11-28", "--min-window-days", "1")
    gappy = _plan(
        scenario, tmp_path, "--start", "2026-11-27", "--end", "2026-11-28", "--min-window-days", "1"
    )
    risks = {r["rule_id"]: r["risk"] for r in whole["recommendations"]}
    raised = {r["rule_id"]: r["risk"] for r in gappy["recommendations"]}
    assert risks["sgr-ssh"] == "low" and raised["sgr-ssh"] == "medium"
    assert gappy["window"]["missing_days"] == ["2026-11-27"]
    reason = next(r["risk_reason"] for r in gappy["recommendations"] if r["rule_id"] == "sgr-ssh")
    assert reason.endswith("1 of 2 days has no analysis: 2026-11-27")


def test_the_missing_days_are_named_in_markdown(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.md"
    assert (
        main(
            [
                "recommend",
                "--data-dir",
                str(scenario),
                "--start",
                "2026-11-14",
                "--end",
                "2026-11-28",
                "--format",
                "md",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    md = out.read_text()
    assert "(1 day analysed)" in md
    assert (
        "14 of 15 days have no analysis: 2026-11-14..2026-11-27; those days give no evidence." in md
    )


def test_no_analysed_day_at_all_is_an_error_naming_the_command(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "recommend",
                "--data-dir",
                str(scenario),
                "--start",
                "2026-11-01",
                "--end",
                "2026-11-02",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "no analysis results for 2026-11-01..2026-11-02" in err
    assert "flowlens analyze --start 2026-11-01 --end 2026-11-02" in err


def test_the_report_names_the_days_without_analysis(scenario: Path, tmp_path: Path) -> None:
    days = [date(2026, 11, d) for d in range(14, 29)]
    paths = write_report(DataDir(scenario), days, tmp_path / "out")
    doc = json.loads(paths.json.read_text())
    assert doc["window"]["missing_days"] == MISSING and doc["window"]["analysed_days"] == [
        "2026-11-28"
    ]
    sentence = "14 of 15 days have no analysis: 2026-11-14..2026-11-27"
    assert sentence in paths.html.read_text()
    assert sentence in paths.markdown.read_text()
