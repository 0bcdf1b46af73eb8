"""flowlens sql is read-only: the probe's escapes (issue 14) are refused with exit
2 and nothing is written.

Each escape is a real attempt against a real data dir; after all of them every file in the data
dir is byte-identical and no target outside it exists. The same file-access guarantees hold on a
``flowlens.connect()`` connection, where only DuckDB's confinement stands (no statement filter).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from analysis_fixtures import analysed_https_server

import flowlens
from flowlens import sqlguard
from flowlens.cli import main
from flowlens.errors import UsageError


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An analysed data dir, and beside it a folder of files that must stay out of reach."""
    base = tmp_path_factory.mktemp("readonly")
    data = analysed_https_server(base / "data")
    outside = base / "outside"
    outside.mkdir()
    pq.write_table(pa.table({"secret": ["s3cr3t"]}), outside / "secret.parquet")
    (outside / "secret.csv").write_text("secret\ns3cr3t\n", encoding="utf-8")
    # a sibling whose name extends the data dir's: a prefix check without a separator would admit it
    evil = base / "data-evil"
    evil.mkdir()
    (evil / "secret.csv").write_text("secret\ns3cr3t\n", encoding="utf-8")
    (data / "link-out").symlink_to(
        outside, target_is_directory=True
    )  # DuckDB checks where it leads
    return data, outside


def _escapes(data: Path, outside: Path) -> list[str]:
    d, o = str(data.resolve()), str(outside.resolve())
    return [
        # file reads outside the data dir (DuckDB's confinement refuses them)
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd', sep = ':')",
        "SELECT content FROM read_text('/proc/self/environ')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM read_json('/etc/os-release')",
        f"SELECT * FROM read_parquet('{o}/secret.parquet')",
        f"SELECT * FROM parquet_metadata('{o}/secret.parquet')",
        f"SELECT * FROM '{o}/secret.csv'",
        f"FROM '{o}/secret.parquet'",
        "SELECT * FROM sniff_csv('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM glob('*')",  # relative: the working directory
        f"SELECT * FROM glob('{d}/../*')",
        f"SELECT * FROM read_csv('{d}/../outside/secret.csv')",
        f"SELECT * FROM read_csv('{d}-evil/secret.csv')",
        f"SELECT * FROM read_csv('{d}/link-out/secret.csv')",
        "WITH env AS (SELECT content FROM read_text('/proc/self/environ')) SELECT * FROM env",
        "DESCRIBE SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
        "SELECT * FROM enable_logging(storage = 'file', storage_path = '/tmp/flowlens-escape-log')",
        # writes, in and out of the data dir
        f"COPY (SELECT 1) TO '{d}/ingest_manifest.parquet' (FORMAT parquet)",
        f"COPY (SELECT 1) TO '{o}/written.csv'",
        f"COPY rule_usage TO '{d}/results/copy.csv'",
        "COPY rule_usage FROM '/etc/passwd'",
        f"EXPORT DATABASE '{d}/export'",
        f"IMPORT DATABASE '{o}'",
        f"ATTACH '{d}/attached.duckdb' AS a",
        "ATTACH ':memory:' AS scratch",
        "DETACH catalog",
        "INSTALL httpfs",
        "LOAD httpfs",
        "FORCE INSTALL json",
        # settings
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
        "RESET lock_configuration",
        "SET VARIABLE x = 1",
        "USE memory",
        f"PRAGMA profiling_output = '{d}/profile.json'",
        "PRAGMA enable_profiling",
        "PRAGMA database_size",
        "CALL enable_logging()",
        "CHECKPOINT",
        # DDL and DML
        "CREATE TABLE t AS SELECT 1 AS a",
        "CREATE OR REPLACE VIEW rule_usage AS SELECT 1 AS a",
        "CREATE MACRO leak() AS 1",
        "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
        "DROP VIEW rule_usage",
        "DELETE FROM rule_usage",
        "INSERT INTO rule_usage SELECT * FROM rule_usage",
        "UPDATE rule_usage SET flows = 0",
        "ALTER VIEW rule_usage RENAME TO ru",
        "VACUUM",
        "BEGIN TRANSACTION",
        "PREPARE p AS SELECT 1",
        "PIVOT rule_usage ON status",
        # multi-statements, comments and string tricks
        f"SELECT 1; COPY (SELECT 1) TO '{d}/multi.csv'",
        "SELECT 1; DROP VIEW rule_usage",
        f"/* SELECT */ COPY (SELECT 1) TO '{d}/comment.csv'",
        f"-- SELECT\nCOPY (SELECT 1) TO '{d}/comment2.csv'",
        f"COPY (SELECT ';SELECT 1') TO '{d}/string.csv'",
        f"COPY (SELECT $$ SELECT $$) TO '{d}/dollar.csv'",
        f"SELECT ';'; COPY (SELECT 1) TO '{d}/after-string.csv'",
        # EXPLAIN forms that would run or disguise a write
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{d}/ingest_manifest.parquet' (FORMAT parquet)",
        f"EXPLAIN COPY (SELECT 1) TO '{d}/explained.csv'",
        f"EXPLAIN (FORMAT json) COPY (SELECT 1) TO '{d}/explained.csv'",
        f"EXPLAIN /* x */ ANALYZE COPY (SELECT 1) TO '{d}/explained.csv'",
        "EXPLAIN ANALYZE SET threads = 1",
        "EXPLAIN ANALYZE INSTALL httpfs",
        "EXPLAIN ANALYZE SELECT * FROM read_csv('/etc/passwd')",
    ]


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        )
        for p in sorted(root.rglob("*"))
    }


