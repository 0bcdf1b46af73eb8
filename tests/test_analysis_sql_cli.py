"""flowlens sql: read-only, formats; flowlens analyze CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from analysis_fixtures import DAY, analysed_https_server

from flowlens.cli import main


@pytest.fixture
def analysed(tmp_path: Path) -> Path:
    return analysed_https_server(tmp_path / "data")


def test_analyze_json_summary(analysed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(["analyze", "--data-dir", str(analysed), "--date", DAY.isoformat(), "--json", "-q"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["days"][0]["rules"] == {"used": 1} and out["days"][0]["records"] == 2


def test_analyze_without_flows_fails_clearly(
    analysed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--data-dir", str(analysed), "--date", "2026-01-01", "-q"]) == 1
    assert "no flow records for 2026-01-01" in capsys.readouterr().err


def test_sql_json_has_numbers_and_iso_timestamps(
    analysed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    sql = "SELECT rule_id, flows, first_seen, date FROM rule_usage"
    assert main(["sql", "--data-dir", str(analysed), sql, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "rule_id": "sgr-https",
            "flows": 1,
            "first_seen": "2026-11-28T12:00:00+00:00",
            "date": "2026-11-28",
        }
    ]


def test_sql_csv_and_table(analysed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(
            [
                "sql",
                "--data-dir",
                str(analysed),
                "SELECT rule_id, status FROM rule_usage",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == "rule_id,status\nsgr-https,used\n"
    assert main(["sql", "--data-dir", str(analysed), "SELECT rule_id, status FROM rule_usage"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "rule_id    status",
        "---------  ------",
        "sgr-https  used",
        "(1 row)",
    ]


def test_sql_reads_stdin(
    analysed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT COUNT(*) AS n FROM conversations"))
    assert main(["sql", "--data-dir", str(analysed), "-", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 1}]


@pytest.mark.parametrize(
    "stmt",
    [
        "DELETE FROM flows",
        "DROP VIEW rule_usage",
        "COPY (SELECT 1) TO 'x.csv'",
        "ATTACH 'other.db'",
        "CREATE TABLE t AS SELECT 1",
        "SELECT 1; DROP VIEW flows",
        "INSTALL httpfs",
        "SET threads = 1",
    ],
)
def test_sql_refuses_writes(analysed: Path, capsys: pytest.CaptureFixture[str], stmt: str) -> None:
    capsys.readouterr()
    assert main(["sql", "--data-dir", str(analysed), stmt]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err
    assert (
        main(
            [
                "sql",
                "--data-dir",
                str(analysed),
                "SELECT COUNT(*) FROM rule_usage",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == "count_star()\n1\n"


def test_sql_allows_describe_show_and_table_info(
    analysed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for stmt in [
        "DESCRIBE rule_usage",
        "SHOW TABLES",
        "PRAGMA table_info('findings')",
        "EXPLAIN SELECT 1",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    ]:
        assert main(["sql", "--data-dir", str(analysed), stmt]) == 0, stmt


def test_sql_interactive_prompt(
    analysed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = iter(["SELECT 41 + 1 AS answer;", "DROP VIEW flows;", ".quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    capsys.readouterr()
    assert (
        main(["sql", "--data-dir", str(analysed), "--format", "csv"]) == 2
    )  # no TTY: exits with the refusal's code
    out = capsys.readouterr()
    assert "answer\n42" in out.out and "read-only" in out.err
