"""catalog.duckdb works from any directory and follows a moved data directory (issue 13).

The sample data dir (tests/report_sample.py) has 61 flow records and 8 rule_usage rows (5 on the
day, 3 of earlier days behind a sparkline).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import report_sample as sample

import flowlens
from flowlens.cli import main

COUNTS = "SELECT (SELECT COUNT(*) FROM flows) AS flows, (SELECT COUNT(*) FROM rule_usage) AS rules"


@pytest.fixture
def made_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir made as the default ./flowlens-data would be: by a
    relative path, from its parent."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    sample.build(Path("flowlens-data"))
    assert main(["catalog", "--refresh", "--data-dir", "flowlens-data", "-q"]) == 0
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return tmp_path / "work" / "flowlens-data"


def _sql(data_dir: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, int]]:
    capsys.readouterr()
    assert main(["sql", "--data-dir", data_dir, COUNTS, "--format", "json", "-q"]) == 0
    rows: list[dict[str, int]] = json.loads(capsys.readouterr().out)
    return rows


def test_flowlens_sql_works_from_another_directory_with_a_relative_data_dir(
    made_here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sql("../work/flowlens-data", capsys) == [{"flows": 61, "rules": 8}]


def test_any_duckdb_client_opens_the_catalog_from_another_directory(made_here: Path) -> None:
    con = duckdb.connect("../work/flowlens-data/catalog.duckdb", read_only=True)
    try:
        assert con.execute(COUNTS).fetchone() == (61, 8)
    finally:
        con.close()


def test_a_moved_data_dir_answers_after_catalog_refresh(
    made_here: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = tmp_path / "moved" / "data"
    moved.parent.mkdir()
    shutil.move(made_here, moved)
    stale = duckdb.connect(str(moved / "catalog.duckdb"), read_only=True)
    with pytest.raises(duckdb.IOException):  # its views still read the old place
        stale.execute(COUNTS).fetchone()
    stale.close()
    capsys.readouterr()
    assert main(["catalog", "--data-dir", str(moved)]) == 0
    assert "run 'flowlens catalog --refresh'" in capsys.readouterr().out
    assert main(["catalog", "--refresh", "--data-dir", str(moved), "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["current"] is True
    con = duckdb.connect(str(moved / "catalog.duckdb"), read_only=True)
    try:
        assert con.execute(COUNTS).fetchone() == (61, 8)
    finally:
        con.close()


def test_flowlens_connect_and_sql_repair_a_moved_catalog_themselves(
    made_here: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = tmp_path / "moved"
    shutil.move(made_here, moved)
    con = flowlens.connect(moved)
    try:
        assert con.execute(COUNTS).fetchone() == (61, 8)
    finally:
        con.close()
    again = tmp_path / "again"
    shutil.move(moved, again)
    assert _sql(str(again), capsys) == [{"flows": 61, "rules": 8}]


def test_catalog_on_a_missing_data_dir_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "--refresh", "--data-dir", str(tmp_path / "nope")]) == 2
    assert "no flowlens data directory" in capsys.readouterr().err


def test_a_second_connect_in_the_process_sees_the_catalog_as_it_is_now(
    made_here: Path, tmp_path: Path
) -> None:
    """A notebook keeps its first connection open while the data dir changes under it: the next
    flowlens.connect() of the same path must read the catalog now on disk (DuckDB caches a database
    instance per path, so a plain re-open would return the first one, stale and already
    confined)."""
    first = flowlens.connect(made_here)
    try:
        assert first.execute(COUNTS).fetchone() == (61, 8)
        groups = first.execute("SELECT count(*) FROM security_groups").fetchone()
        # a new inventory snapshot: the catalog is rewritten, its inventory views read the new one
        assert groups is not None and groups[0] > 0
        inv = tmp_path / "inv"
        inv.mkdir()
        (inv / "describe-security-groups.json").write_text(json.dumps({"SecurityGroups": []}))
        assert main(["inventory", "--from-json", str(inv), "--data-dir", str(made_here), "-q"]) == 0
        second = flowlens.connect(made_here)
        try:
            assert second.execute("SELECT count(*) FROM security_groups").fetchone() == (0,)
            assert second.execute(COUNTS).fetchone() == (61, 8)
        finally:
            second.close()
        # the first keeps the catalog it opened, as any open reader does (docs/concurrency.md)
        assert first.execute("SELECT count(*) FROM security_groups").fetchone() == groups
        # another data dir at the same path (restored from a backup, rebuilt): the new one answers
        made_here.rename(tmp_path / "old-data")
        made_here.mkdir()
        assert main(["catalog", "--refresh", "--data-dir", str(made_here), "-q"]) == 0
        third = flowlens.connect(made_here)
        try:
            assert third.execute(COUNTS).fetchone() == (0, 0)
        finally:
            third.close()
    finally:
        first.close()