def test_every_escape_is_refused_with_exit_2_and_nothing_is_written(
    world: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, outside = world
    escapes = _escapes(data, outside)
    # each single-statement escape is tried again under EXPLAIN ANALYZE (the probe's way in)
    tried = escapes + [
        f"EXPLAIN ANALYZE {e}" for e in escapes if not e.startswith("EXPLAIN") and ";" not in e
    ]
    before, outside_before = _snapshot(data), _snapshot(outside)
    capsys.readouterr()
    admitted = []
    for sql in tried:
        code = main(["sql", "--data-dir", str(data), sql])
        err = capsys.readouterr().err
        # refused: by the statement check ("read-only"), by DuckDB's confinement ("refused"), or
        # because DuckDB cannot parse it (EXPLAIN ANALYZE ATTACH is no statement): never run
        if code != 2 or not any(why in err for why in ("read-only", "refused", "cannot parse")):
            admitted.append((sql, code, err))
    assert [a[:2] for a in admitted] == [], "\n".join(
        f"{s!r}: {c}: {e[:200]}" for s, c, e in admitted
    )
    assert len(escapes) >= 50 and len(tried) >= 100
    assert _snapshot(data) == before
    assert _snapshot(outside) == outside_before
    assert not Path("/tmp/flowlens-escape-log").exists()
    # and the catalog still answers
    assert (
        main(
            [
                "sql",
                "--data-dir",
                str(data),
                "SELECT COUNT(*) AS n FROM rule_usage",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == "n\n1\n"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT rule_id FROM rule_usage",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "FROM rule_usage",
        "SHOW TABLES",
        "SHOW ALL TABLES",
        "DESCRIBE rule_usage",
        "SUMMARIZE rule_usage",
        "VALUES (1)",
        "PRAGMA table_info('findings')",
        "PRAGMA /* c */ table_info(findings)",
        "SELECT * FROM pragma_table_info('flows')",
        "EXPLAIN SELECT 1",
        "EXPLAIN ANALYZE SELECT COUNT(*) FROM flows",
        "EXPLAIN (FORMAT json) SELECT 1",
        "EXPLAIN ((SELECT 1))",
        "EXPLAIN DESCRIBE rule_usage",
        "SELECT ';' AS semicolon -- ; DROP VIEW flows",
    ],
)
def test_reads_are_accepted(
    world: tuple[Path, Path], sql: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlguard.check_read_only(sql)
    data, _ = world
    assert main(["sql", "--data-dir", str(data), sql]) == 0, capsys.readouterr().err


def test_files_inside_the_data_dir_stay_readable(
    world: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = world
    capsys.readouterr()
    sql = f"SELECT COUNT(*) AS n FROM read_parquet('{data.resolve()}/ingest_manifest.parquet')"
    assert main(["sql", "--data-dir", str(data), sql, "--format", "csv"]) in (
        0,
        1,
    )  # 1: no manifest in this world
    assert "refused" not in capsys.readouterr().err


def test_statement_kinds_are_decided_by_duckdb_not_by_text() -> None:
    # a name that starts like an accepted keyword is still what DuckDB parses it as
    for sql in [
        "PRAGMA table_infox('flows')",
        "EXPLAIN ANALYZE EXPLAIN ANALYZE SELECT 1",
        "pragma show_tables",
        "IMPORT DATABASE 'x'",
        "COPY FROM DATABASE a TO b",
    ]:
        with pytest.raises(UsageError):
            sqlguard.check_read_only(sql)
    with pytest.raises(UsageError, match="exactly one statement"):
        sqlguard.check_read_only("SELECT 1; SELECT 2")
    with pytest.raises(UsageError, match="cannot parse"):
        sqlguard.check_read_only("SELEC 1")


def test_connect_confines_file_access_and_locks_the_configuration(world: tuple[Path, Path]) -> None:
    data, outside = world
    before = _snapshot(data)
    con = flowlens.connect(data)
    try:
        assert con.execute("SELECT COUNT(*) FROM rule_usage").fetchone() == (1,)
        for sql in [
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT content FROM read_text('/proc/self/environ')",
            f"SELECT * FROM read_parquet('{outside}/secret.parquet')",
            "SELECT * FROM glob('/etc/*')",
            f"COPY (SELECT 1) TO '{outside}/written.csv'",
            "INSTALL httpfs",
            "LOAD httpfs",
            f"ATTACH '{outside}/x.duckdb'",
        ]:
            with pytest.raises((duckdb.PermissionException, duckdb.IOException)):
                con.execute(sql)
        for sql in [
            "SET enable_external_access = true",
            "SET allowed_directories = ['/']",
            "RESET lock_configuration",
            "SET lock_configuration = false",
        ]:
            with pytest.raises(duckdb.Error, match="locked"):
                con.execute(sql)
        with pytest.raises(duckdb.Error):  # the catalog is opened read-only
            con.execute("DROP VIEW rule_usage")
    finally:
        con.close()
    assert _snapshot(data) == before
    assert not (outside / "written.csv").exists()
